"""The journeys run with the app's Content-Security-Policy on, and notice breaches."""

from __future__ import annotations

import pytest

from tests.e2e.browser import Journey

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]


def test_a_page_that_breaks_the_policy_fails_its_check(journey: Journey) -> None:
    journey.page.goto("/login/")
    # An inline script, as a careless template might add: the policy must block it.
    journey.page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.appendChild(s); }"
    )
    assert journey.page.evaluate("() => window.ran === undefined")
    with pytest.raises(AssertionError, match="CSP violations"):
        journey.check_page("inline-script")
