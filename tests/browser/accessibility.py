"""Accessibility checks every page must pass on every screen size.

axe-core (vendored under vendor/axe-core) runs the WCAG 2 A/AA rules inside the page:
labels, contrast, landmarks, names of buttons and links. On top, what axe leaves to us:
one h1, a language, and no sideways scrolling on a phone.
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


def serious_violations(page) -> list[str]:
    # A click may have just started a navigation: check the new page once it has loaded.
    page.wait_for_load_state()
    if not page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the portal's CSP forbids inline scripts.
        page.evaluate(AXE.read_text())
    return page.evaluate(SERIOUS_VIOLATIONS)


def assert_accessible(page) -> None:
    assert serious_violations(page) == []
    assert page.locator("main").count() == 1
    assert page.locator("h1").count() == 1, "a page has exactly one h1"
    assert page.evaluate("document.documentElement.lang") == "en"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px: {page.evaluate(WIDE)}"
