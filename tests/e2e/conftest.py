"""Browser journeys: Debian's Chromium driven by Playwright against the live server.

The browser is the machine's own /usr/bin/chromium (never a downloaded one) and
axe-core comes from tests/e2e/node_modules (npm, pinned by package-lock.json);
scripts/test.sh installs both when it can. When either is missing the journeys
skip with the reason, and under CI=true a skip fails the run (tests/conftest.py).

The live server runs in a thread of this process and queues its emails; the
journey runs the worker here before reading a code, so the locmem outbox the
worker writes to is the `mailoutbox` the test reads its sign-in codes from.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import AXE_SCRIPT, AXE_URL, CHROMIUM, CHROMIUM_ARGS, Journey, missing_tools

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_ROOT = REPO_ROOT / "test-output" / "e2e"
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: a browser journey (Chromium + Playwright + axe-core against live_server)"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so fixtures can see whether the test failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="package")
def playwright_browser() -> Iterator[Any]:
    """One headless Chromium for the whole e2e package, closed after its last test.

    Playwright's sync API keeps an event loop running in this thread, which
    Django's ORM takes for async code; the tests' own database calls are plain
    synchronous ones, so the guard is lifted while (and only while) it runs.
    """
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture(scope="package")
def axe_summary() -> Iterator[list[dict[str, Any]]]:
    """Every page the journeys checked, with all axe findings (minor ones too), written
    to test-output/e2e/axe-summary.json after the last journey."""
    pages: list[dict[str, Any]] = []
    yield pages
    if pages:
        OUTPUT_ROOT.mkdir(parents=True, exist_ok=True)
        (OUTPUT_ROOT / "axe-summary.json").write_text(json.dumps(pages, indent=1))


@pytest.fixture
def site(live_server: Any, settings: Any) -> Any:
    """The live server, with the links in emails pointing at it."""
    settings.SITE_URL = live_server.url
    return live_server


@pytest.fixture
def journey(
    request: pytest.FixtureRequest,
    playwright_browser: Any,
    site: Any,
    mailoutbox: list[Any],
    run_worker: Any,
    axe_summary: list[dict[str, Any]],
) -> Iterator[Journey]:
    """A fresh browser context and page; on failure its key pages are saved as screenshots.

    Every page the journey checked is also kept as it looked on a phone (390 px),
    in test-output/e2e/390px/<test name>/, failed or not.

    The app's Content-Security-Policy stays on: axe-core is served from a
    same-origin path that only this browser context answers (AXE_URL), and any
    CSP violation a page reports fails the journey.
    """
    context = playwright_browser.new_context(
        base_url=site.url, viewport={"width": 1280, "height": 900}
    )
    context.route(
        f"{site.url}{AXE_URL}",
        lambda route: route.fulfill(path=str(AXE_SCRIPT), content_type="application/javascript"),
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    current = Journey(page=page, base_url=site.url, outbox=mailoutbox, deliver=run_worker)
    try:
        yield current
    finally:
        axe_summary.extend({"test": request.node.name, **seen} for seen in current.checked)
        test_folder = re.sub(r"[^\w.-]+", "_", request.node.name)
        phone_folder = OUTPUT_ROOT / "390px" / test_folder
        shutil.rmtree(phone_folder, ignore_errors=True)
        current.save_phone_screenshots(phone_folder)
        reports = request.node.stash.get(REPORTS, {})
        if any(report.failed for report in reports.values()):
            folder = OUTPUT_ROOT / test_folder
            shutil.rmtree(folder, ignore_errors=True)
            current.save_screenshots(folder)
        context.close()
