"""Chart geometry for server-rendered SVG: the same chart serves the insights page and the PDF report.

Functions return plain shapes; `templates/insights/_charts.html` draws them, escaping every label.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    show_label: bool = True


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (position, text) of the value axis
    horizontal: bool

    @property
    def empty(self) -> bool:
        return not any(b.value for b in self.bars)


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^n at or above `value` (axis tops people can read)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _fmt(value: float) -> str:
    return f"{value:g}"


def columns(title: str, points: list[tuple[str, float]], width: int = 720, height: int = 200,
            max_labels: int = 12) -> Chart:
    """Vertical columns, for values over time; only every n-th label is shown when crowded."""
    left, bottom, top = 36, 22, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    top_value = nice_max(max((v for _, v in points), default=0))
    slot = plot_w / max(len(points), 1)
    every = max(1, math.ceil(len(points) / max_labels))
    bars = []
    for n, (label, value) in enumerate(points):
        h = plot_h * value / top_value
        bars.append(Bar(left + n * slot + slot * 0.12, top + plot_h - h, slot * 0.76, h, label, value,
                        n % every == 0))
    ticks = [(top + plot_h - plot_h * f, _fmt(top_value * f)) for f in (0, 0.5, 1)]
    return Chart(title, width, height, bars, ticks, horizontal=False)


def bars(title: str, points: list[tuple[str, float]], width: int = 480, row: int = 22) -> Chart:
    """Horizontal bars, for comparing a handful of categories."""
    label_w, right = 150, 40
    plot_w = width - label_w - right
    top_value = nice_max(max((v for _, v in points), default=0))
    shapes = [Bar(label_w, n * row + 3, plot_w * value / top_value, row - 6, label, value)
              for n, (label, value) in enumerate(points)]
    return Chart(title, width, max(row * len(points), row), shapes, [], horizontal=True)
