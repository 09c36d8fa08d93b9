"""Sign-in by emailed code: no enumeration, code rules, backoff and used-up codes."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_tasks_db.models import DBTaskResult
from pytest_django import DjangoAssertNumQueries
from time_machine import TimeMachineFixture

from accounts.models import AuditEvent, EmailCodeDevice, SignInRequest, User, hash_code, new_code
from accounts.services import (
    ROLE_HOMES,
    CodeAlreadyUsed,
    CodeExpired,
    CodeForEarlierRequest,
    CodeNotSentYet,
    CodeRejected,
    CodeUsedUp,
    SignInWait,
    login_code_send,
    login_code_verify,
)
from tests import factories
from tests.accounts.conftest import code_in
from tests.mail import html_part

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_login_page_asks_for_one_labelled_email_field(client: Client) -> None:
    body = client.get("/login/").content.decode()
    assert '<label for="id_email">Email address</label>' in body
    assert body.count("<input") == 2  # the email field and the CSRF token


def test_known_unknown_and_inactive_addresses_get_the_same_answer(
    client: Client, request_code: Callable[..., Any], mailoutbox: list[EmailMultiAlternatives]
) -> None:
    factories.UserFactory(email="known@example.com")
    factories.UserFactory(email="gone@example.com", is_active=False)
    pages = []
    for email in ("known@example.com", "nobody@example.com", "gone@example.com"):
        browser = Client()
        response = request_code(email, on=browser)
        assert response.status_code == 302
        assert response["Location"] == "/login/code/"
        pages.append(browser.get("/login/code/").content.decode())
    strip = [page.replace(page.split("csrfmiddlewaretoken")[1][:80], "") for page in pages]
    assert strip[0] == strip[1] == strip[2]
    assert [m.to for m in mailoutbox] == [["known@example.com"]]
    # The worker wrote a pending sign-in for each of them, emailed or not.
    assert SignInRequest.objects.count() == 3


def test_pending_address_is_never_in_the_url_or_the_page(
    client: Client, request_code: Callable[..., Any], participant: User
) -> None:
    response = request_code(participant.email)
    assert participant.email not in response["Location"]
    assert participant.email not in client.get("/login/code/").content.decode()


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter an email address such as name@example.com."),
        ("a@b@example.com", "Enter an email address such as name@example.com."),
        ("", "Enter the email address you were invited with."),
        ("x" * 250 + "@example.com", "An email address has at most 254 characters."),
    ],
)
def test_a_bad_address_gets_its_own_message_and_nothing_is_queued(
    client: Client,
    request_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    email: str,
    message: str,
) -> None:
    response = request_code(email)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert DBTaskResult.objects.count() == 0 and SignInRequest.objects.count() == 0
    assert mailoutbox == []


def test_code_email_shows_the_six_digit_code_in_its_text_not_its_subject(
    request_code: Callable[..., Any], mailoutbox: list[EmailMultiAlternatives], participant: User
) -> None:
    request_code(participant.email.upper())
    (message,) = mailoutbox
    code = code_in(message)
    assert f"Your Coachdesk sign-in code is:\n\n    {code}\n" in message.body
    assert code not in message.subject
    assert code in html_part(message)


def test_codes_are_six_digits_from_the_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def randbelow(n: int) -> int:
        calls.append(n)
        return 42

    monkeypatch.setattr("accounts.models.secrets.randbelow", randbelow)
    assert new_code() == "000042"
    assert calls == [1_000_000]


def test_code_is_stored_only_as_a_keyed_hash_and_never_in_the_queue(
    request_code: Callable[..., Any], mailoutbox: list[EmailMultiAlternatives], participant: User
) -> None:
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    request = SignInRequest.objects.get(user=participant)
    assert request.code_hash == hash_code(token=request.token, code=code)
    assert code not in request.code_hash and len(request.code_hash) == 64
    (task,) = DBTaskResult.objects.all()
    assert code not in str(task.args_kwargs) and code not in str(task.return_value)


def test_right_code_signs_in_verified_and_rotates_the_session_key(
    client: Client,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    request_code(participant.email)
    key_before = client.session.session_key
    response = enter_code(code_in(mailoutbox[0]))
    assert response.status_code == 302
    session = client.session
    assert session.session_key != key_before
    assert session[SESSION_KEY] == str(participant.pk)
    assert session[DEVICE_ID_SESSION_KEY] == EmailCodeDevice.objects.get().persistent_id
    assert "accounts_pending_token" not in session and "accounts_pending_email" not in session


def test_code_page_without_a_pending_sign_in_goes_back_to_step_one(client: Client) -> None:
    assert client.get("/login/code/")["Location"] == "/login/"


def test_a_replayed_code_is_refused_with_its_own_message_and_writes_nothing(
    client: Client,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    enter_code(code)
    client.post("/logout/")
    events = AuditEvent.objects.count()
    response = enter_code(code)
    assert response["Location"] == "/login/"
    page = client.get("/login/").content.decode()
    assert "That sign-in has already finished or expired." in page
    assert AuditEvent.objects.count() == events
    assert SignInRequest.objects.get().failures == 0


def test_code_is_accepted_until_ten_minutes(
    time_machine: TimeMachineFixture, participant: User, mailoutbox: list[EmailMultiAlternatives]
) -> None:
    time_machine.move_to(START, tick=False)
    token, code = _pending(participant, mailoutbox)
    time_machine.shift(timedelta(minutes=9, seconds=59))
    assert login_code_verify(token=token, code=code).user == participant


def test_code_expires_after_ten_minutes(
    time_machine: TimeMachineFixture, participant: User, mailoutbox: list[EmailMultiAlternatives]
) -> None:
    time_machine.move_to(START, tick=False)
    token, code = _pending(participant, mailoutbox)
    time_machine.shift(timedelta(minutes=10))
    with pytest.raises(CodeExpired):
        login_code_verify(token=token, code=code)
    assert SignInRequest.objects.get().failures == 0  # nothing written


def test_code_works_only_once(
    time_machine: TimeMachineFixture, participant: User, mailoutbox: list[EmailMultiAlternatives]
) -> None:
    time_machine.move_to(START, tick=False)
    token, code = _pending(participant, mailoutbox)
    login_code_verify(token=token, code=code)
    with pytest.raises(CodeAlreadyUsed):
        login_code_verify(token=token, code=code)


def test_a_code_is_bound_to_the_browser_that_asked_for_it(
    time_machine: TimeMachineFixture, participant: User, mailoutbox: list[EmailMultiAlternatives]
) -> None:
    time_machine.move_to(START, tick=False)
    mine, my_code = _pending(participant, mailoutbox)
    theirs, their_code = _pending(participant, mailoutbox)
    if my_code == their_code:  # one chance in a million
        pytest.skip("the two random codes happened to be equal")
    with pytest.raises(CodeRejected):
        login_code_verify(token=theirs, code=my_code)
    # Both pending sign-ins work, each with its own code.
    assert login_code_verify(token=mine, code=my_code).user == participant
    time_machine.shift(timedelta(seconds=2))
    assert login_code_verify(token=theirs, code=their_code).user == participant


def test_a_code_entered_before_the_worker_sent_it_waits_and_writes_nothing(
    client: Client, enter_code: Callable[..., Any], participant: User
) -> None:
    client.post("/login/", {"email": participant.email})  # queued; no worker yet
    body = enter_code("123456").content.decode()
    assert CodeNotSentYet.message in body
    assert SignInRequest.objects.count() == 0
    assert not AuditEvent.objects.exists()


def test_wrong_expired_used_up_and_used_codes_each_get_their_own_message(
    client: Client,
    time_machine: TimeMachineFixture,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    time_machine.move_to(START, tick=False)
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    near_miss = code[:-1] + str((int(code[-1]) + 1) % 10)
    wrong = enter_code(near_miss).content.decode()
    time_machine.shift(timedelta(minutes=11))
    expired = enter_code(code).content.decode()
    assert _html(CodeRejected.message) in wrong
    assert _html(CodeExpired.message) in expired
    assert near_miss not in wrong and code not in expired


def test_code_must_be_six_digits_and_a_bad_one_writes_nothing(
    client: Client,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    participant: User,
) -> None:
    request_code(participant.email)
    letters = enter_code("12ab56").content.decode()
    empty = enter_code("").content.decode()
    assert "The code is 6 digits, such as 123456." in letters
    assert "Enter the code from the email." in empty
    assert SignInRequest.objects.get().failures == 0
    assert not AuditEvent.objects.exists()


def test_spaces_in_a_typed_code_are_ignored(
    client: Client,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    assert enter_code(f" {code[:3]} {code[3:]} ").status_code == 302


def test_a_code_entered_after_the_address_was_switched_gets_its_own_message(
    client: Client,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    other = factories.UserFactory()
    request_code(participant.email)
    first_code = code_in(mailoutbox[0])
    request_code(other.email)
    if first_code == code_in(mailoutbox[1]):
        pytest.skip("the two random codes happened to be equal")
    body = enter_code(first_code).content.decode()
    assert "That code was sent for the address you entered before." in body
    assert SESSION_KEY not in client.session
    assert set(SignInRequest.objects.values_list("failures", flat=True)) == {0}
    assert not AuditEvent.objects.exists()


def test_a_code_replaced_by_a_newer_one_for_the_same_address_says_so(
    client: Client,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    request_code(participant.email)
    first_code = code_in(mailoutbox[0])
    request_code(participant.email)
    second_code = code_in(mailoutbox[1])
    if first_code == second_code:
        pytest.skip("the two random codes happened to be equal")
    body = enter_code(first_code).content.decode()
    assert "That code was replaced by the newer one we sent" in body
    assert enter_code(second_code).status_code == 302


def test_wrong_codes_back_off_exponentially_and_say_how_long_in_words(
    client: Client,
    time_machine: TimeMachineFixture,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    time_machine.move_to(START, tick=False)
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    wrong = "000000" if code != "000000" else "111111"
    enter_code(wrong)
    request = SignInRequest.objects.get()
    assert request.retry_at() == START + timedelta(seconds=1)
    body = enter_code(code).content.decode()  # within the 1-second backoff
    assert "Wait a moment between tries: try again in 1 second." in body
    assert "UTC" not in body and code not in body
    time_machine.shift(timedelta(seconds=1))
    enter_code(wrong)
    request.refresh_from_db()
    assert request.retry_at() == START + timedelta(seconds=3)
    assert "try again in 2 seconds." in enter_code(wrong).content.decode()
    time_machine.shift(timedelta(seconds=2))
    assert enter_code(code).status_code == 302  # exactly when the message said


def test_five_wrong_codes_use_the_code_up_and_a_new_code_works(
    client: Client,
    time_machine: TimeMachineFixture,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
    mailoutbox: list[EmailMultiAlternatives],
    participant: User,
) -> None:
    time_machine.move_to(START, tick=False)
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = enter_code(wrong)
        time_machine.shift(timedelta(seconds=9))
    assert _html(CodeUsedUp.message) in response.content.decode()
    assert _html(CodeUsedUp.message) in enter_code(code).content.decode()  # it is gone
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="signin.code_used_up").count() == 1
    request_code(participant.email)
    assert enter_code(code_in(mailoutbox[-1])).status_code == 302


def test_unknown_address_uses_up_its_code_after_the_same_failures(
    client: Client,
    time_machine: TimeMachineFixture,
    request_code: Callable[..., Any],
    enter_code: Callable[..., Any],
) -> None:
    time_machine.move_to(START, tick=False)
    request_code("nobody@example.com")
    pages = []
    for _ in range(5):
        pages.append(enter_code("123456").content.decode())
        time_machine.shift(timedelta(seconds=9))
    assert all(_html(CodeRejected.message) in page for page in pages[:4])
    assert _html(CodeUsedUp.message) in pages[4]


def test_inactive_account_cannot_sign_in_with_an_earlier_code(
    time_machine: TimeMachineFixture, participant: User, mailoutbox: list[EmailMultiAlternatives]
) -> None:
    time_machine.move_to(START, tick=False)
    token, code = _pending(participant, mailoutbox)
    participant.is_active = False
    participant.save()
    with pytest.raises(CodeRejected):
        login_code_verify(token=token, code=code)


def test_the_worker_sends_nothing_to_unknown_or_deactivated_addresses(
    mailoutbox: list[EmailMultiAlternatives], participant: User
) -> None:
    participant.is_active = False
    participant.save()
    login_code_send.call(email=participant.email, token="t1")
    login_code_send.call(email="nobody@example.com", token="t2")
    assert mailoutbox == []
    assert SignInRequest.objects.filter(user=None).count() == 2


@pytest.mark.parametrize("others", [0, 30])
def test_code_check_takes_a_fixed_number_of_queries(
    django_assert_num_queries: DjangoAssertNumQueries,
    time_machine: TimeMachineFixture,
    participant: User,
    mailoutbox: list[EmailMultiAlternatives],
    others: int,
) -> None:
    time_machine.move_to(START, tick=False)
    for user in factories.UserFactory.create_batch(others):
        _pending(user, mailoutbox)
    token, code = _pending(participant, mailoutbox)
    EmailCodeDevice.objects.create(user=participant, name="Email")
    # savepoint, locked request+user, mark used, device, update device, audit, release
    with django_assert_num_queries(7):
        login_code_verify(token=token, code=code)


def test_sign_in_request_asks_the_database_for_one_insert(
    client: Client, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # The task row, then the new session (key check, savepoint, insert, release).
    with django_assert_num_queries(5):
        client.post("/login/", {"email": "someone@example.com"})
    assert DBTaskResult.objects.count() == 1


# helpers


def _pending(user: User, outbox: list[EmailMultiAlternatives]) -> tuple[str, str]:
    """Run the worker's task for a new pending sign-in of `user`; return (token, code)."""
    token = secrets.token_urlsafe(32)
    login_code_send.call(email=user.email, token=token)
    return token, code_in(outbox[-1])


