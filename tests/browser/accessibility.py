"""Checks a page must pass on every screen size: the parts of WCAG a script can verify."""

from __future__ import annotations

UNLABELLED_FIELDS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)
"""

# WCAG 2.x relative luminance and contrast ratio of each visible text element's colour
# against the first opaque background behind it.
LOW_CONTRAST_TEXT = """
() => {
  const parse = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const ch = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.offsetParent === null) continue;
    const style = getComputedStyle(el);
    const fg = parse(style.color).slice(0, 3), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const large = parseFloat(style.fontSize) >= 24
      || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${el.tagName} "${el.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}`);
    }
  }
  return failures;
}
"""


def assert_accessible(page) -> None:
    """Landmarks, one h1, labelled fields, AA contrast and no sideways scrolling."""
    assert page.locator("header").count() >= 1
    assert page.locator("main").count() == 1
    assert page.locator("nav").count() >= 1
    assert page.locator("h1").count() == 1, "a page has exactly one h1"
    assert page.evaluate(UNLABELLED_FIELDS) == []
    assert page.evaluate(LOW_CONTRAST_TEXT) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"
    assert page.evaluate("document.documentElement.lang") == "en"
