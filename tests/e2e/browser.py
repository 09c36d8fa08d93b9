"""What every journey does in the browser: sign in, check a page, move by keyboard.

`Journey.check_page` is the per-page proof: axe-core finds no serious or
critical violation, every control can be reached with Tab (no trap) and shows
a visible focus outline, and a screenshot is kept for the failure report. The
page is then shown again on a phone (390 px wide): it must not scroll sideways
and axe must stay clean there too; that screenshot is always kept.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# A same-origin path answered by the test browser only (context.route), so the
# app's script-src 'self' policy admits axe-core without switching CSP off.
AXE_URL = "/__e2e__/axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}
# The app's :focus-visible rule (static/css/app.css): 3px solid var(--focus).
APP_FOCUS_OUTLINE = ("solid", 3.0, "rgb(242, 183, 5)")
# A phone: the page must fit its width (no sideways scroll) and stay accessible.
PHONE_VIEWPORT = {"width": 390, "height": 844}
CODE_RE = re.compile(r"\b(\d{6})\b")
HREF_RE = re.compile(r'href="([^"]+)"')

# Describes document.activeElement: where it is, whether its focus shows.
FOCUS_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const cs = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const all = document.getElementsByTagName('*');
  const index = Array.prototype.indexOf.call(all, el);
  const key = el.type === 'radio' && el.name ? 'radio:' + el.name : 'el:' + index;
  const label = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || '')
    .trim().replace(/\\s+/g, ' ').slice(0, 60);
  return {
    key,
    what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + label + '"',
    // Inside a date field the focus may sit on the field's own calendar button.
    focusVisible: el.matches(':focus-visible')
      || (!el.matches(':focus') && el.matches(':focus-within')),
    outlineStyle: cs.outlineStyle,
    outlineWidth: parseFloat(cs.outlineWidth) || 0,
    outlineColor: cs.outlineColor,
    boxShadow: cs.boxShadow,
    onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
      && r.top < innerHeight && r.left < innerWidth,
  };
}
"""

# Every control a keyboard user must be able to reach (one stop per radio group).
FOCUSABLE_JS = """
() => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
  const all = document.getElementsByTagName('*');
  const keys = new Map();
  for (const el of document.querySelectorAll(selector)) {
    if (el.disabled || el.tabIndex < 0 || el.type === 'hidden') continue;
    if (el.closest('[inert], [hidden], [aria-hidden="true"]')) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || !el.getClientRects().length) continue;
    const index = Array.prototype.indexOf.call(all, el);
    const key = el.type === 'radio' && el.name ? 'radio:' + el.name : 'el:' + index;
    const label = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 60);
    keys.set(key, el.tagName.toLowerCase() + ' "' + label + '"');
  }
  return Object.fromEntries(keys);
}
"""


# The page's width against the window's, and the outermost elements that stick out.
WIDTH_JS = """
() => {
  const root = document.documentElement;
  const edge = root.clientWidth + 1;
  const out = [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > edge)
    .filter(el => el.parentElement.getBoundingClientRect().right <= edge)
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
      + ' to ' + Math.round(el.getBoundingClientRect().right) + ' px');
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, sticksOut: out};
}
"""


def missing_tools() -> str:
    """Why the browser journeys cannot run here, or "" when they can."""
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"browser journeys need Debian's Chromium at {CHROMIUM}: scripts/test.sh installs it "
            "with apt-get when run as root (it never downloads a browser)"
        )
    if not AXE_SCRIPT.is_file():
        return (
            f"browser journeys need axe-core at {AXE_SCRIPT}: scripts/test.sh runs `npm ci` "
            "in tests/e2e when node and npm are installed"
        )
    return ""


