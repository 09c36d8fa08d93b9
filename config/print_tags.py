"""Template filters for printed pages (registered as the `print_tags` library in settings).

Chromium prints @page margin boxes (running headers, page numbers) but fills
them only from CSS, never from the document, so a report's name reaches its
running header as a CSS string in a nonce'd <style> (docs/architecture.md,
"Rules and where they live").
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Characters left as they are in a CSS string; everything else is a hex escape,
# so no quote, backslash, "<" (as in "</style>") or line break can end the string.
_PLAIN = frozenset(" .,:;!?()+-_/'|·–—")


@register.filter
def css_string(value: object) -> SafeString:
    """`value` as a double-quoted CSS string literal, safe inside a <style> element."""
    escaped = "".join(
        char if char.isalnum() or char in _PLAIN else f"\\{ord(char):06x}" for char in str(value)
    )
    return mark_safe(f'"{escaped}"')  # noqa: S308 - every character is checked above
