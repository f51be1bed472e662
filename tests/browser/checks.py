"""What a learner would notice is wrong with a lesson's widgets, measured in the page:
controls cut off by their output area or truncated, boxes that scroll sideways, text colours without enough contrast
against their background, and what axe-core (WCAG 2.2 AA rules) finds in the course's widgets.

Each function returns a list of problems (empty when all is well) plus, for contrast and axe,
the measurements for the report.
"""
from __future__ import annotations

from functools import lru_cache

from axe_playwright_python.base import AXE_FILE_PATH
from playwright.sync_api import Page

WIDGETS = ".jp-OutputArea-output .clientcare"  # every course widget on the page
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

_CLIPPED_JS = """
(selector) => {
  const problems = [];
  const describe = (el) => {
    const owner = el.closest('.clientcare');
    const title = owner && owner.querySelector('h3, h4');
    const text = (el.textContent || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 50);
    return `<${el.tagName.toLowerCase()} class="${el.className}"> "${text}"` +
      (title ? ` in "${title.textContent.trim().slice(0, 50)}"` : '');
  };
  for (const root of document.querySelectorAll(selector)) {
    const area = root.closest('.jp-OutputArea-output');
    const box = area.getBoundingClientRect();
    const controls = root.querySelectorAll(
      'button, input, textarea, select, [role="slider"], label, table, svg, .widget-html-content, .cc-card');
    for (const el of [root, ...controls]) {
      if (el.closest('.cc-assets')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;  // not displayed (e.g. hidden until a choice)
      if (getComputedStyle(el).visibility === 'hidden') continue;
      const scroller = el.parentElement && el.parentElement.closest('.cc-table-scroll');
      if (scroller) continue;  // a wide table scrolls inside its own box
      if (r.left < box.left - 1 || r.right > box.right + 1) {
        problems.push(`${describe(el)} sticks out of its output area ` +
          `(${Math.round(r.left)}-${Math.round(r.right)} px, area ${Math.round(box.left)}-${Math.round(box.right)} px)`);
        continue;
      }
      const style = getComputedStyle(el);
      if (el.matches('button, label') && el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'visible') {
        problems.push(`${describe(el)} is truncated (${el.scrollWidth} px of text in ${el.clientWidth} px)`);
      }
    }
  }
  return problems;
}
"""

_CONTRAST_JS = """
(selector) => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const parts = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
  };
  const over = (top, bottom) => {
    const a = top.a + bottom.a * (1 - top.a);
    if (a === 0) return {r: 0, g: 0, b: 0, a: 0};
    const mix = (c) => (top[c] * top.a + bottom[c] * bottom.a * (1 - top.a)) / a;
    return {r: mix('r'), g: mix('g'), b: mix('b'), a};
  };
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg && bg.a > 0) { layers.push(bg); if (bg.a >= 1) break; }
    }
    let colour = {r: 255, g: 255, b: 255, a: 1};
    if (!layers.length || layers[layers.length - 1].a < 1) colour = parse(getComputedStyle(document.body).backgroundColor) || colour;
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const hex = (c) => '#' + [c.r, c.g, c.b].map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
  const found = {};
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      if (!text.textContent.trim()) continue;
      const el = text.parentElement;
      if (!el || el.closest('.cc-assets, style, script')) continue;
      if (el.closest('button:disabled, input:disabled, textarea:disabled, label:has(input:disabled)')) continue;  // WCAG 1.4.3: inactive controls are exempt
      if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
      const style = getComputedStyle(el);
      const inSvg = el.closest('svg');
      const ink = parse(inSvg ? style.fill : style.color);
      if (!ink) continue;
      let opacity = 1;
      for (let node = el; node; node = node.parentElement) opacity *= Number(getComputedStyle(node).opacity);
      const bg = background(el);
      const fg = over({...ink, a: ink.a * opacity}, bg);
      const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize);
      const bold = Number(style.fontWeight) >= 700;
      const large = size >= 24 || (bold && size >= 18.66);
      const key = `${hex(fg)} on ${hex(bg)}${large ? ' (large)' : ''}`;
      const entry = found[key] || (found[key] = {pair: key, ratio: Math.round(ratio * 100) / 100,
        needed: large ? 3 : 4.5, count: 0, example: ''});
      entry.count += 1;
      if (!entry.example) entry.example = `${el.tagName.toLowerCase()}.${el.className}: "${text.textContent.trim().slice(0, 40)}"`;
    }
  }
  return Object.values(found);
}
"""


