"""axe-core accessibility checks for the browser journeys.

axe-core is vendored under e2e/vendor/axe-core/ (see e2e/vendor/VERSIONS.txt) and never fetched at run
time. The pages send a strict Content-Security-Policy (script-src 'self' 'nonce-…'), which refuses an
injected <script> element; `page.evaluate` runs in the page through the DevTools protocol and is not
subject to the CSP, so the library is evaluated that way.

The rule set: WCAG 2.0, 2.1 and 2.2 at levels A and AA, plus Deque's best practices (landmarks, one
main, headings, unique ids…). A page fails on any violation whose impact is "serious" or "critical";
"moderate" and "minor" ones are reported by axe but do not fail the journey.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING_IMPACTS = frozenset({"serious", "critical"})
TARGETS_SHOWN = 5


@cache
def _axe_source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe finds on the page as it is now."""
    # htmx fragments (tables, counters) load after the page itself: check the page a reader would see,
    # once no htmx request is in flight (htmx marks the requesting element with .htmx-request). Cheaper
    # than waiting for the network to stay idle for half a second, twice per page.
    page.wait_for_load_state("load")
    page.wait_for_function("document.querySelector('.htmx-request') === null")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result: dict[str, Any] = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        RULE_TAGS,
    )
    return [violation for violation in result["violations"] if violation["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation: impact, rule id, help text, how many nodes and the first few targets."""
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:TARGETS_SHOWN]]
        more = len(violation["nodes"]) - len(targets)
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({len(violation['nodes'])} nodes: {', '.join(targets)}{f' … +{more}' if more else ''})"
        )
    return "\n".join(lines)


def assert_accessible(page: Page, name: str) -> None:
    """Fail, listing every serious or critical axe violation, and keep a screenshot
    e2e/artifacts/<name>-axe.png of the failing page."""
    violations = axe_violations(page)
    if not violations:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    safe_name = re.sub(r"[^\w.-]+", "_", name)
    page.screenshot(path=str(ARTIFACTS / f"{safe_name}-axe.png"), full_page=True)
    raise AssertionError(f"{name} ({page.url}): axe found\n{describe(violations)}")