def _html(message: str) -> str:
    return message.replace("'", "&#x27;")


def test_a_code_for_an_earlier_request_is_told_apart_without_a_failure(
    participant: User, mailoutbox: list[EmailMultiAlternatives]
) -> None:
    earlier, earlier_code = _pending(participant, mailoutbox)
    latest, latest_code = _pending(participant, mailoutbox)
    if earlier_code == latest_code:
        pytest.skip("the two random codes happened to be equal")
    with pytest.raises(CodeForEarlierRequest):
        login_code_verify(token=latest, code=earlier_code, previous=(earlier, True))
    assert SignInRequest.objects.get(token=latest).failures == 0


def test_a_guess_during_the_backoff_is_not_judged(
    time_machine: TimeMachineFixture, participant: User, mailoutbox: list[EmailMultiAlternatives]
) -> None:
    time_machine.move_to(START, tick=False)
    token, code = _pending(participant, mailoutbox)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(CodeRejected):
        login_code_verify(token=token, code=wrong)
    with pytest.raises(SignInWait) as waiting:
        login_code_verify(token=token, code=wrong)
    assert waiting.value.seconds == 1
    assert SignInRequest.objects.get().failures == 1


def test_each_role_lands_on_its_own_first_page() -> None:
    homes = {role: reverse(name) for role, name in ROLE_HOMES.items()}
    assert homes == {
        "participant": "/",
        "coach": "/coach/",
        "sponsor": "/sponsor/",
        "staff": "/ops/",
    }
