"""Sign-in by emailed code, sign-out, and the pages that refuse a request clearly."""

from __future__ import annotations

import secrets

import django_otp
from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.audit import audit_record
from accounts.forms import CodeForm, EmailForm
from accounts.limits import SignInUnavailable, TooManyRequests, code_request_allow
from accounts.models import User
from accounts.redirects import safe_next
from accounts.services import (
    ROLE_HOMES,
    SignInWait,
    login_code_request,
    login_code_verify,
    reminders_switch,
)
from accounts.sessions import session_lifetime_start
from accounts.unsubscribe import UnsubscribeLinkInvalid, unsubscribe_user
from config.errors import DomainError

# The pending sign-in (a random token the worker's code is bound to), its
# address, and the one asked for before it: session only, never in a URL, a
# page or a log line.
PENDING_TOKEN = "accounts_pending_token"  # noqa: S105 - a session key name
PENDING_EMAIL = "accounts_pending_email"
PENDING_NEXT = "accounts_pending_next"
PREVIOUS_TOKEN = "accounts_previous_token"  # noqa: S105 - a session key name
PREVIOUS_SAME_ADDRESS = "accounts_previous_same_address"


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 page when sign-in's dependencies (the cache) cannot be reached."""
    return render(
        request,
        "accounts/signin_unavailable.html",
        {"message": SignInUnavailable.message},
        status=503,
    )


@sensitive_post_parameters("email")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step 1: ask for the address; queue its code; the same answer and work for everyone."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            code_request_allow(request, email=email)
        except SignInUnavailable:
            return unavailable(request)
        except TooManyRequests as error:
            return render(
                request,
                "accounts/ratelimited.html",
                {"message": error.message},
                status=error.http_status,
            )
        token = secrets.token_urlsafe(32)
        login_code_request(email=email, token=token)
        if request.session.get(PENDING_TOKEN):
            request.session[PREVIOUS_TOKEN] = request.session[PENDING_TOKEN]
            request.session[PREVIOUS_SAME_ADDRESS] = request.session.get(PENDING_EMAIL) == email
        request.session[PENDING_TOKEN] = token
        request.session[PENDING_EMAIL] = email
        request.session[PENDING_NEXT] = next_url
        return redirect("accounts:login_code")
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: check the code; sign in and go to the role's home (or a safe `next`)."""
    token = request.session.get(PENDING_TOKEN)
    if not token:
        if request.method == "POST":
            # A code sent again after signing in (the session was replaced), or
            # after the session ended: nothing to check it against.
            messages.info(
                request,
                "That sign-in has already finished or expired. "
                "Enter your email address to get a new code.",
            )
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        previous = None
        if request.session.get(PREVIOUS_TOKEN):
            previous = (
                request.session[PREVIOUS_TOKEN],
                bool(request.session.get(PREVIOUS_SAME_ADDRESS)),
            )
        try:
            device = login_code_verify(
                token=token, code=form.cleaned_data["code"], previous=previous
            )
        except SignInWait as error:
            form.add_error(None, error.message)
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            return _complete_sign_in(request, device)
    return render(request, "accounts/login_code.html", {"form": form})


def _complete_sign_in(request: HttpRequest, device: django_otp.models.Device) -> HttpResponse:
    user: User = device.user
    next_url = request.session.get(PENDING_NEXT, "")
    # auth.login rotates the session key; django_otp.login marks it verified.
    auth.login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    django_otp.login(request, device)
    session_lifetime_start(request.session, role=user.role)
    for key in (PENDING_TOKEN, PENDING_EMAIL, PENDING_NEXT, PREVIOUS_TOKEN, PREVIOUS_SAME_ADDRESS):
        request.session.pop(key, None)
    return HttpResponseRedirect(next_url or reverse(ROLE_HOMES[user.role]))


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the session (POST only, so a link or an image cannot sign anyone out)."""
    if request.user.is_authenticated:
        audit_record(action="signin.signout", obj=request.user, actor=request.user)
    auth.logout(request)
    messages.success(request, "You are signed out.")
    return redirect("accounts:login")


# Mail clients POST here themselves, without cookies or a CSRF token (RFC 8058
# one-click unsubscribe); the signed token in the URL is what authorizes the change.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def reminders_off(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every reminder: GET explains and offers the button, POST turns
    the person's reminders off (or, from the page that follows, back on)."""
    try:
        user = unsubscribe_user(token)
    except UnsubscribeLinkInvalid as error:
        return render(
            request, "accounts/reminders_link_invalid.html", {"message": error.message}, status=400
        )
    if request.method == "POST":
        reminders_switch(user=user, enabled=request.POST.get("reminders") == "on")
    return render(
        request,
        "accounts/reminders_off.html",
        {"person": user, "token": token, "done": request.method == "POST"},
    )
