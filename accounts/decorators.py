"""Role checks for views. Anonymous users go to sign-in; other roles get a 404,
so a page's existence is not confirmed to someone who may not see it. Staff
pages (the ops dashboard, reports, every export) also need a session verified
by an emailed code, as the admin does (OTPAdminSite)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from accounts.kept_posts import KEPT_NOTICE, kept_post_store
from accounts.models import Role

if TYPE_CHECKING:
    from accounts.models import User

# StreamingHttpResponse (the CSV exports) is not an HttpResponse; both are a HttpResponseBase.
View = Callable[..., HttpResponseBase]


class AuthenticatedHttpRequest(HttpRequest):
    """A request whose user is signed in: behind role_required, or on the admin
    site (OTPAdminSite admits only verified staff). For type checking only;
    Django still passes a plain HttpRequest."""

    user: User


def _verified(request: HttpRequest) -> bool:
    """django-otp's mark (OTPMiddleware): the session was verified by a device."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def role_required(*roles: str, keep_post: bool = False) -> Callable[[View], View]:
    """Admit only signed-in users of `roles`.

    With `keep_post`, a form posted after the session expired is kept for its
    author to get back after signing in (accounts/kept_posts.py); the view's
    GET takes it with `kept_post_take`.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                if keep_post and request.method == "POST" and kept_post_store(request):
                    messages.warning(request, KEPT_NOTICE)
                return redirect_to_login(request.get_full_path())
            if user.role not in roles:
                raise Http404
            if user.role == Role.STAFF and not _verified(request):
                # Defence in depth: a staff session created any other way than the
                # code sign-in (a stolen or forged session) must verify first.
                return redirect_to_login(request.get_full_path())
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
