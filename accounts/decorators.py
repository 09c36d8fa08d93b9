"""Role checks for views. Anonymous users go to sign-in; other roles get a 404,
so a page's existence is not confirmed to someone who may not see it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def role_required(*roles: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
