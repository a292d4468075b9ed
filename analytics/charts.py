"""Chart geometry for the admin dashboard: numbers in, SVG coordinates out.

Plain functions with no Django in them, so the arithmetic is tested on its own and the
template only draws what they return. Coordinates are rounded to two decimals.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import ceil

Number = int | float | Decimal

# Steps of the value axis: 1, 2, 5 and 2.5 (from 25 on, so ticks stay whole numbers) x 10^k.
_STEP_FACTORS = (1, 2, 2.5, 5)


@dataclass(frozen=True)
class Frame:
    """An SVG canvas and the plot area inside it; the margins hold the axis labels."""

    width: int = 640
    height: int = 190
    left: int = 48
    right: int = 12
    top: int = 12
    bottom: int = 26

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> int:
        return self.height - self.bottom

    @property
    def right_edge(self) -> int:
        return self.width - self.right


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: Number
    label: str

    @property
    def centre(self) -> float:
        return _r(self.x + self.width / 2)


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str


@dataclass(frozen=True)
class SeriesChart:
    """A daily series drawn as columns (`bars`) or as a line through their tops (`points`)."""

    frame: Frame
    ticks: list[Tick]
    bars: list[Bar]
    x_labels: list[XLabel]
    points: str  # "x,y x,y ..." for <polyline>
    area: str  # the same line closed along the baseline, for <polygon>


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    value: Number


def _r(value: float) -> float:
    return round(value, 2)


def nice_step(largest: Number, ticks: int = 4) -> int:
    """The smallest round step that lets `ticks` steps reach `largest` (at least 1)."""
    wanted = float(largest) / ticks
    magnitude = 1
    while True:
        for factor in _STEP_FACTORS:
            step = factor * magnitude
            if step == int(step) and step >= wanted:
                return int(step)
        magnitude *= 10


def compact(value: Number) -> str:
    """An axis label: 950, 2.5k, 12k, 1.2M."""
    value = float(value)
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            short = value / size
            return f"{short:.1f}".removesuffix(".0") + suffix
    return f"{value:.0f}"


def series_chart(
    values: Sequence[Number],
    labels: Sequence[str],
    *,
    frame: Frame = Frame(),
    ticks: int = 4,
    max_labels: int = 8,
) -> SeriesChart:
    """Columns for one value per day, a value axis with round ticks, and spaced day labels.

    Every bar sits in an equal slot, 70% of its width; the last day always gets a label.
    """
    step = nice_step(max(values, default=0), ticks)
    top = step * ticks
    slot = frame.plot_width / len(values) if values else 0
    bar_width = slot * 0.7

    def y_of(value: Number) -> float:
        return frame.baseline - float(value) / top * frame.plot_height

    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        y = y_of(value)
        bars.append(
            Bar(
                x=_r(frame.left + i * slot + (slot - bar_width) / 2),
                y=_r(y),
                width=_r(bar_width),
                height=_r(frame.baseline - y),
                value=value,
                label=label,
            )
        )
    every = ceil(len(values) / max_labels) if values else 1
    x_labels = [
        XLabel(x=_r(frame.left + (i + 0.5) * slot), text=labels[i])
        for i in range(len(values))
        if (len(values) - 1 - i) % every == 0
    ]
    centres = [(bar.centre, bar.y) for bar in bars]
    points = " ".join(f"{x:g},{y:g}" for x, y in centres)
    area = (
        f"{centres[0][0]:g},{frame.baseline} {points} {centres[-1][0]:g},{frame.baseline}"
        if centres
        else ""
    )
    return SeriesChart(
        frame=frame,
        ticks=[Tick(y=_r(y_of(step * i)), label=compact(step * i)) for i in range(ticks + 1)],
        bars=bars,
        x_labels=x_labels,
        points=points,
        area=area,
    )


def stacked_bar(
    values: Sequence[Number], *, width: float, total: Number | None = None
) -> list[Segment]:
    """Segments laid end to end, each as wide as its share of `total` (default: their sum).

    Clipped at `width`, so a total smaller than the parts never draws past the bar.
    """
    whole = float(total if total is not None else sum(values))
    segments, x = [], 0.0
    for value in values:
        share = float(value) / whole * width if whole else 0.0
        share = min(share, width - x)
        segments.append(Segment(x=_r(x), width=_r(share), value=value))
        x += share
    return segments


def percent(part: Number, whole: Number) -> int:
    """A whole percentage for a label; 0 when there is nothing to divide by."""
    return round(float(part) / float(whole) * 100) if whole else 0
