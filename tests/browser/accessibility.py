"""Accessibility checks every page must pass on every screen size.

axe-core (vendored under vendor/axe-core) runs the WCAG 2 A/AA rules inside the page:
labels, contrast, landmarks, names of buttons and links. On top, what axe leaves to us:
one h1, a language, no sideways scrolling on a phone, and no merge conflict markers
(a template committed mid-merge shows them to customers).
"""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

SERIOUS_VIOLATIONS = """
async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
    resultTypes: ['violations'],
  });
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
}
"""


WIDE = """
() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth)
  .map(el => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}px`)
  .slice(0, 5)
"""


# A template committed mid-merge renders its markers as text. textContent keeps the
# template's line breaks, which innerText folds into the surrounding words.
_MARKER_LINES = r"""
  (document.body ? document.body.textContent : '').split('\n')
    .filter(line => /^[ \t]*(<<<<<<<|=======|>>>>>>>)([ \t]|$)/.test(line))
"""
CONFLICT_MARKERS = f"() => {_MARKER_LINES}"
CONFLICT_MARKER_MESSAGE = "Merge conflict markers on"
# Run in every page the browser opens (an init script, so the portal's CSP does not apply):
# a page the test only passes through is checked too, and reports on the console.
CONFLICT_MARKER_WATCH = f"""
addEventListener('DOMContentLoaded', () => {{
  const markers = {_MARKER_LINES.strip()};
  if (markers.length) console.error(
    `{CONFLICT_MARKER_MESSAGE} ${{location.pathname}}: ${{markers.join(' | ')}}`);
}});
"""


def assert_no_conflict_markers(page) -> None:
    page.wait_for_load_state()
    markers = page.evaluate(CONFLICT_MARKERS)
    assert markers == [], f"{page.url} shows merge conflict markers: {markers}"


def serious_violations(page) -> list[str]:
    # A click may have just started a navigation: check the new page once it has loaded.
    page.wait_for_load_state()
    if not page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the portal's CSP forbids inline scripts.
        page.evaluate(AXE.read_text())
    return page.evaluate(SERIOUS_VIOLATIONS)


def assert_accessible(page, language: str = "en") -> None:
    assert_no_conflict_markers(page)
    found = serious_violations(page)
    assert found == [], found
    assert page.locator("main").count() == 1
    assert page.locator("h1").count() == 1, "a page has exactly one h1"
    assert page.evaluate("document.documentElement.lang") == language
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px: {page.evaluate(WIDE)}"