_SIDEWAYS_JS = """
(selector) => {
  const problems = [];
  const describe = (el) => `<${el.tagName.toLowerCase()} class="${String(el.className).slice(0, 80)}">` +
    ` "${(el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 50)}"`;
  for (const root of document.querySelectorAll(selector)) {
    const area = root.closest('.jp-OutputArea-output');
    for (const el of [area, root, ...root.querySelectorAll('*')]) {
      if (el.closest('.cc-assets')) continue;
      const style = getComputedStyle(el);
      if (el !== area && el !== root && (style.overflowX === 'visible' || style.display === 'inline')) continue;
      const box = el.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) continue;  // not displayed, or visually hidden for screen readers
      if (el.scrollWidth > el.clientWidth) {
        problems.push(`${describe(el)} scrolls sideways: ${el.scrollWidth} px of content in ${el.clientWidth} px`);
      }
    }
  }
  return problems;
}
"""


def sideways_scrolling(page: Page, selector: str = WIDGETS) -> list[str]:
    """The output areas of the widgets matching ``selector``, the widgets themselves and every box in them
    that can scroll, whose content is wider than the box (scrollWidth > clientWidth): what a learner would
    have to scroll sideways to read."""
    return page.evaluate(_SIDEWAYS_JS, selector)


def clipped_controls(page: Page) -> list[str]:
    """Controls (and the widgets themselves) that stick out of their output area or whose text is cut off."""
    return page.evaluate(_CLIPPED_JS, WIDGETS)


def text_contrast(page: Page) -> tuple[list[dict], list[str]]:
    """Every (text colour, background) pair the widgets show, with its contrast ratio, and the
    pairs below WCAG 1.4.3's minimum (4.5:1, or 3:1 for large text)."""
    pairs = page.evaluate(_CONTRAST_JS, WIDGETS)
    failing = [f"{p['pair']}: {p['ratio']}:1 < {p['needed']}:1, e.g. {p['example']}"
               for p in pairs if p["ratio"] < p["needed"]]
    return pairs, failing


@lru_cache(maxsize=1)
def _axe_script() -> str:
    return AXE_FILE_PATH.read_text(encoding="utf-8")


def axe_violations(page: Page) -> tuple[dict, list[str]]:
    """axe-core's WCAG 2.2 A/AA rules run on the course's widgets only (JupyterLab's own chrome is
    not ours to fix). Returns axe's summary (rules passed, nodes checked) and one line per violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_script())
    results = page.evaluate(
        """async ([selector, tags]) => {
            const roots = [...document.querySelectorAll(selector)];
            if (!roots.length) return {violations: [], passes: [], roots: 0};
            const r = await axe.run({include: roots, exclude: [...document.querySelectorAll('.cc-assets')]},
                                    {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations', 'passes']});
            return {
                roots: roots.length,
                version: r.testEngine.version,
                passes: r.passes.map(p => ({id: p.id, nodes: p.nodes.length})),
                violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\\n').slice(0, 3).join(' ')).slice(0, 5)})),
            };
        }""",
        [WIDGETS, WCAG_TAGS],
    )
    problems = [f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
                for v in results["violations"]]
    return results, problems


_ARIA_JS = """
(selector) => {
  const problems = [];
  const nameOf = (el) => (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
    .map(id => (document.getElementById(id) || {textContent: ''}).textContent.trim()).join(' ');
  for (const root of document.querySelectorAll(selector)) {
    for (const box of root.querySelectorAll('.widget-radio-box, .jupyter-widget-radio-box')) {
      if (box.getAttribute('role') !== 'radiogroup') problems.push('radio buttons not in a radiogroup');
      else if (!nameOf(box)) problems.push('a radiogroup without a name (its question)');
    }
    for (const group of root.querySelectorAll('.clientcare-choices.cc-group')) {
      if (group.querySelector('input[type=checkbox]') && (group.getAttribute('role') !== 'group' || !nameOf(group)))
        problems.push('tick boxes of a question not in a group named by the question');
    }
    for (const button of root.querySelectorAll('.widget-toggle-button, .jupyter-widget-toggle-button')) {
      const pressed = button.classList.contains('mod-active') ? 'true' : 'false';
      if (button.getAttribute('aria-pressed') !== pressed)
        problems.push(`toggle "${button.textContent.trim()}" has aria-pressed=${button.getAttribute('aria-pressed')}, shows ${pressed}`);
    }
    for (const slider of root.querySelectorAll('[role="slider"]')) {
      if (!nameOf(slider) && !slider.getAttribute('aria-label')) problems.push('a slider without a name');
    }
  }
  return problems;
}
"""


def aria_problems(page: Page) -> list[str]:
    """What ipywidgets' markup cannot say and clientcare/static/accessibility.js adds: radio groups and
    tick-box groups named by their question, toggles that say whether they are pressed, named sliders."""
    return page.evaluate(_ARIA_JS, WIDGETS)
