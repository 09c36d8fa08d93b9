"""Sign-in by emailed code: no enumeration, code rules, throttling and lockout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import AuditEvent, EmailCodeDevice, hash_code, new_code
from accounts.services import CodeRejected, login_code_request, login_code_verify
from tests import factories
from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_login_page_asks_for_one_labelled_email_field(client: Client) -> None:
    body = client.get("/login/").content.decode()
    assert '<label for="id_email">Email address</label>' in body
    assert body.count("<input") == 2  # the email field and the CSRF token


def test_known_unknown_and_inactive_addresses_get_the_same_answer(
    client: Client, request_code, mailoutbox
) -> None:  # noqa: ANN001
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


def test_pending_address_is_never_in_the_url_or_the_page(
    client: Client, request_code, participant
) -> None:  # noqa: ANN001
    response = request_code(participant.email)
    assert participant.email not in response["Location"]
    assert participant.email not in client.get("/login/code/").content.decode()


def test_invalid_address_gets_a_clear_message_and_no_email(
    client: Client, request_code, mailoutbox
) -> None:  # noqa: ANN001
    response = request_code("not-an-address")
    assert response.status_code == 200
    assert "Enter an email address such as name@example.com." in response.content.decode()
    assert mailoutbox == []


def test_code_email_shows_the_six_digit_code_in_its_text_not_its_subject(
    request_code, mailoutbox, participant
) -> None:  # noqa: ANN001
    request_code(participant.email.upper())
    (message,) = mailoutbox
    code = code_in(message)
    assert f"Your Coachdesk sign-in code is:\n\n    {code}\n" in message.body
    assert code not in message.subject
    assert code in message.alternatives[0].content


def test_codes_are_six_digits_from_the_csprng(monkeypatch) -> None:  # noqa: ANN001
    calls = []
    monkeypatch.setattr("accounts.models.secrets.randbelow", lambda n: calls.append(n) or 42)
    assert new_code() == "000042"
    assert calls == [1_000_000]


def test_code_is_stored_only_as_a_keyed_hash(request_code, mailoutbox, participant) -> None:  # noqa: ANN001
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    device = EmailCodeDevice.objects.get(user=participant)
    assert device.token_hash == hash_code(device_pk=device.pk, code=code)
    assert code not in device.token_hash
    assert len(device.token_hash) == 64


def test_right_code_signs_in_verified_and_rotates_the_session_key(
    client: Client, request_code, enter_code, mailoutbox, participant
) -> None:  # noqa: ANN001
    request_code(participant.email)
    key_before = client.session.session_key
    response = enter_code(code_in(mailoutbox[0]))
    assert response.status_code == 302
    session = client.session
    assert session.session_key != key_before
    assert session[SESSION_KEY] == str(participant.pk)
    assert session[DEVICE_ID_SESSION_KEY] == EmailCodeDevice.objects.get().persistent_id
    assert "accounts_pending_email" not in session


def test_code_page_without_a_pending_address_goes_back_to_step_one(client: Client) -> None:
    assert client.get("/login/code/")["Location"] == "/login/"


def test_code_is_accepted_until_ten_minutes(time_machine, participant) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    device = _device_with_code(participant)
    time_machine.shift(timedelta(minutes=9, seconds=59))
    assert login_code_verify(email=participant.email, code=device.code).user == participant


def test_code_expires_after_ten_minutes(time_machine, participant) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    device = _device_with_code(participant)
    time_machine.shift(timedelta(minutes=10))
    with pytest.raises(CodeRejected):
        login_code_verify(email=participant.email, code=device.code)


def test_code_works_only_once(time_machine, participant) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    device = _device_with_code(participant)
    login_code_verify(email=participant.email, code=device.code)
    with pytest.raises(CodeRejected):
        login_code_verify(email=participant.email, code=device.code)


def test_a_new_code_replaces_the_old_one(time_machine, participant) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    old = _device_with_code(participant).code
    new = _device_with_code(participant).code
    if old == new:  # one chance in a million
        pytest.skip("the two random codes happened to be equal")
    with pytest.raises(CodeRejected):
        login_code_verify(email=participant.email, code=old)
    time_machine.shift(timedelta(seconds=2))  # past the 1-second backoff
    assert login_code_verify(email=participant.email, code=new).user == participant


def test_wrong_expired_and_used_codes_get_one_message_that_reveals_nothing(
    client: Client, time_machine, request_code, enter_code, mailoutbox, participant
) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    near_miss = code[:-1] + str((int(code[-1]) + 1) % 10)
    wrong = enter_code(near_miss).content.decode()
    time_machine.shift(timedelta(minutes=11))
    expired = enter_code(code).content.decode()
    assert CodeRejected.message.replace("'", "&#x27;") in wrong
    assert CodeRejected.message.replace("'", "&#x27;") in expired
    assert near_miss not in wrong and code not in expired


def test_code_must_be_six_digits(client: Client, request_code, enter_code, participant) -> None:  # noqa: ANN001
    request_code(participant.email)
    response = enter_code("12ab")
    assert "The code is 6 digits, such as 123456." in response.content.decode()
    assert EmailCodeDevice.objects.get().throttling_failure_count == 0


def test_spaces_in_a_typed_code_are_ignored(
    client: Client, request_code, enter_code, mailoutbox, participant
) -> None:  # noqa: ANN001
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    assert enter_code(f" {code[:3]} {code[3:]} ").status_code == 302


def test_wrong_codes_back_off_exponentially(time_machine, participant) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    _device_with_code(participant)
    _guess_wrong(participant)
    device = EmailCodeDevice.objects.get()
    assert device.verify_is_allowed()[1]["locked_until"] == START + timedelta(seconds=1)
    time_machine.shift(timedelta(seconds=1))
    _guess_wrong(participant)
    device.refresh_from_db()
    assert device.verify_is_allowed()[1]["locked_until"] == START + timedelta(seconds=3)


def test_five_failures_in_a_row_lock_verification_and_say_until_when(
    client: Client, time_machine, request_code, enter_code, mailoutbox, participant
) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    request_code(participant.email)
    code = code_in(mailoutbox[0])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = enter_code(wrong)
        time_machine.shift(timedelta(seconds=9))
    body = response.content.decode()
    # Fifth failure at 09:00:30; locked for 15 minutes, shown rounded up.
    assert "Too many attempts. Try again after 09:16 (UTC)" in body
    assert enter_code(code).status_code == 200  # even the right code waits
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="signin.lockout").count() == 1
    assert EmailCodeDevice.objects.get().throttling_failure_count == 5


def test_lockout_ends_when_its_backoff_expires(time_machine, participant) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    _lock_out(participant, time_machine)
    time_machine.shift(timedelta(minutes=16))
    device = _device_with_code(participant)
    assert login_code_verify(email=participant.email, code=device.code).user == participant
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_unknown_address_locks_out_after_the_same_failures(
    client: Client, time_machine, request_code, enter_code
) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    request_code("nobody@example.com")
    messages = []
    for _ in range(5):
        messages.append(enter_code("123456").content.decode())
        time_machine.shift(timedelta(seconds=9))
    assert all(CodeRejected.message.replace("'", "&#x27;") in page for page in messages[:4])
    assert "Too many attempts. Try again after 09:16 (UTC)" in messages[4]
    # A fresh browser gets the same lockout (the state is not in the session).
    other = Client()
    request_code("NOBODY@example.com", on=other)
    assert "Too many attempts" in enter_code("123456", on=other).content.decode()


def test_inactive_account_cannot_sign_in_with_an_earlier_code(time_machine, participant) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    device = _device_with_code(participant)
    participant.is_active = False
    participant.save()
    with pytest.raises(CodeRejected):
        login_code_verify(email=participant.email, code=device.code)


@pytest.mark.parametrize("others", [0, 30])
def test_code_request_and_check_take_a_fixed_number_of_queries(
    django_assert_num_queries, time_machine, participant, others
) -> None:  # noqa: ANN001
    time_machine.move_to(START, tick=False)
    for user in factories.UserFactory.create_batch(others):
        _device_with_code(user)
    login_code_request(email=participant.email)  # creates the device
    with django_assert_num_queries(6):  # user, savepoint, locked device, update, queue, release
        login_code_request(email=participant.email)
    with django_assert_num_queries(1):
        login_code_request(email="nobody@example.com")
    code = EmailCodeDevice.objects.get(user=participant).generate_token()
    # savepoint, locked device+user, update device, audit insert, release
    with django_assert_num_queries(5):
        login_code_verify(email=participant.email, code=code)


# helpers


def _device_with_code(user):  # noqa: ANN001, ANN202
    device, _ = EmailCodeDevice.objects.get_or_create(user=user, defaults={"name": "Email"})
    device.code = device.generate_token()
    return device


def _guess_wrong(user) -> None:  # noqa: ANN001
    device = EmailCodeDevice.objects.get(user=user)
    wrong = "000000" if device.token_hash != hash_code(device_pk=device.pk, code="000000") else "1"
    with pytest.raises(Exception):  # noqa: B017, PT011 - CodeRejected or SignInLocked
        login_code_verify(email=user.email, code=wrong)


def _lock_out(user, time_machine) -> None:  # noqa: ANN001
    _device_with_code(user)
    for _ in range(5):
        _guess_wrong(user)
        time_machine.shift(timedelta(seconds=9))
