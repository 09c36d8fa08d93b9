"""The closing survey: completed engagements only, the participant only, once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from accounts.models import AuditEvent, Role
from engagements.models import Engagement, Status
from feedback.models import ClosingSurvey
from feedback.selectors import (
    SurveyAlreadyAnswered,
    SurveyNotOpen,
    closing_survey_due,
    closing_survey_refusal,
)
from feedback.services import closing_survey_submit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(engagement: Engagement) -> Engagement:
    engagement.transition_to(Status.COMPLETED)
    return engagement


def url(engagement: Engagement) -> str:
    return f"/engagements/{engagement.public_id}/survey/"


def test_participant_answers_the_survey_of_a_completed_engagement(
    client: Client, completed: Engagement
) -> None:
    client.force_login(completed.participant)
    page = client.get(url(completed))
    body = page.content.decode()
    assert page.status_code == 200
    assert "How likely are you to recommend coaching to a colleague?" in body
    assert 'for="id_what_changed"' in body and " style=" not in body
    response = client.post(url(completed), {"recommend_score": "9", "what_changed": "Calmer."})
    assert response.status_code == 302
    survey = ClosingSurvey.objects.get(engagement=completed)
    assert (survey.recommend_score, survey.what_changed) == (9, "Calmer.")
    event = AuditEvent.objects.get(action="feedback.closing_survey")
    assert event.after == {"recommend_score": 9}  # the free text stays out of the audit trail


def test_the_survey_is_answered_once(client: Client, completed: Engagement) -> None:
    client.force_login(completed.participant)
    client.post(url(completed), {"recommend_score": "9"})
    response = client.post(url(completed), {"recommend_score": "2", "what_changed": "Again"})
    assert response.status_code == 409
    assert "You have already answered the closing survey." in response.content.decode()
    assert ClosingSurvey.objects.get(engagement=completed).recommend_score == 9
    page = client.get(url(completed)).content.decode()
    assert 'name="recommend_score"' not in page


def test_the_survey_waits_for_completion(client: Client, engagement: Engagement) -> None:
    client.force_login(engagement.participant)
    page = client.get(url(engagement))
    assert page.status_code == 200
    assert "opens when your coaching engagement is completed" in page.content.decode()
    response = client.post(url(engagement), {"recommend_score": "7"})
    assert response.status_code == 409
    assert not ClosingSurvey.objects.exists()


@pytest.mark.parametrize("score", ["11", "-1", "ten", ""])
def test_a_score_outside_0_to_10_is_refused(
    client: Client, completed: Engagement, score: str
) -> None:
    client.force_login(completed.participant)
    response = client.post(url(completed), {"recommend_score": score})
    assert response.status_code == 400
    assert "Choose a number from 0 to 10." in response.content.decode()
    assert not ClosingSurvey.objects.exists()


def test_an_overlong_answer_is_refused_with_the_limit_and_its_length(
    client: Client, completed: Engagement
) -> None:
    client.force_login(completed.participant)
    pasted = "x" * 5000
    response = client.post(url(completed), {"recommend_score": "8", "what_changed": pasted})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Keep it to at most 4000 characters: this answer has 5000. Nothing was saved." in body
    assert not ClosingSurvey.objects.exists()
    # What was typed comes back whole to be shortened, and the score stays chosen.
    assert f">\n{pasted}</textarea>" in body
    assert re.search(r'<input type="radio" name="recommend_score" value="8"[^>]* checked', body)


def test_the_limit_is_stated_on_the_page_and_in_the_field(
    client: Client, completed: Engagement
) -> None:
    client.force_login(completed.participant)
    body = client.get(url(completed)).content.decode()
    assert "Optional, at most 4000 characters." in body
    assert re.search(r'<textarea name="what_changed"[^>]* maxlength="4000"', body)


def test_a_line_break_counts_as_one_character_as_in_the_browser(
    client: Client, completed: Engagement
) -> None:
    client.force_login(completed.participant)
    # 4000 characters as the browser counts them; sent with CRLF line breaks, 4099 bytes.
    lines = ["y" * 39] * 100
    typed = "\n".join(lines)[:3999] + "z"
    assert len(typed) == 4000
    response = client.post(
        url(completed), {"recommend_score": "8", "what_changed": typed.replace("\n", "\r\n")}
    )
    assert response.status_code == 302
    assert ClosingSurvey.objects.get().what_changed == typed


def test_the_0_to_10_scale_is_large_labelled_radio_buttons_like_the_rating(
    client: Client, completed: Engagement
) -> None:
    client.force_login(completed.participant)
    body = client.get(url(completed)).content.decode()
    scale = body.split('<div class="scale-buttons">')[1].split("</div>")[0]
    options = re.findall(
        r'<label class="button button-secondary scale-button" for="(id_recommend_score_\d+)">'
        r'<input type="radio" name="recommend_score" value="(\d+)"'
        r'[^>]* id="(id_recommend_score_\d+)"[^>]*>(\d+)</label>',
        scale,
    )
    assert [(value, text) for _, value, _, text in options] == [(str(n), str(n)) for n in range(11)]
    assert all(label_for == input_id for label_for, _, input_id, _ in options)
    assert "<legend>How likely are you to recommend coaching to a colleague?</legend>" in body
    rating = render_to_string(
        "feedback/_rate_session.html",
        {"session": {"public_id": completed.public_id, "number": 1, "rating_score": None}},
    )
    assert '<div class="scale-buttons">' in rating and "button scale-button" in rating


def test_another_participant_gets_404(client: Client, completed: Engagement) -> None:
    client.force_login(UserFactory(role=Role.PARTICIPANT))
    assert client.get(url(completed)).status_code == 404
    assert client.post(url(completed), {"recommend_score": "9"}).status_code == 404
    assert not ClosingSurvey.objects.exists()


@pytest.mark.parametrize("role", [Role.COACH, Role.STAFF, Role.SPONSOR])
def test_other_roles_get_404(client: Client, completed: Engagement, role: str) -> None:
    client.force_login(UserFactory(role=role))
    assert client.get(url(completed)).status_code == 404


def test_closing_survey_due_only_until_answered(completed: Engagement) -> None:
    assert closing_survey_due(engagement=completed)
    closing_survey_submit(
        participant=completed.participant, engagement=completed, recommend_score=7, what_changed=""
    )
    assert not closing_survey_due(engagement=completed)


def test_the_service_refuses_a_survey_twice(completed: Engagement) -> None:
    kwargs: dict[str, Any] = {
        "participant": completed.participant,
        "engagement": completed,
        "what_changed": "",
    }
    closing_survey_submit(recommend_score=7, **kwargs)
    with pytest.raises(SurveyAlreadyAnswered):
        closing_survey_submit(recommend_score=3, **kwargs)
    assert ClosingSurvey.objects.get().recommend_score == 7


def test_the_survey_opens_on_completion_and_closes_once_answered(engagement: Engagement) -> None:
    """The one statement of the preconditions, which the page, service and prompt ask."""
    assert isinstance(closing_survey_refusal(engagement=engagement), SurveyNotOpen)
    engagement.transition_to(Status.COMPLETED)
    assert closing_survey_refusal(engagement=engagement) is None
    ClosingSurvey.objects.create(engagement=engagement, recommend_score=5)
    assert isinstance(closing_survey_refusal(engagement=engagement), SurveyAlreadyAnswered)


def test_the_service_refuses_an_engagement_that_is_not_completed(engagement: Engagement) -> None:
    with pytest.raises(SurveyNotOpen):
        closing_survey_submit(
            participant=engagement.participant,
            engagement=engagement,
            recommend_score=7,
            what_changed="",
        )
    assert not ClosingSurvey.objects.exists()


def test_the_service_refuses_someone_elses_engagement(completed: Engagement) -> None:
    with pytest.raises(SurveyNotOpen):
        closing_survey_submit(
            participant=UserFactory(), engagement=completed, recommend_score=7, what_changed=""
        )
    assert not ClosingSurvey.objects.exists()


def test_the_survey_page_costs_a_fixed_number_of_queries(
    client: Client, completed: Engagement, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client.force_login(completed.participant)
    client.get(url(completed))
    # the engagement with its program, whether it is answered (the session and the
    # user come from the cache after the first request)
    with django_assert_num_queries(2):
        assert client.get(url(completed)).status_code == 200
