from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from accounts.models import Role, User
from coaches.directory import page_start, stable_shuffle
from coaches.models import CoachProfile
from engagements.models import Program
from tests import factories
from tests.coaches.conftest import enrol, pool
from tests.responses import ClientResponse

pytestmark = pytest.mark.django_db
URL = reverse("directory")
CARD_ID = re.compile(r'id="coach-([0-9a-f-]{36})"')


def shown(response: ClientResponse) -> list[str]:
    assert response.status_code == 200, response.content.decode()[:500]
    return CARD_ID.findall(response.content.decode())


def test_shows_three_cards_with_photo_or_initials_headline_specialties_languages_and_bio(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    coaches = pool(program, 3, user__full_name="Ada Lovelace", headline="Calm under pressure")
    leadership = factories.SpecialtyFactory(name="Leadership")
    french = factories.LanguageFactory(code="fr", name="French")
    for coach in coaches:
        coach.specialties.add(leadership)
        coach.languages.add(french)
    client.force_login(engagement.participant)

    body = client.get(URL).content.decode()

    assert len(CARD_ID.findall(body)) == 3
    assert body.count('<span class="avatar" aria-hidden="true">AL</span>') == 3
    assert "Calm under pressure" in body
    assert "Leadership" in body and "French" in body and "Europe/Paris" in body
    assert "<details" in body and coaches[0].bio in body
    assert body.count('/select/" class="coach-select"') == 3


def test_leaves_out_inactive_not_accepting_and_full_coaches(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    available = pool(program, 2)
    inactive, not_accepting, full = pool(program, 3, capacity=1)
    User.objects.filter(pk=inactive.user_id).update(is_active=False)
    CoachProfile.objects.filter(pk=not_accepting.pk).update(accepting_new=False)
    # The one seat is taken in another program: capacity counts across programs.
    factories.engagement_with_coach(coach=full)
    outside_pool = factories.CoachFactory()
    client.force_login(engagement.participant)

    ids = shown(client.get(URL))

    assert sorted(ids) == sorted(str(c.public_id) for c in available)
    assert str(outside_pool.public_id) not in ids


def test_a_coach_with_released_or_finished_engagements_still_has_room(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    (coach,) = pool(program, 1, capacity=1)
    done = factories.engagement_with_coach(coach=coach)
    done.transition_to("completed")
    client.force_login(engagement.participant)

    assert shown(client.get(URL)) == [str(coach.public_id)]


def test_order_is_stable_across_requests(client: Client, program: Program) -> None:
    engagement = enrol(program)
    pool(program, 12)
    client.force_login(engagement.participant)

    first = shown(client.get(URL))

    assert len(first) == 3
    assert all(shown(client.get(URL)) == first for _ in range(3))


def test_order_differs_between_participants(client: Client, program: Program) -> None:
    pool(program, 12)
    pages = set()
    for _ in range(6):
        client.force_login(enrol(program).participant)
        pages.add(tuple(shown(client.get(URL))))
    # Six participants all getting the same three of twelve in the same order
    # would happen by chance with probability (1/1320)**5.
    assert len(pages) > 1


def _position(response: ClientResponse) -> str:
    match = re.search(r'<h2 class="directory-position">([^<]*)</h2>', response.content.decode())
    return match.group(1) if match else ""


def test_other_coaches_says_where_you_are_and_stops_at_the_end(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    coaches = pool(program, 7)
    client.force_login(engagement.participant)

    first = client.get(URL)
    page1 = shown(first)
    second = client.get(URL, {"exclude": page1})
    page2 = shown(second)
    third = client.get(URL, {"exclude": page2})
    page3 = shown(third)

    assert [_position(r) for r in (first, second, third)] == [
        "Coaches 1–3 of 7",
        "Coaches 4–6 of 7",
        "Coach 7 of 7",
    ]
    assert len(page3) == 1, "the list does not wrap around to fill the last page"
    assert set(page1) | set(page2) | set(page3) == {str(c.public_id) for c in coaches}
    for response in (first, second):
        assert "Show me other coaches" in response.content.decode()
    end = third.content.decode()
    assert "Show me other coaches" not in end
    assert "That is the end of the list: you have seen all 7 coaches." in end
    assert f'<a class="button button-secondary" href="{URL}">Start again</a>' in end
    assert shown(client.get(URL)) == page1


def test_past_the_end_the_page_offers_to_start_again(client: Client, program: Program) -> None:
    engagement = enrol(program)
    pool(program, 6)
    client.force_login(engagement.participant)
    page1 = shown(client.get(URL))
    page2 = shown(client.get(URL, {"exclude": page1}))

    response = client.get(URL, {"exclude": page2})

    assert response.status_code == 200 and shown(response) == []
    body = response.content.decode()
    assert "you have seen all 6 coaches" in body and "Start again" in body
    assert "No coach with room" not in body


def test_one_page_of_coaches_offers_neither_more_nor_start_again(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    pool(program, 2)
    client.force_login(engagement.participant)

    response = client.get(URL)

    assert _position(response) == "Coaches 1–2 of 2"
    body = response.content.decode()
    assert "Show me other coaches" not in body and "Start again" not in body


def test_the_next_page_follows_the_last_coach_seen_even_if_that_coach_filled_up(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    pool(program, 7)
    client.force_login(engagement.participant)
    page1 = shown(client.get(URL))
    page2 = shown(client.get(URL, {"exclude": page1}))
    # The third coach shown takes no one new before the participant asks for more.
    CoachProfile.objects.filter(public_id=page1[2]).update(accepting_new=False)

    response = client.get(URL, {"exclude": page1})

    assert shown(response) == page2
    assert _position(response) == "Coaches 3–5 of 6"


def test_start_again_keeps_the_filter(client: Client, program: Program) -> None:
    engagement = enrol(program)
    french = factories.LanguageFactory(code="fr", name="French")
    for coach in pool(program, 4):
        coach.languages.add(french)
    client.force_login(engagement.participant)
    page1 = shown(client.get(URL, {"language": "fr"}))

    end = client.get(URL, {"language": "fr", "exclude": page1}).content.decode()

    assert 'href="?language=fr">Start again</a>' in end


def test_other_coaches_link_carries_the_three_shown(client: Client, program: Program) -> None:
    engagement = enrol(program)
    pool(program, 5)
    client.force_login(engagement.participant)

    response = client.get(URL)

    expected = "&amp;".join(f"exclude={coach_id}" for coach_id in shown(response))
    assert f'href="?{expected}"' in response.content.decode()


def test_page_start_follows_the_last_coach_seen_by_its_place_in_the_order() -> None:
    participant = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(6)]
    ordered = stable_shuffle(participant, ids)
    assert page_start(participant, ordered, []) == 0
    assert page_start(participant, ordered, ordered[:3]) == 3
    assert page_start(participant, ordered, [ordered[4], ordered[1]]) == 5
    # A coach seen who has left the pool still marks the place.
    remaining = [i for i in ordered if i != ordered[2]]
    assert page_start(participant, remaining, ordered[:3]) == 2
    assert page_start(participant, [], ordered[:3]) == 0


@pytest.mark.parametrize(
    "excludes",
    [
        [str(uuid.uuid4()) for _ in range(4)],
        ["not-a-uuid"],
        [""],
        [str(uuid.uuid4()), "1; DROP TABLE"],
    ],
    ids=["four-ids", "not-a-uuid", "empty", "one-bad-of-two"],
)
def test_malformed_excludes_get_a_400_with_a_clear_message(
    client: Client, program: Program, excludes: list[str]
) -> None:
    engagement = enrol(program)
    pool(program, 5)
    client.force_login(engagement.participant)

    response = client.get(URL, {"exclude": excludes})

    assert response.status_code == 400
    body = response.content.decode()
    assert "That address is not valid" in body
    assert "at most 3" in body or "not valid" in body
    assert 'href="/coaches/"' in body


def test_filters_by_language_and_specialty_offered_from_the_pool(
    client: Client, program: Program
) -> None:
    engagement = enrol(program)
    french, german = (
        factories.LanguageFactory(code="fr", name="French"),
        factories.LanguageFactory(code="de", name="German"),
    )
    factories.LanguageFactory(code="ja", name="Japanese")
    careers = factories.SpecialtyFactory(name="Career")
    a, b, c = pool(program, 3)
    a.languages.add(french)
    b.languages.add(french, german)
    b.specialties.add(careers)
    c.languages.add(german)
    outsider = factories.CoachFactory()
    outsider.languages.add(factories.LanguageFactory(code="ja", name="Japanese"))
    client.force_login(engagement.participant)

    body = client.get(URL).content.decode()
    assert '<option value="fr">French</option>' in body
    assert '<option value="de">German</option>' in body
    assert "Japanese" not in body
    assert f'<option value="{careers.pk}">Career</option>' in body

    assert sorted(shown(client.get(URL, {"language": "fr"}))) == sorted(
        [str(a.public_id), str(b.public_id)]
    )
    assert shown(client.get(URL, {"language": "de", "specialty": str(careers.pk)})) == [
        str(b.public_id)
    ]


def test_an_unknown_filter_value_is_explained_and_ignored(client: Client, program: Program) -> None:
    engagement = enrol(program)
    pool(program, 2)
    client.force_login(engagement.participant)

    response = client.get(URL, {"language": "xx"})

    assert len(shown(response)) == 2
    assert "Select a valid choice" in response.content.decode()


def test_other_coaches_keeps_the_filter(client: Client, program: Program) -> None:
    engagement = enrol(program)
    french = factories.LanguageFactory(code="fr", name="French")
    for coach in pool(program, 5):
        coach.languages.add(french)
    client.force_login(engagement.participant)

    response = client.get(URL, {"language": "fr"})

    assert 'href="?language=fr&amp;exclude=' in response.content.decode()


def _bulk_pool(program: Program, n: int) -> None:
    users = User.objects.bulk_create(
        User(email=f"bulk{i}@coaches.example", full_name=f"Coach {i}", role=Role.COACH)
        for i in range(n)
    )
    coaches = CoachProfile.objects.bulk_create(
        CoachProfile(user=user, headline="Coach", booking_url="https://cal.example.com/x")
        for user in users
    )
    program.coaches.add(*coaches)
    language = factories.LanguageFactory(code="en", name="English")
    language.coaches.add(*coaches)


@pytest.mark.parametrize("size", [5, 500])
def test_directory_query_count_does_not_grow_with_the_pool(
    client: Client, program: Program, size: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    engagement = enrol(program)
    _bulk_pool(program, size)
    client.force_login(engagement.participant)
    client.get(URL)  # the session is loaded and the user fetched, as on every request

    # engagement, the pool's ids (computed once), its languages and specialties
    # (one query), the filtered page's ids, the cards, and their specialties and
    # languages (one query); the session and the user come from the cache
    with django_assert_num_queries(6):
        assert len(shown(client.get(URL, {"language": "en"}))) == 3
    # Unfiltered, the pool's ids are the list: no query for the page's ids.
    with django_assert_num_queries(5):
        assert len(shown(client.get(URL))) == 3


def test_participant_without_a_running_program_is_told_so(client: Client) -> None:
    participant = factories.UserFactory(role=Role.PARTICIPANT)
    client.force_login(participant)

    response = client.get(URL)

    assert response.status_code == 200
    assert "not enrolled in a running coaching program" in response.content.decode()


def test_participant_with_a_coach_sees_the_coach_instead_of_cards(
    client: Client, program: Program
) -> None:
    (coach,) = pool(program, 1)
    engagement = factories.engagement_with_coach(coach=coach, program=program)
    pool(program, 3)
    client.force_login(engagement.participant)

    response = client.get(URL)

    assert shown(response) == []
    assert f"You work with <strong>{coach.user.full_name}</strong>" in response.content.decode()


def test_only_participants_see_the_directory(
    client: Client, coach: CoachProfile, staff: User
) -> None:
    assert client.get(URL).status_code == 302
    for user in (coach.user, staff):
        client.force_login(user)
        assert client.get(URL).status_code == 404
