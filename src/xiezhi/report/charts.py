"""Inline SVG charts generated in Python (no JS, no external assets): bars and lines.

Every label is HTML-escaped here, because labels carry user data (target names, ids).
Values are rates in [0, 1].
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from html import escape

COLORS = ("#c0392b", "#2e86c1", "#7d8c8d")  # violation, over-refusal, other
WIDTH = 640
LABEL_W = 210
ROW_H = 22
BAR_H = 14


def _units(ch: str) -> int:
    """Display width of a character in half-width units (CJK and other wide glyphs count 2)."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def fit(text: str, max_units: int) -> str:
    """`text` cut to `max_units` half-width units, with an ellipsis when cut."""
    if sum(_units(c) for c in text) <= max_units:
        return text
    out, used = [], 1
    for c in text:
        used += _units(c)
        if used > max_units:
            break
        out.append(c)
    return "".join(out) + "…"


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    t = escape(title)
    return (
        f'<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{t}</title>' + "".join(body) + "</svg>"
    )


def _legend(series: Sequence[str], y: int) -> list[str]:
    out: list[str] = []
    x = LABEL_W
    for i, name in enumerate(series):
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{COLORS[i % 3]}"/>')
        out.append(f'<text x="{x + 14}" y="{y}" class="lg">{escape(name)}</text>')
        x += 34 + 7 * sum(_units(c) for c in name)
    return out


def bar_chart(rows: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[str], title: str,
              tips: Sequence[str] | None = None) -> str:
    """Horizontal bars: one row per label, one bar per series (None = no data, drawn as "–").

    Labels are cut to fit; `tips` (same order as rows) give the full text shown on hover.
    """
    n_series = max(1, len(series))
    row_h = ROW_H + (n_series - 1) * (BAR_H + 2)
    top = 26
    height = top + row_h * max(1, len(rows)) + 8
    span = WIDTH - LABEL_W - 70
    body = _legend(series, 14)
    for r, (label, values) in enumerate(rows):
        y0 = top + r * row_h
        tip = tips[r] if tips is not None and r < len(tips) else label
        body.append(
            f'<text x="{LABEL_W - 6}" y="{y0 + BAR_H - 2}" class="lb" text-anchor="end">'
            f"<title>{escape(tip)}</title>{escape(fit(label, 32))}</text>"
        )
        for i, v in enumerate(values):
            y = y0 + i * (BAR_H + 2)
            if v is None:
                body.append(f'<text x="{LABEL_W + 4}" y="{y + BAR_H - 3}" class="vl">–</text>')
                continue
            w = max(0.0, min(1.0, v)) * span
            body.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" fill="{COLORS[i % 3]}"/>'
            )
            body.append(f'<text x="{LABEL_W + w + 4:.1f}" y="{y + BAR_H - 3}" class="vl">{_pct(v)}</text>')
    body.append(f'<line x1="{LABEL_W}" y1="{top - 4}" x2="{LABEL_W}" y2="{height - 6}" class="ax"/>')
    return _svg(WIDTH, height, title, body)


def line_chart(xlabels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str) -> str:
    """Lines over time (x = one point per label, y = rate in [0, 1]); None breaks a line."""
    left, right, top, bottom = 50, 40, 28, 46
    height = 260
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    n = len(xlabels)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h * (1 - max(0.0, min(1.0, v)))

    body = _legend([s for s, _ in series], 14)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        _, y = xy(0, tick)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" class="grid"/>')
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" class="vl" text-anchor="end">{_pct(tick)}</text>')
    step = max(1, n // 8)
    for i, lab in enumerate(xlabels):
        if i % step == 0 or i == n - 1:
            x, _ = xy(i, 0.0)
            body.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" class="vl" text-anchor="middle">{escape(lab)}</text>'
            )
    for s, (name, values) in enumerate(series):
        color = COLORS[s % 3]
        segment: list[str] = []
        for i, v in enumerate(values):
            if v is None:
                if len(segment) > 1:
                    body.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{color}" '
                                'stroke-width="2"/>')
                segment = []
                continue
            x, y = xy(i, v)
            segment.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}">'
                        f"<title>{escape(name)} {escape(xlabels[i])}: {_pct(v)}</title></circle>")
        if len(segment) > 1:
            body.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{color}" stroke-width="2"/>')
    return _svg(WIDTH, height, title, body)
