"""The per-page checks catch what they claim to catch (on small pages built for it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import Journey

pytestmark = pytest.mark.e2e

STYLE = "<style>:focus-visible { outline: 3px solid #f2b705; }</style>"


@pytest.fixture
def blank(playwright_browser: Any) -> Iterator[Journey]:
    context = playwright_browser.new_context(bypass_csp=True)
    yield Journey(page=context.new_page(), base_url="", outbox=[], deliver=lambda: 0)
    context.close()


def show(journey: Journey, body: str) -> None:
    journey.page.set_content(
        f'<!doctype html><html lang="en"><head><title>t</title>{STYLE}</head>'
        f"<body><main><h1>Page</h1>{body}</main></body></html>"
    )


def test_a_clean_page_passes_every_check(blank: Journey) -> None:
    show(blank, '<a href="#x">Go</a><label for="n">Name</label><input id="n"><button>Send</button>')

    blank.check_page("clean")

    assert blank.checked[0]["violations"] == []


def test_axe_rejects_a_serious_violation(blank: Journey) -> None:
    show(blank, '<input id="n"><button aria-label="">  </button>')

    with pytest.raises(AssertionError, match="button-name"):
        blank.assert_no_serious_axe_violations("unlabelled")


def test_keyboard_check_rejects_a_focus_trap(blank: Journey) -> None:
    show(blank, '<a href="#a">One</a><a href="#b" id="b">Two</a><a href="#c">Three</a>')
    blank.page.evaluate(
        """() => document.getElementById('b').addEventListener('keydown', e => {
             if (e.key === 'Tab') { e.preventDefault(); }
           })"""
    )

    with pytest.raises(AssertionError, match="keyboard trap"):
        blank.assert_keyboard_reaches_everything("trap")


def test_keyboard_check_rejects_a_control_the_keyboard_cannot_reach(blank: Journey) -> None:
    show(blank, '<a href="#a">One</a><a href="#b">Two</a><input aria-label="Three">')
    # Script that bounces focus on, so Tab never rests on "Two".
    blank.page.evaluate(
        """() => document.querySelector('a[href="#b"]').addEventListener(
             'focus', () => document.querySelector('input').focus())"""
    )

    with pytest.raises(AssertionError, match="not reachable with Tab"):
        blank.assert_keyboard_reaches_everything("skipped")


def test_keyboard_check_rejects_an_invisible_focus(blank: Journey) -> None:
    show(
        blank,
        '<a href="#a">One</a><button class="quiet">Two</button>'
        "<style>.quiet:focus-visible { outline: none; }</style>",
    )

    with pytest.raises(AssertionError, match="has outline"):
        blank.assert_keyboard_reaches_everything("invisible")


def test_phone_check_rejects_a_page_that_scrolls_sideways(blank: Journey) -> None:
    # Fits the desktop window, not a 390 px phone.
    show(blank, '<p>Fine</p><table><tr><td style="min-width: 600px">Wide</td></tr></table>')
    blank.assert_no_sideways_scroll("desktop")

    with pytest.raises(AssertionError, match=r"scrolls sideways: \d+ px wide in a 390 px window"):
        blank.check_on_phone("too-wide")

    assert blank.page.viewport_size == {"width": 1280, "height": 720}  # put back after the check


def test_phone_check_passes_a_page_that_fits_and_keeps_its_screenshot(blank: Journey) -> None:
    show(blank, "<p>A sentence that wraps on a phone, as text does, and fits.</p>")

    blank.check_on_phone("fits")

    assert [name for name, _ in blank.phone_screenshots] == ["fits"]
    assert blank.checked[-1]["page"] == "fits at 390 px"
