"""WCAG AA contrast of the web page's colours, computed from the stylesheet's values in
both themes (client_demo/web/style.css: :root is light, :root[data-theme="dark"] dark):
4.5:1 for text on its background, 3:1 for progress bars on their track, input borders
and focus rings on what they sit on. Every colour of the page is one of these variables
(checked here too), so the pairs below are every pair it draws."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parent.parent / "client_demo" / "web" / "style.css"

TEXT, GRAPHIC = 4.5, 3.0
# (foreground, background, minimum): what the page draws on what.
PAIRS = [
    ("fg", "bg", TEXT), ("fg", "card", TEXT), ("muted", "card", TEXT), ("muted", "bg", TEXT),
    ("accent", "card", TEXT), ("accent", "bg", TEXT),                # links, countdown, you
    ("on-accent", "accent", TEXT), ("on-accent", "accent-hover", TEXT),   # primary buttons
    ("fg", "button-bg", TEXT), ("fg", "button-hover", TEXT), ("fg", "input-bg", TEXT),
    ("top-fg", "top-bg", TEXT),                                      # the top bar and nav
    ("bad", "card", TEXT), ("bad", "bg", TEXT),                      # form errors, flags
    ("bad-fg", "bad-bg", TEXT), ("bad", "bad-bg", TEXT), ("fg", "bad-bg", TEXT),
    ("fg", "info-bg", TEXT),                                         # the watching banner
    ("fg", "mine-bg", TEXT), ("muted", "mine-bg", TEXT),             # our results row
    ("host", "card", TEXT), ("best", "card", TEXT), ("best", "mine-bg", TEXT),
    ("ok", "passage-bg", TEXT), ("rest", "passage-bg", TEXT),        # the passage
    ("fg", "caret-bg", TEXT), ("muted", "passage-bg", TEXT), ("rest", "card", TEXT),
    ("bar", "track", GRAPHIC), ("bar-done", "track", GRAPHIC), ("bar-ghost", "track", GRAPHIC),
    ("caret", "caret-bg", GRAPHIC),
    ("input-border", "card", GRAPHIC), ("input-border", "input-bg", GRAPHIC),
    ("focus", "card", GRAPHIC), ("focus", "bg", GRAPHIC), ("top-focus", "top-bg", GRAPHIC),
    ("accent", "card", GRAPHIC),                                     # chart line and points
]


def theme_blocks(css: str) -> dict[str, dict[str, str]]:
    blocks = {}
    for name, selector in (("light", r":root"), ("dark", r':root\[data-theme="dark"\]')):
        found = re.search(r"(?m)^" + selector + r"\s*\{([^}]*)\}", css)
        assert found, f"no {name} theme block in style.css"
        blocks[name] = dict(re.findall(r"--([\w-]+):\s*([^;]+);", found.group(1)))
    return blocks


def luminance(hex_colour: str) -> float:
    value = hex_colour.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    assert re.fullmatch(r"[0-9a-fA-F]{6}", value), hex_colour

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(value[i:i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_contrast_formula_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)   # just under AA
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)   # just over


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_colour_pair_meets_wcag_aa(theme):
    colours = theme_blocks(CSS.read_text(encoding="utf-8"))[theme]
    failures = []
    for fg, bg, minimum in PAIRS:
        ratio = contrast(colours[fg], colours[bg])
        if ratio < minimum:
            failures.append(f"--{fg} on --{bg}: {ratio:.2f}:1 < {minimum}:1")
    assert failures == [], f"{theme} theme"


def test_both_themes_set_the_same_colours_and_none_is_written_elsewhere():
    css = CSS.read_text(encoding="utf-8")
    blocks = theme_blocks(css)
    assert set(blocks["light"]) == set(blocks["dark"])
    used = {name for pair in PAIRS for name in pair[:2]}
    assert used <= set(blocks["light"]), used - set(blocks["light"])
    # Outside the two theme blocks every colour is a var(): a literal would escape the
    # contrast check (and the dark theme).
    rest = re.sub(r'(?ms)^:root(\[data-theme="dark"\])?\s*\{[^}]*\}', "", css)
    rest = re.sub(r"/\*.*?\*/", "", rest, flags=re.S)
    literals = re.findall(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(", rest)
    named = re.findall(r"(?:color|background|border[\w-]*|fill|stroke|outline[\w-]*)\s*:"
                       r"[^;]*\b(white|black|red|blue|green|gray|grey|yellow|orange)\b", rest)
    assert literals == [] and named == []
