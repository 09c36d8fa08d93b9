"""Sign-in by emailed code, sign-out and the friendly "slow down" page."""

from __future__ import annotations

import ipaddress

import django_otp
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.audit import audit_record
from accounts.forms import CodeForm, EmailForm
from accounts.models import User
from accounts.redirects import safe_next
from accounts.services import (
    ROLE_HOMES,
    SESSION_SECONDS,
    CodeRejected,
    SignInLocked,
    email_digest,
    login_code_request,
    login_code_verify,
)
from config.observability import client_ip

# The address waiting for its code, and where to go after: session only,
# never in a URL, a page or a log line.
PENDING_EMAIL = "accounts_pending_email"
PENDING_NEXT = "accounts_pending_next"


def ratelimit_client_ip(request: HttpRequest) -> str:
    """The client address for django-ratelimit (RATELIMIT_IP_META_KEY)."""
    address = client_ip(request) or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "0.0.0.0"  # noqa: S104 - a bucket for requests without a usable address


def ratelimit_email_key(group: str, request: HttpRequest) -> str:
    """Count code emails per address by a keyed hash, never the address itself."""
    return email_digest(request.POST.get("email", ""))


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """RATELIMIT_VIEW: a 429 with a page a person understands."""
    return render(request, "accounts/ratelimited.html", status=429)


@sensitive_post_parameters("email")
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(group="signin-ip", key="ip", rate="20/h", method="POST")
@ratelimit(group="signin-email", key=ratelimit_email_key, rate="3/15m", method="POST")
def login(request: HttpRequest) -> HttpResponse:
    """Step 1: ask for the address and email a code (the same answer for everyone)."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        login_code_request(email=email)
        request.session[PENDING_EMAIL] = email
        request.session[PENDING_NEXT] = next_url
        return redirect("accounts:login_code")
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(group="signin-verify-ip", key="ip", rate="10/15m", method="POST")
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: check the code; sign in and go to the role's home (or a safe `next`)."""
    email = request.session.get(PENDING_EMAIL)
    if not email:
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = login_code_verify(email=email, code=form.cleaned_data["code"])
        except SignInLocked as error:
            form.add_error(None, error.message)
        except CodeRejected as error:
            form.add_error("code", error.message)
        else:
            return _complete_sign_in(request, device)
    return render(request, "accounts/login_code.html", {"form": form})


def _complete_sign_in(request: HttpRequest, device: django_otp.models.Device) -> HttpResponse:
    user: User = device.user
    next_url = request.session.get(PENDING_NEXT, "")
    # auth.login rotates the session key; django_otp.login marks it verified.
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    django_otp.login(request, device)
    request.session.set_expiry(SESSION_SECONDS[user.role])
    request.session.pop(PENDING_EMAIL, None)
    request.session.pop(PENDING_NEXT, None)
    return HttpResponseRedirect(next_url or ROLE_HOMES[user.role])


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the session (POST only, so a link or an image cannot sign anyone out)."""
    if request.user.is_authenticated:
        audit_record(action="signin.signout", obj=request.user, actor=request.user)
    auth.logout(request)
    messages.success(request, "You are signed out.")
    return redirect("accounts:login")