@dataclass
class Journey:
    """One person's browser tab, with the checks every page of a journey gets."""

    page: Any
    base_url: str
    outbox: list[Any]
    # Runs the email worker until the queue is empty (the run_worker fixture).
    deliver: Callable[[], object]
    screenshots: list[tuple[str, bytes]] = field(default_factory=list)
    phone_screenshots: list[tuple[str, bytes]] = field(default_factory=list)
    checked: list[dict[str, Any]] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        def on_console(message: Any) -> None:
            if "Content Security Policy" in message.text:
                self.csp_violations.append(f"{self._path()}: {message.text}")

        self.page.on("console", on_console)

    # --- Signing in -------------------------------------------------------------

    def code_for(self, email: str) -> str:
        """The code in the newest sign-in email to `email` (the locmem outbox)."""
        self.deliver()
        for message in reversed(self.outbox):
            if email in message.to and "sign-in code" in message.subject:
                match = CODE_RE.search(message.body)
                assert match, "the sign-in email has no 6-digit code"
                return match.group(1)
        raise AssertionError("no sign-in email was sent")

    def sign_in(self, email: str) -> None:
        """Ask for a code on /login/, read it from the email, enter it (checking both pages)."""
        page = self.page
        if not page.url.endswith("/login/"):
            page.goto("/login/")
        self.check_page("sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_role("button", name="Email me a code").click()
        page.wait_for_url("**/login/code/")
        self.check_page("enter-code")
        page.get_by_label("Sign-in code").fill(self.code_for(email))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: not url.endswith("/login/code/"))

    # --- Checks on every page ---------------------------------------------------

    def check_page(self, name: str, *, focus_style: str = "app", phone: bool = True) -> None:
        """axe-core, keyboard reachability and visible focus on the page now shown;
        then the same page on a phone (check_on_phone) unless `phone` is False."""
        self.page.wait_for_load_state()
        # Width first: a page thousands of pixels wide makes the screenshot time out.
        self.assert_no_sideways_scroll(name)
        self.screenshot(name)
        assert not self.csp_violations, "CSP violations:\n" + "\n".join(self.csp_violations)
        self.assert_no_serious_axe_violations(name)
        self.assert_keyboard_reaches_everything(name, focus_style=focus_style)
        if phone:
            self.check_on_phone(name)

    def check_on_phone(self, name: str) -> None:
        """At 390 px wide: no sideways scroll and axe still clean; the screenshot is kept."""
        page = self.page
        desktop = page.viewport_size
        page.set_viewport_size(PHONE_VIEWPORT)
        # The keyboard check leaves focus on the skip link, which then covers the header.
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        try:
            self.assert_no_sideways_scroll(f"{name} at 390 px")
            self.phone_screenshots.append((name, page.screenshot(full_page=True)))
            self.assert_no_serious_axe_violations(f"{name} at 390 px")
        finally:
            page.set_viewport_size(desktop)

    def assert_no_sideways_scroll(self, name: str) -> None:
        """The page is no wider than the window (document scrollWidth <= clientWidth)."""
        width = self.page.evaluate(WIDTH_JS)
        assert width["scrollWidth"] <= width["clientWidth"], (
            f"{name} ({self._path()}) scrolls sideways: {width['scrollWidth']} px wide in a "
            f"{width['clientWidth']} px window; sticking out: {width['sticksOut']}"
        )

    def screenshot(self, name: str) -> None:
        number = len(self.screenshots) + 1
        self.screenshots.append((f"{number:02d}-{name}", self.page.screenshot(full_page=True)))

    def assert_no_serious_axe_violations(self, name: str) -> None:
        page = self.page
        if not page.evaluate("() => typeof window.axe === 'object'"):
            if self.base_url and page.url.startswith(self.base_url):
                page.add_script_tag(url=AXE_URL)  # admitted by the app's CSP
            else:  # a test page set with set_content, which has no policy
                page.add_script_tag(path=str(AXE_SCRIPT))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [node["target"] for node in v["nodes"]][:5],
            }
            for v in result["violations"]
        ]
        self.checked.append({"page": name, "path": self._path(), "violations": violations})
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe on {name} ({self._path()}):\n" + json.dumps(blocking, indent=1)

    def assert_keyboard_reaches_everything(self, name: str, *, focus_style: str = "app") -> None:
        """Tab all the way round the page: every control is reached, none traps focus,
        each one shows its focus (the app's :focus-visible outline on our pages)."""
        page = self.page
        expected: dict[str, str] = page.evaluate(FOCUSABLE_JS)
        reached: list[str] = []
        first = None
        for _ in range(3 * len(expected) + 10):  # a date field is up to 4 stops
            page.keyboard.press("Tab")
            focus = page.evaluate(FOCUS_JS)
            if focus is None:  # focus left the document: the next Tab wraps round
                continue
            if focus["key"] == first:
                break
            first = first or focus["key"]
            reached.append(focus["key"])
            self.assert_focus_visible(focus, name=name, style=focus_style)
        else:
            raise AssertionError(f"{name}: Tab never came back round (a keyboard trap?)")
        missing = {key: what for key, what in expected.items() if key not in reached}
        assert not missing, f"{name}: not reachable with Tab: {sorted(missing.values())}"

    @staticmethod
    def assert_focus_visible(focus: dict[str, Any], *, name: str, style: str) -> None:
        where = f"{name}: focus on {focus['what']}"
        assert focus["focusVisible"], f"{where} does not match :focus-visible"
        assert focus["onScreen"], f"{where} is off screen"
        if style == "app":
            shown = (focus["outlineStyle"], focus["outlineWidth"], focus["outlineColor"])
            assert shown == APP_FOCUS_OUTLINE, f"{where} has outline {shown}"
        else:  # Django's admin: the browser's own focus ring, or the admin's styles
            outlined = focus["outlineStyle"] != "none" and focus["outlineWidth"] > 0
            assert outlined or focus["boxShadow"] != "none", f"{where} shows no focus"

    def tab_to(self, locator: Any, *, max_tabs: int = 60) -> None:
        """Press Tab until `locator` has focus, checking each stop shows its focus."""
        for _ in range(max_tabs):
            self.page.keyboard.press("Tab")
            if locator.evaluate("el => el === document.activeElement"):
                focus = self.page.evaluate(FOCUS_JS)
                self.assert_focus_visible(focus, name=self._path(), style="app")
                return
        raise AssertionError(f"Tab never reached {locator} on {self._path()}")

    # --- Reporting --------------------------------------------------------------

    def save_phone_screenshots(self, folder: Path) -> None:
        """Write every page as it looked at 390 px (kept after every run, failed or not)."""
        if not self.phone_screenshots:
            return
        folder.mkdir(parents=True, exist_ok=True)
        for number, (name, png) in enumerate(self.phone_screenshots, start=1):
            (folder / f"{number:02d}-{name}.png").write_bytes(png)

    def save_screenshots(self, folder: Path) -> None:
        """Write the key pages seen so far, and the page as it is now."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, png in self.screenshots:
            (folder / f"{name}.png").write_bytes(png)
        try:
            self.page.screenshot(path=str(folder / "zz-at-failure.png"), full_page=True)
        except Exception as exc:  # noqa: BLE001 - the page may be gone; keep the others
            (folder / "zz-at-failure.txt").write_text(f"no screenshot: {exc}\n")
        (folder / "axe.json").write_text(json.dumps(self.checked, indent=1))

    def _path(self) -> str:
        return self.page.url.removeprefix(self.base_url)
