"""Server-rendered SVG charts for the dashboard: pure functions from plain values to markup.

Every chart draws in a 360-unit-wide viewBox and is scaled by CSS to the card's width, so
12-unit text stays about 12 px on a phone and never shrinks below it on a wide screen.
Labels are escaped; numbers are formatted here. No JavaScript, no external assets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from markupsafe import Markup, escape

WIDTH = 360
BAR = 14
ROW = 40
FONT = 13
# Colour-blind-safe pairs (Okabe–Ito), with enough contrast on white for text beside them.
COLOURS = {"brand": "#0b6e4f", "blue": "#0072b2", "orange": "#d55e00", "amber": "#e69f00", "sky": "#56b4e9",
           "grey": "#98a2b3", "purple": "#cc79a7", "track": "#eef0f3", "ink": "#1d2330", "muted": "#5d6678"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: Optional[float]  # None: no data (drawn as an empty track, shown as "–")
    text: str = ""  # what to print beside the bar; defaults to the value
    colour: str = "brand"


@dataclass(frozen=True)
class Segment:
    name: str
    value: float
    colour: str


def _fmt(value: Optional[float], suffix: str = "") -> str:
    if value is None:
        return "–"
    return (f"{value:g}" if isinstance(value, float) else str(value)) + suffix


def _svg(height: float, title: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height:g}" '
            f'role="img" aria-label="{escape(title)}" font-size="{FONT}" '
            f'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, sans-serif">'
            f"<title>{escape(title)}</title>")
    return Markup(head + "".join(body) + "</svg>")


def hbars(bars: Sequence[Bar], title: str, max_value: Optional[float] = None, suffix: str = "") -> Markup:
    """One labelled horizontal bar per row: the label above, the value at the bar's end."""
    if not bars:
        return empty(title)
    top = max_value if max_value else max((b.value or 0 for b in bars), default=0) or 1
    texts = [bar.text or _fmt(bar.value, suffix) for bar in bars]
    # Room for the longest value after the bars (bold digits and "%" are up to about 0.72 em wide).
    track = WIDTH - max(40, round(max(len(t) for t in texts) * FONT * 0.72) + 10)
    body: list[str] = []
    for i, (bar, label) in enumerate(zip(bars, texts)):
        y = i * ROW
        length = 0 if bar.value is None else max(0.0, min(bar.value / top, 1.0)) * track
        body.append(f'<text x="0" y="{y + FONT:g}" fill="{COLOURS["ink"]}">{escape(bar.label)}</text>')
        body.append(f'<rect x="0" y="{y + 18:g}" width="{track:g}" height="{BAR}" rx="3" fill="{COLOURS["track"]}"/>')
        if length:
            body.append(f'<rect class="bar" x="0" y="{y + 18:g}" width="{length:.1f}" height="{BAR}" rx="3" '
                        f'fill="{COLOURS.get(bar.colour, bar.colour)}"/>')
        body.append(f'<text x="{track + 6:g}" y="{y + 30:g}" fill="{COLOURS["ink"]}" font-weight="600">'
                    f"{escape(label)}</text>")
    return _svg(len(bars) * ROW, title, body)


def stacked(rows: Sequence[tuple[str, Sequence[Segment]]], title: str) -> Markup:
    """One 100% bar per row, split into segments, with a legend above and counts inside."""
    if not rows:
        return empty(title)
    body, legend_h = _legend(rows[0][1])
    for i, (label, segments) in enumerate(rows):
        y = legend_h + i * ROW
        total = sum(s.value for s in segments)
        body.append(f'<text x="0" y="{y + FONT:g}" fill="{COLOURS["ink"]}">{escape(label)}'
                    f'<tspan fill="{COLOURS["muted"]}"> ({total:g})</tspan></text>')
        body.append(f'<rect x="0" y="{y + 17:g}" width="{WIDTH:g}" height="{BAR}" rx="3" fill="{COLOURS["track"]}"/>')
        x = 0.0
        for seg in segments:
            if not total or not seg.value:
                continue
            w = seg.value / total * WIDTH
            body.append(f'<rect class="bar" x="{x:.1f}" y="{y + 17:g}" width="{w:.1f}" height="{BAR}" '
                        f'fill="{COLOURS.get(seg.colour, seg.colour)}"><title>{escape(seg.name)}: {seg.value:g}'
                        f"</title></rect>")
            if w >= 16:
                body.append(f'<text x="{x + w / 2:.1f}" y="{y + 28:g}" fill="#fff" text-anchor="middle" '
                            f'font-size="10" font-weight="600">{seg.value:g}</text>')
            x += w
    return _svg(legend_h + len(rows) * ROW, title, body)


