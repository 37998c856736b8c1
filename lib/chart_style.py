"""The one look of every Leanbench chart: colours, font, title block, the empty figure, metrics.

Shared by ``lib.results.charts``, ``lib.compare.charts`` and ``lib.cost.charts`` (and so by the
pages and the HTML report). Bottom layer: imports only plotly and ``lib.format``; chart functions
elsewhere stay pure DataFrame -> ``go.Figure`` and take their style from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import plotly.graph_objects as go

from lib.format import MISSING, is_missing

# Fixed colours for the variants everyone runs; others get a stable one from the palette.
PALETTE = [
    "#2E6BE6",  # blue
    "#E8833A",  # orange
    "#2BA84A",  # green
    "#C23B6B",  # raspberry
    "#7B5BD6",  # violet
    "#13A3A3",  # teal
    "#B8860B",  # dark gold
    "#D64541",  # red
    "#5A6B7D",  # slate
    "#8C564B",  # brown
]
KNOWN_COLORS = {
    "fp32": "#5A6B7D",
    "half": "#2E6BE6",
    "int8": "#E8833A",
    "int8@ort": "#2BA84A",
    "fp32@ort": "#13A3A3",
    "fp32@compile": "#7B5BD6",
}
# Colours for series that are not variants (runs, hardware options), in order of appearance.
SERIES_PALETTE = ["#2E6BE6", "#E8833A", "#2BA84A", "#C23B6B", "#7B5BD6", "#13A3A3", "#5A6B7D"]
# Plotly's default ("D3 category 10"), which the Cost page's charts colour variants with.
CATEGORY_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13, color="#1F2937")
EMPTY_MESSAGE = "No data to plot yet"


def variant_color(variant: str) -> str:
    """The colour of a variant, the same in every chart and every session."""
    if variant in KNOWN_COLORS:
        return KNOWN_COLORS[variant]
    digest = hashlib.sha256(variant.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def ordered_colors(keys: Iterable, palette: list[str] = SERIES_PALETTE) -> dict:
    """One colour per key, in order of first appearance, cycling through ``palette``."""
    return {k: palette[i % len(palette)] for i, k in enumerate(dict.fromkeys(keys))}


def titled_layout(
    fig: go.Figure, title: str, subtitle: str = "", height: int = 440, top: int = 80
) -> go.Figure:
    """A bold title, a grey subtitle, a top legend, the Leanbench font and template."""
    text = f"<b>{title}</b>"
    if subtitle:
        text += f"<br><span style='font-size:12px;color:#6B7280'>{subtitle}</span>"
    fig.update_layout(
        title=dict(text=text, x=0, xanchor="left", y=0.97, yanchor="top"),
        template="plotly_white",
        font=FONT,
        margin=dict(l=60, r=30, t=top, b=60),
        legend=dict(title=None, orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"),
        hoverlabel=dict(bgcolor="white", font_size=12),
        height=height,
    )
    return fig


def empty_figure(message: str = EMPTY_MESSAGE, title: str = "", height: int = 440) -> go.Figure:
    """A chart with nothing to draw: no axes, one centred line saying why (and what to do)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font_size=15
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return titled_layout(fig, title, height=height)


def is_empty_figure(fig: go.Figure) -> bool:
    """True for a figure made by ``empty_figure`` (no traces, only the message)."""
    return not fig.data and len(fig.layout.annotations) == 1 and fig.layout.xaxis.visible is False


@dataclass(frozen=True)
class Metric:
    """One number a bar chart can show: what it is, its unit, how to read and write it.

    ``column`` is the frame column (``key`` when empty); a ``per_batch`` metric lives in columns
    ``f"{column}_b{batch}"``; a ``per_option`` one is repeated per hardware option (a price)."""

    key: str
    label: str  # what it is, for a title
    unit: str  # shown in axis titles
    column: str = ""
    scale: float = 1.0  # applied to the frame's value (fractions -> %)
    higher_is_better: bool = True
    fmt: str = ".1f"
    per_batch: bool = False
    per_option: bool = False

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", self.key)

    @property
    def better(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    @property
    def axis_title(self) -> str:
        return f"{self.label} ({self.unit})"

    def format(self, value) -> str:
        """A scaled value as text, e.g. ``81.2``; the missing mark for a missing one."""
        return MISSING if is_missing(value) else format(value, self.fmt)


def metric_table(*metrics: Metric) -> dict[str, Metric]:
    """Metrics by key, in the order given (the order the pages offer them)."""
    return {m.key: m for m in metrics}
