"""The type of what Django's test client returns, for helpers that take or return it.

django-stubs names it only privately (the response with `.context`, `.json()`
and the request attached); at run time it is Django's own response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as ClientResponse
else:
    from django.http import HttpResponse as ClientResponse

__all__ = ["ClientResponse"]