def columns(points: Sequence[Bar], title: str, legend: Sequence[tuple[str, str]] = (), suffix: str = "") -> Markup:
    """Vertical bars over days: the value above each bar, the day below (thinned when crowded).

    `legend` is (colour, name) pairs for the colours the bars use.
    """
    if not points:
        return empty(title)
    height, top_pad, bottom = 180, 32, 26
    plot = height - top_pad - bottom
    top = max((p.value or 0 for p in points), default=0) or 1
    slot = WIDTH / len(points)
    width = max(2.0, min(slot * 0.7, 36))
    every = max(1, round(len(points) / 10))  # at most about 10 day labels
    body = [f'<line x1="0" x2="{WIDTH}" y1="{top_pad + plot}" y2="{top_pad + plot}" stroke="{COLOURS["grey"]}"/>']
    body += _legend(legend, pairs=True)[0]
    for i, p in enumerate(points):
        cx = slot * i + slot / 2
        if p.value is not None:
            h = max(p.value / top * plot, 1.5 if p.value else 0)
            body.append(f'<rect class="bar" x="{cx - width / 2:.1f}" y="{top_pad + plot - h:.1f}" width="{width:.1f}" '
                        f'height="{h:.1f}" rx="2" fill="{COLOURS.get(p.colour, p.colour)}">'
                        f"<title>{escape(p.label)}: {_fmt(p.value, suffix)}</title></rect>")
            if len(points) <= 16:
                body.append(f'<text x="{cx:.1f}" y="{top_pad + plot - h - 4:.1f}" text-anchor="middle" font-size="10" '
                            f'fill="{COLOURS["ink"]}">{_fmt(p.value)}</text>')
        else:
            body.append(f'<text x="{cx:.1f}" y="{top_pad + plot - 4:.1f}" text-anchor="middle" font-size="10" '
                        f'fill="{COLOURS["muted"]}">–</text>')
        if i % every == 0:
            body.append(f'<text x="{cx:.1f}" y="{height - 10}" text-anchor="middle" font-size="10" '
                        f'fill="{COLOURS["muted"]}">{escape(p.label)}</text>')
    return _svg(height, title, body)


def _legend(items: Sequence, pairs: bool = False) -> tuple[list[str], float]:
    """Swatch and name per segment (or (colour, name) pair), wrapping; returns the markup and its height."""
    body: list[str] = []
    x, y = 0.0, 0.0
    for item in items:
        colour, name = (item if pairs else (item.colour, item.name))
        width = 14 + 6.2 * len(name) + 10
        if x and x + width > WIDTH:
            x, y = 0.0, y + 16
        body.append(f'<rect x="{x:.1f}" y="{y + 2:g}" width="10" height="10" rx="2" '
                    f'fill="{COLOURS.get(colour, colour)}"/>')
        body.append(f'<text x="{x + 14:.1f}" y="{y + 11:g}" font-size="11" fill="{COLOURS["muted"]}">'
                    f"{escape(name)}</text>")
        x += width
    return body, (y + 20 if items else 0)


def empty(title: str) -> Markup:
    return _svg(40, title, [f'<text x="0" y="24" fill="{COLOURS["muted"]}">No data in this range.</text>'])
