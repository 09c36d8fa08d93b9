"""Progress by participant on the sponsor's report: absent unless the organization
shares it; then a page of 50 at a time, searchable by name, in one query a page
(tests/reports/test_query_counts.py pins it)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Role, User
from engagements.models import Engagement, Program
from tests.factories import ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

SIZE = 120  # three pages: 50, 50, 20


@pytest.fixture
def program() -> Program:
    program = ProgramFactory()
    users = User.objects.bulk_create(
        User(
            email=f"p{i}@example.com",
            full_name=f"{'Ana' if i % 10 == 0 else 'Person'} {i:03d}",
            role=Role.PARTICIPANT,
        )
        for i in range(SIZE)
    )
    Engagement.objects.bulk_create(Engagement(participant=u, program=program) for u in users)
    return program


@pytest.fixture
def sponsor(client: Client, program: Program) -> User:
    sponsor = UserFactory(role=Role.SPONSOR)
    program.organization.sponsors.add(sponsor)
    client.force_login(sponsor)
    return sponsor


def share(program: Program, on: bool = True) -> None:
    program.organization.sponsors_see_individual_progress = on
    program.organization.save()


def get(client: Client, program: Program, **query: str) -> tuple[int, str]:
    response = client.get(f"/sponsor/programs/{program.public_id}/", query)
    return response.status_code, response.content.decode()


def names(body: str) -> list[str]:
    return re.findall(r'<tr><th scope="row">((?:Ana|Person) \d{3})</th>', body)


def test_by_default_the_list_is_absent_from_the_page_and_the_print(
    client: Client, program: Program, sponsor: User
) -> None:
    status, body = get(client, program)
    assert status == 200
    assert names(body) == []
    assert "Progress by participant" not in body
    assert "left out of the printed report" not in body
    assert "Search by name" not in body


def test_without_the_list_its_search_and_page_parameters_are_ignored(
    client: Client, program: Program, sponsor: User
) -> None:
    status, body = get(client, program, q="Ana", page="abc")
    assert status == 200 and names(body) == []


def test_shared_progress_comes_fifty_names_a_page_in_name_order(
    client: Client, program: Program, sponsor: User
) -> None:
    share(program)
    status, body = get(client, program)
    assert status == 200
    shown = names(body)
    assert len(shown) == 50 and shown == sorted(shown)
    assert "120 participants." in body and "Page 1 of 3" in body
    assert 'href="?page=2">Next</a>' in body and "Previous" not in body

    status, body = get(client, program, page="3")
    assert status == 200 and len(names(body)) == 20
    assert 'href="?page=2">Previous</a>' in body and "Next</a>" not in body
    every = names(get(client, program)[1]) + names(get(client, program, page="2")[1])
    assert len(set(every + names(body))) == SIZE


def test_shared_progress_is_searchable_by_name_and_the_pages_keep_the_search(
    client: Client, program: Program, sponsor: User
) -> None:
    share(program)
    status, body = get(client, program, q="aNa")
    assert status == 200
    assert names(body) == [f"Ana {i:03d}" for i in range(0, SIZE, 10)]
    assert "12 participants matching “aNa”." in body
    assert "Page 1 of" not in body  # one page

    status, body = get(client, program, q="Person")
    assert "108 participants matching" in body
    assert 'href="?q=Person&amp;page=2">Next</a>' in body


def test_a_search_that_matches_nobody_says_so(
    client: Client, program: Program, sponsor: User
) -> None:
    share(program)
    status, body = get(client, program, q="Zelda")
    assert status == 200 and names(body) == []
    assert "name contains “Zelda”." in body


def test_the_search_is_shown_back_escaped(client: Client, program: Program, sponsor: User) -> None:
    share(program)
    status, body = get(client, program, q="<script>x</script>")
    assert status == 200
    assert "<script>x</script>" not in body and "&lt;script&gt;" in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"page": "abc"}, "The page must be a whole number."),
        ({"page": "0"}, "Pages start at 1."),
        ({"page": "-2"}, "Pages start at 1."),
        ({"page": "1.5"}, "The page must be a whole number."),
        ({"page": "10001"}, "There is no such page."),
        ({"q": "x" * 101}, "Search for at most 100 characters of a name."),
    ],
)
def test_a_bad_page_or_search_is_a_400_with_a_message_and_no_list(
    client: Client, program: Program, sponsor: User, query: dict[str, str], message: str
) -> None:
    share(program)
    status, body = get(client, program, **query)
    assert status == 400
    assert message in body
    assert names(body) == []
    assert "Average session rating" in body  # the rest of the report is there


def test_a_page_past_the_end_is_a_404(client: Client, program: Program, sponsor: User) -> None:
    share(program)
    assert get(client, program, page="4")[0] == 404
    assert get(client, program, q="Ana", page="2")[0] == 404
    assert get(client, program, page="3")[0] == 200


def test_switching_the_setting_off_removes_the_list_again(
    client: Client, program: Program, sponsor: User
) -> None:
    share(program)
    assert names(get(client, program)[1])
    share(program, on=False)
    assert names(get(client, program)[1]) == []
