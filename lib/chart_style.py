"""The one look of every Leanbench chart: colours, title block, legend, axes, labels, metrics.

Shared by ``lib.results.charts``, ``lib.compare.charts``, ``lib.cost.charts`` and
``lib.serving.charts`` (and so by the pages and the HTML report). Bottom layer: imports only
plotly and ``lib.format``; chart functions elsewhere stay pure DataFrame -> ``go.Figure`` and take
their style from here. The rules:

- **Title block**: a bold title and a grey subtitle, wrapped to lines that fit a chart half a page
  wide (subtitle parts split at " · " stay whole), at the top of the figure in container
  coordinates, in a top margin computed from their line count (``title_height``). Nothing else is
  drawn there.
- **Legend**: one rule everywhere: a horizontal legend at the bottom of the figure, *below* the
  x-axis title (``yref="container"``, ``y=0``, ``yanchor="bottom"``). Plotly reserves the legend's
  height as a margin and stacks the axes' automargins (tick labels, axis title) on top of it, so the
  legend never covers a title, a tick label or the plot, however many rows it wraps to. The figure
  grows by the legend's estimated height (``legend_height``, plotly's grid for a plot 440 px wide:
  two charts side by side at 1280 px) and by category labels turned on their side
  (``category_label_height``), so the plot keeps its size. A trace that draws nothing gets no
  entry (``hide_empty_legend_entries``).
- **Axes**: ``automargin`` on every axis, so no axis title or tick label is clipped; axis titles
  short and wrapped (``axis_title``). Log axes never show plotly's minor labels ("3, 2, 1000, 9"):
  ``log_ticks`` sets explicit 1-2-5 (or power-of-ten) tick values with plain text ("0.5", "20",
  "1,000", "20k", "$0.01").
- **Colours**: one hue family per technique family, one shade per variant (``variant_family``,
  ``variant_color``, ``variant_colors``): fp32 grey, half blue, int8 orange, pruning green,
  distillation violet, chains of distillation *and* pruning raspberry; a runtime (``@ort``,
  ``@compile``) is a shade of its chain's family. Stable across charts and sessions; distinct
  within a chart.
- **Labels**: text only on frontier points (``frontier_mask``, ``label_order``), placed where they
  overlap no other label (``place_labels``); everything else in the hover. Bar labels outside,
  flat, hidden where too small to read (``uniformtext``), none past 24 bars (``bar_label_style``).
- **Units**: accuracy in %, latency in ms, money in $; a missing value is ``lib.format.MISSING``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from lib.format import MISSING, is_missing, num

# ------------------------------------------------------------------ colours
# Six shades per technique family. Shades 0-2 go to one-step variants by runtime (eager, @ort,
# @compile), 3-5 to chains and parameterised steps by runtime: each trio is mid, dark, light,
# and the second trio is a neighbouring hue, so the shades a chart usually holds stay apart and
# the common ones (eager, @ort) are the strong ones.
FAMILY_SHADES: dict[str, tuple[str, ...]] = {
    "baseline": ("#4B5563", "#1F2937", "#9CA3AF", "#78716C", "#44403C", "#D1D5DB"),
    "half": ("#2563EB", "#1E3A8A", "#93C5FD", "#0EA5E9", "#075985", "#7DD3FC"),
    "int8": ("#EA580C", "#9A3412", "#FDBA74", "#F59E0B", "#B45309", "#FCD34D"),
    "prune": ("#16A34A", "#14532D", "#86EFAC", "#65A30D", "#3F6212", "#A3E635"),
    "distill": ("#7C3AED", "#4C1D95", "#C4B5FD", "#A855F7", "#6B21A8", "#D8B4FE"),
    "combo": ("#DB2777", "#831843", "#F9A8D4", "#F43F5E", "#9F1239", "#FDA4AF"),
    "other": ("#0D9488", "#134E4A", "#5EEAD4", "#06B6D4", "#155E75", "#67E8F9"),
}
FAMILY_ORDER = tuple(FAMILY_SHADES)
FAMILY_LABELS = {
    "baseline": "fp32 baseline",
    "half": "16-bit (half, bf16, fp16)",
    "int8": "int8 quantization",
    "prune": "pruning",
    "distill": "distillation",
    "combo": "distillation + pruning",
    "other": "other",
}
# Colours for series that are not variants (runs, hardware options), in order of appearance:
# hues away from the families' main colours where possible.
SERIES_PALETTE = ["#0D9488", "#CA8A04", "#334155", "#0284C7", "#BE123C", "#65A30D", "#7C3AED"]
# Runs told apart by bar pattern when colour already means something else.
RUN_PATTERNS = ["", "/", "x", ".", "\\", "+"]
FONT = dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13, color="#1F2937")
MUTED = "#6B7280"
FRONTIER_LINE = dict(color="#111827", width=1.5, dash="dash", shape="hv")
EMPTY_MESSAGE = "No data to plot yet"

_RUNTIME_SLOT = {"": 0, "eager": 0, "ort": 1, "compile": 2}


def _digest(text: str) -> int:
    return hashlib.sha256(text.encode()).digest()[0]


def _split_variant(variant: str) -> tuple[str, list[str], str]:
    """``'distill:3+int8@ort'`` -> (``'distill:3+int8'``, ``['distill', 'int8']``, ``'ort'``)."""
    text = str(variant).strip().lower()
    chain, at, runtime = text.rpartition("@")
    if not at:
        chain, runtime = text, ""
    steps = [s.partition(":")[0].strip() for s in chain.split("+") if s.strip()]
    return chain, steps, runtime.strip()


def _step_kind(name: str) -> str:
    if name in ("fp32", "baseline", ""):
        return "baseline"
    if name in ("half", "bf16", "fp16", "float16", "bfloat16"):
        return "half"
    if name.startswith(("int8", "int4", "quant")):
        return "int8"
    if name.startswith("prune"):
        return "prune"
    if name.startswith(("distill", "student")):
        return "distill"
    return "other"


def variant_family(variant: str) -> str:
    """The technique family a variant's colour comes from: the chain's main technique.

    ``fp32`` (and ``fp32@ort``) -> baseline; ``half`` -> half; ``int8:per-channel@ort`` -> int8;
    ``prune-structured:30+int8`` -> prune; ``distill:3+int8`` -> distill; a chain with both
    distillation and pruning -> combo. A runtime never changes the family."""
    _, steps, _ = _split_variant(variant)
    kinds = {_step_kind(s) for s in steps}
    if {"distill", "prune"} <= kinds:
        return "combo"
    for family in ("distill", "prune", "int8", "half"):
        if family in kinds:
            return family
    return "baseline" if kinds <= {"baseline"} else "other"


def _preferred_slot(variant: str) -> int:
    """Which shade of its family a variant asks for: by runtime (eager, ort, compile) among the
    first three for a plain one-step variant, among the last three for a chain or a step with a
    parameter that changes what it is (``int8:per-channel``)."""
    chain, steps, runtime = _split_variant(variant)
    rt = _RUNTIME_SLOT.get(runtime, 1 + _digest(runtime) % 2)
    family = variant_family(variant)
    # distill:N and prune-*:N always carry their parameter; int8:backend is a different variant.
    plain = len(steps) == 1 and (":" not in chain or family in ("prune", "distill", "other"))
    return rt if plain else 3 + rt


def variant_color(variant: str) -> str:
    """The colour a variant asks for, the same in every chart and every session.

    Charts draw with ``variant_colors`` over all their variants, which keeps these colours and
    moves a variant to a free shade of its family only when two would share one."""
    shades = FAMILY_SHADES[variant_family(variant)]
    return shades[_preferred_slot(variant) % len(shades)]


def variant_colors(variants: Iterable) -> dict[str, str]:
    """One colour per variant, distinct within the chart (up to six per family), each in its
    family's hue. Deterministic: the same variants get the same colours in every chart."""
    names = sorted({str(v) for v in variants})
    taken: dict[str, set[int]] = {f: set() for f in FAMILY_SHADES}
    slots: dict[str, int] = {}
    losers = []
    for v in names:  # first pass: everyone who can keeps the shade it asks for
        family, slot = variant_family(v), _preferred_slot(v) % 6
        if slot in taken[family]:
            losers.append(v)
        else:
            taken[family].add(slot)
            slots[v] = slot
    for v in losers:  # then the rest take the next free shade of their family
        family, slot = variant_family(v), _preferred_slot(v) % 6
        free = [s for s in range(6) if s not in taken[family]]
        pick = min(free, key=lambda s: (s - slot) % 6) if free else slot
        taken[family].add(pick)
        slots[v] = pick
    return {v: FAMILY_SHADES[variant_family(v)][slots[v]] for v in names}


def variant_rank(variant: str) -> int:
    """A ``legendrank``: legends list the variants family by family (ties keep their order)."""
    return 100 + 10 * FAMILY_ORDER.index(variant_family(variant))


def ordered_colors(keys: Iterable, palette: list[str] = SERIES_PALETTE) -> dict:
    """One colour per key, in order of first appearance, cycling through ``palette``."""
    return {k: palette[i % len(palette)] for i, k in enumerate(dict.fromkeys(keys))}


# ------------------------------------------------------------------ text sizes
# Estimates for a sans-serif at 12-16 px: generous, so what is computed from them fits.
CHAR_EM = 0.6
LABEL_EM = 0.56  # point labels: a little closer to the real width, to place more of them
PLOT_WIDTH = 440  # a chart half a wide page at 1280 px, less its axes
PLOT_HEIGHT = 280
TITLE_SIZE = 16
SUBTITLE_SIZE = 12
LEGEND_SIZE = 12
LABEL_SIZE = 11
TITLE_CHARS = 48  # a line of the title in 440 px at 16 px bold
SUBTITLE_CHARS = 72
AXIS_TITLE_CHARS = 44
_TAG = re.compile(r"<[^>]+>")


def plain_text(text: Any) -> str:
    """What a label shows, without its HTML tags or entities (for measuring it)."""
    s = _TAG.sub("", str(text))
    return re.sub(r"&[a-z]+;|&#\d+;", "x", s)


def text_width(text: Any, font_px: float = LEGEND_SIZE) -> float:
    """An estimate of the width of ``text`` in pixels (its longest line)."""
    lines = re.split(r"<br\s*/?>", str(text))
    return max(len(plain_text(line)) for line in lines) * CHAR_EM * font_px


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters. Breaks after a " · " or "; " first (each part of a
    subtitle stays whole), then at spaces; a longer word keeps its own line."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        parts = re.split(r"(?<= ·) |(?<=;) ", paragraph)
        line = ""
        for part in parts:
            if not line or len(line) + 1 + len(part) <= width:
                line = f"{line} {part}" if line else part
                if len(line) <= width:
                    continue
            elif line:
                lines.append(line)
                line = part
                if len(line) <= width:
                    continue
            # a part longer than a line: by words
            words, line = line.split(" "), ""
            for word in words:
                if line and len(line) + 1 + len(word) > width:
                    lines.append(line)
                    line = word
                else:
                    line = f"{line} {word}" if line else word
        lines.append(line)
    return [line for line in lines if line] or [""]


def axis_title(text: str, width: int = AXIS_TITLE_CHARS) -> str:
    """An axis title that fits: wrapped with ``<br>`` past ``width`` characters."""
    return "<br>".join(wrap(text, width))


# ------------------------------------------------------------------ legend
LEGEND_ROW = 19  # px per row of a 12 px legend
LEGEND_PAD = 10
LEGEND_ITEM = 40  # the symbol and the gaps around an entry
LEGEND_GAP = 5


def legend_entries(fig: go.Figure) -> list[str]:
    """The names a figure's legend lists: traces that are shown in it."""
    traces = list(fig.data)
    out = []
    for t in traces:
        show = t.showlegend
        if show is False or not t.name:
            continue
        if show is None and len(traces) == 1 and not fig.layout.showlegend:
            continue
        out.append(str(t.name))
    return out


def legend_rows(labels: Sequence[str], width: float = PLOT_WIDTH) -> int:
    """How many rows a horizontal legend of ``labels`` wraps to in a plot ``width`` px wide.

    Plotly's rule: entries that fit on one row keep their own widths; otherwise the legend is a
    grid whose columns are all as wide as the widest entry."""
    if not labels:
        return 0
    widths = [LEGEND_ITEM + text_width(label, LEGEND_SIZE) for label in labels]
    if sum(widths) + LEGEND_GAP * (len(widths) - 1) < width:
        return 1
    columns = max(1, int((width + LEGEND_GAP) // (max(widths) + LEGEND_GAP)))
    return math.ceil(len(widths) / columns)


def legend_height(labels: Sequence[str], width: float = PLOT_WIDTH) -> int:
    """The height in px the bottom legend takes (0 without entries)."""
    rows = legend_rows(labels, width)
    return rows * LEGEND_ROW + LEGEND_PAD if rows else 0


LEGEND = dict(
    orientation="h",
    xref="paper",
    x=0,
    xanchor="left",
    yref="container",
    y=0,
    yanchor="bottom",
    title=None,
    traceorder="normal",
    font=dict(size=LEGEND_SIZE),
    itemsizing="constant",
    maxheight=0.45,
)


def hide_empty_legend_entries(fig: go.Figure) -> go.Figure:
    """No legend entry for a trace that draws nothing: no finite point, or a line-only trace
    with fewer than two points (a "Pareto frontier" of one point is no line)."""
    for t in fig.data:
        xs = getattr(t, "x", None)
        ys = getattr(t, "y", None)
        present = xs if xs is not None else ys
        if present is None:
            continue
        n = len(present)
        points = 0
        for i in range(n):
            x = xs[i] if xs is not None else 0
            y = ys[i] if ys is not None else 0
            numeric_ok = (not _numeric(x) or not is_missing(x)) and (
                not _numeric(y) or not is_missing(y)
            )
            if x is not None and y is not None and numeric_ok:
                points += 1
        mode = getattr(t, "mode", None) or ""
        line_only = t.type == "scatter" and "markers" not in mode and "text" not in mode
        if points == 0 or (line_only and points < 2):
            t.showlegend = False
    return fig


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ------------------------------------------------------------------ layout
TITLE_LINE = round(TITLE_SIZE * 1.3)  # plotly spaces every line of the title in the title's em
TITLE_TOP = 12  # from the top of the figure to the top of the title's capitals
TITLE_GAP = 12  # between the title block and the plot
BASE_TOP = 80  # the top margin a chart's ``height`` was sized for (title and one subtitle line)


def _title_pad(lines: int) -> dict[str, int]:
    """Plotly sets a one-line title's baseline a cap-height below ``pad.t``, a multi-line
    one's first baseline *at* ``pad.t``: either way the capitals start ``TITLE_TOP`` down."""
    return dict(t=TITLE_TOP + (round(0.8 * TITLE_SIZE) if lines > 1 else 0), b=0, l=4)


def title_text(title: str, subtitle: str = "") -> tuple[str, int]:
    """The title block as plotly text (bold title, grey subtitle, wrapped) and its line count."""
    t_lines = wrap(title, TITLE_CHARS) if title else []
    s_lines = wrap(subtitle, SUBTITLE_CHARS) if subtitle else []
    parts = [f"<b>{line}</b>" for line in t_lines]
    parts += [
        f"<span style='font-size:{SUBTITLE_SIZE}px;color:{MUTED}'>{line}</span>" for line in s_lines
    ]
    return "<br>".join(parts), len(t_lines) + len(s_lines)


def title_height(title: str, subtitle: str = "") -> int:
    """The px the title block needs above the plot: its lines, the pad above, the gap below."""
    _, lines = title_text(title, subtitle)
    if not (title or subtitle):
        return 24
    # capitals, the lines below the first, descenders, the gap
    return TITLE_TOP + round(0.8 * TITLE_SIZE) + (lines - 1) * TITLE_LINE + 6 + TITLE_GAP


TICK_SIZE = 12
MAX_TICK_LABEL = 260  # px: the most a figure grows for rotated category labels


def category_label_height(fig: go.Figure, width: float = PLOT_WIDTH) -> int:
    """The extra px the x axis' category labels take when plotly has to turn them on their side
    (too wide to sit flat side by side in ``width``, shared between side-by-side subplots)."""
    cats: dict[str, None] = {}
    axes = set()
    for t in fig.data:
        if getattr(t, "orientation", None) == "h":
            continue
        xs = getattr(t, "x", None)
        if xs is None:
            continue
        axes.add(getattr(t, "xaxis", None) or "x")
        cats.update((str(x), None) for x in xs if isinstance(x, str))
    if not cats:
        return 0
    widths = [text_width(c, TICK_SIZE) for c in cats]
    per_axis = width / max(1, len(axes))
    if sum(w + 8 for w in widths) <= per_axis:  # subplots side by side each hold them all
        return 0
    return max(0, int(min(max(widths), MAX_TICK_LABEL)) - 2 * TICK_SIZE)


def style_layout(
    fig: go.Figure,
    title: str,
    subtitle: str = "",
    height: int = 440,
    extra_top: int = 0,
) -> go.Figure:
    """The Leanbench look: title block on top, legend at the bottom below the x-axis title,
    automargins on every axis, the font and template.

    ``height`` is the figure's height with a two-line title block, no legend and flat tick
    labels; the figure grows by the extra title lines, ``extra_top`` (room for subplot titles),
    the legend's estimated height and the height of category labels turned on their side, so the
    plot keeps its size however narrow the page."""
    text, lines = title_text(title, subtitle)
    hide_empty_legend_entries(fig)
    entries = legend_entries(fig)
    top = title_height(title, subtitle) + extra_top
    fig.update_layout(
        # Placed from the top of the figure, lines flowing down, in a top margin sized for them
        # (no title automargin: plotly shifts a multi-line title up when that kicks in).
        title=dict(
            text=text,
            x=0,
            xref="container",
            xanchor="left",
            y=1,
            yref="container",
            yanchor="top",
            pad=_title_pad(lines),
            automargin=False,
            font=dict(size=TITLE_SIZE),
        ),
        template="plotly_white",
        font=FONT,
        margin=dict(l=12, r=28, t=top, b=12, pad=0, autoexpand=True),
        legend=LEGEND,
        showlegend=bool(entries),
        hoverlabel=dict(bgcolor="white", font_size=12),
        uniformtext=dict(minsize=10, mode="hide"),
        height=height
        + max(0, top - BASE_TOP)
        + legend_height(entries)
        + category_label_height(fig),
    )
    fig.update_xaxes(automargin=True, title_standoff=10)
    fig.update_yaxes(automargin=True, title_standoff=8)
    return fig


def titled_layout(
    fig: go.Figure, title: str, subtitle: str = "", height: int = 440, top: int = 0
) -> go.Figure:
    """``style_layout`` under its old name (``top`` is now computed; a larger one is kept)."""
    fig = style_layout(fig, title, subtitle, height=height)
    if top > fig.layout.margin.t:
        fig.update_layout(margin_t=top)
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


# ------------------------------------------------------------------ numbers and log axes
def plain_number(value: float) -> str:
    """A tick value as people write it: 0.005, 0.5, 2, 50, 1,000, 20k, 1M (never 2e3)."""
    if value >= 1e6:
        return f"{value / 1e6:,.4g}M"
    if value >= 1e4:
        return f"{value / 1e3:,.4g}k"
    if value >= 1:
        return f"{value:,.0f}" if value == round(value) else f"{value:,.1f}"
    decimals = max(1, -math.floor(math.log10(value)))
    if abs(round(value, decimals) - value) > value * 1e-9:
        decimals += 1
    return f"{value:.{decimals}f}"


def fmt_value(value: Any, fmt: str = ".1f", suffix: str = "") -> str:
    """``value`` formatted with ``fmt`` and ``suffix``; ``MISSING`` when missing."""
    if is_missing(value):
        return MISSING
    return format(num(value), fmt) + suffix


def _one_two_five(lo_exp: int, hi_exp: int) -> list[float]:
    return [float(f"{m}e{e}") for e in range(lo_exp, hi_exp + 1) for m in (1, 2, 5)]


def log_ticks(
    values: Iterable, prefix: str = "", exact: bool = False, bars: bool = False
) -> dict[str, Any]:
    """Axis settings for a log axis over ``values``: explicit ticks, plain text, a padded range.

    Ticks are 1-2-5 values (powers of ten only when the data span more than 2.5 decades); with
    ``exact`` they are the distinct values themselves (batch sizes). Always at least two ticks.
    ``prefix`` goes before each tick text ("$"). ``bars``: room below the shortest bar (a bar on
    a log axis starts at the bottom of the range) and above the tallest for its label. Pass the
    result to ``update_xaxes``/``update_yaxes``."""
    vals = sorted({float(v) for v in values if not is_missing(v) and num(v) > 0})
    if not vals:
        return dict(type="log")
    lo, hi = vals[0], vals[-1]
    span = math.log10(hi) - math.log10(lo)
    pad = max(0.06 * span, 0.08)
    r0, r1 = math.log10(lo) - pad, math.log10(hi) + pad
    if bars:
        r0, r1 = math.log10(lo) - max(0.3, 0.1 * span), math.log10(hi) + max(0.15, 0.12 * span)
    if exact:
        ticks = vals
    else:
        candidates = _one_two_five(math.floor(r0) - 1, math.ceil(r1) + 1)
        if span > 2.5:
            candidates = [c for c in candidates if round(c / 10 ** math.floor(math.log10(c))) == 1]
        inside = [c for c in candidates if r0 <= math.log10(c) <= r1]
        if len(inside) < 2:  # widen the range to the 1-2-5 values either side
            below = [c for c in candidates if c <= lo]
            above = [c for c in candidates if c >= hi]
            inside = sorted({*inside, below[-1], above[0]})
            r0 = min(r0, math.log10(inside[0]) - 0.03)
            r1 = max(r1, math.log10(inside[-1]) + 0.03)
        ticks = inside
    return dict(
        type="log",
        tickmode="array",
        tickvals=ticks,
        ticktext=[prefix + plain_number(t) for t in ticks],
        range=[r0, r1],
        minor=dict(showgrid=False, ticks=""),
    )


def log_axis_range(settings: dict[str, Any]) -> tuple[float, float] | None:
    r = settings.get("range")
    return (float(r[0]), float(r[1])) if r else None


# ------------------------------------------------------------------ frontier and labels
def frontier_mask(
    xs: Sequence, ys: Sequence, minimize_x: bool = True, maximize_y: bool = True
) -> list[bool]:
    """True for points no other point beats on both axes (at least as good on both, strictly
    better on one); a point with a missing value is never on it."""
    pts = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if is_missing(x) or is_missing(y):
            continue
        fx, fy = num(x), num(y)
        pts.append((i, fx if minimize_x else -fx, -fy if maximize_y else fy))
    mask = [False] * len(xs)
    for i, xi, yi in pts:
        mask[i] = not any(
            xj <= xi and yj <= yi and (xj < xi or yj < yi) for j, xj, yj in pts if j != i
        )
    return mask


def label_order(xs: Sequence, ys: Sequence, mask: Sequence[bool]) -> list[int]:
    """Indices of the ``mask`` points in the order their labels are placed: the best on y (most
    accurate), the best on x (fastest, cheapest), then the rest from the best y down."""
    idx = [i for i, m in enumerate(mask) if m and not is_missing(xs[i]) and not is_missing(ys[i])]
    if not idx:
        return []
    by_y = sorted(idx, key=lambda i: (-num(ys[i]), num(xs[i])))
    fastest = min(idx, key=lambda i: (num(xs[i]), -num(ys[i])))
    return list(dict.fromkeys([by_y[0], fastest, *by_y[1:]]))


def _scale(values: Sequence, log: bool, rng: tuple[float, float] | None, size: float) -> list:
    """Data values -> pixels from the axis start (None for a missing or non-positive-on-log)."""
    tv: list[float | None] = []
    for v in values:
        if is_missing(v) or (log and num(v) <= 0):
            tv.append(None)
        else:
            tv.append(math.log10(num(v)) if log else num(v))
    known = [t for t in tv if t is not None]
    if not known:
        return [None] * len(tv)
    if rng is None:
        lo, hi = min(known), max(known)
        pad = (hi - lo) * 0.08 or 1.0
        rng = (lo - pad, hi + pad)
    lo, hi = rng
    span = (hi - lo) or 1.0
    return [None if t is None else (t - lo) / span * size for t in tv]


LABEL_POSITIONS = ("top right", "top left", "bottom right", "bottom left", "top center")


def place_labels(
    xs: Sequence,
    ys: Sequence,
    texts: Sequence[str],
    *,
    x_log: bool = False,
    y_log: bool = False,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    obstacles: tuple[Sequence, Sequence] | None = None,
    prefer: Sequence[str] = LABEL_POSITIONS,
    width: float = PLOT_WIDTH,
    height: float = PLOT_HEIGHT,
    font_px: float = LABEL_SIZE,
) -> list[str | None]:
    """A ``textposition`` per point so that no two labels overlap, none covers a labelled point
    (nor, where there is room, any of ``obstacles``) and none leaves the plot (so none runs into
    an axis title or the legend); None where no place is free (that point keeps its hover).
    Points are served in order: put the important ones first.

    Ranges are in axis units (log10 for a log axis, as plotly's ``range``); the plot is assumed
    ``width`` x ``height`` px, the smallest it is drawn."""
    px = _scale(xs, x_log, x_range, width)
    py = [None if v is None else height - v for v in _scale(ys, y_log, y_range, height)]
    points = [
        (a, b, bool(t))
        for a, b, t in zip(px, py, texts, strict=True)
        if a is not None and b is not None
    ]
    own = [(a, b) for a, b, labelled in points if labelled]  # never covered
    marks = [(a, b) for a, b, _ in points]  # covered only when nothing else is free
    if obstacles is not None:
        ox = _scale(obstacles[0], x_log, x_range, width)
        oy = [
            None if v is None else height - v for v in _scale(obstacles[1], y_log, y_range, height)
        ]
        marks += [(a, b) for a, b in zip(ox, oy, strict=True) if a is not None and b is not None]
    boxes: list[tuple[float, float, float, float]] = []
    out: list[str | None] = []
    for x, y, text in zip(px, py, texts, strict=True):
        if x is None or y is None or not text:
            out.append(None)
            continue
        w, h, gap = len(plain_text(text)) * LABEL_EM * font_px, font_px * 1.3, 7.0
        order = list(prefer)
        if x > width * 0.6:  # near the right edge: try the left side first
            order.sort(key=lambda p: 0 if "left" in p else 1)
        chosen = None
        # Clear of every label and every point; failing that, of labels and labelled points.
        for avoid in (marks, own):
            for pos in order:
                box = _label_box(pos, x, y, w, h, gap)
                if box[0] < 0 or box[2] > width or box[1] < 0 or box[3] > height:
                    continue
                if any(_overlap(box, b) for b in boxes):
                    continue
                if any(_covers(box, m, 5.0) for m in avoid if (m[0], m[1]) != (x, y)):
                    continue
                chosen = pos
                boxes.append(box)
                break
            if chosen:
                break
        out.append(chosen)
    return out


def _label_box(pos: str, x: float, y: float, w: float, h: float, gap: float):
    vertical, _, horizontal = pos.partition(" ")
    top = y - gap - h if vertical == "top" else y + gap
    if horizontal == "right":
        left = x + 2
    elif horizontal == "left":
        left = x - 2 - w
    else:
        left = x - w / 2
    return (left, top, left + w, top + h)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _covers(box, point: tuple[float, float], r: float) -> bool:
    x, y = point
    return box[0] - r < x < box[2] + r and box[1] - r < y < box[3] + r


# ------------------------------------------------------------------ bars
MAX_LABELLED_BARS = 24  # more bars than this in one chart: labels too narrow to read


def bar_label_style(n_bars: int) -> dict[str, Any]:
    """Bar text settings: outside the bar, horizontal, one size, hidden where a label does not
    fit (``uniformtext`` in ``style_layout``); no text at all past ``MAX_LABELLED_BARS``."""
    if n_bars > MAX_LABELLED_BARS:
        return dict(textposition="none")
    return dict(
        textposition="outside",
        textangle=0,
        cliponaxis=False,
        textfont=dict(size=LABEL_SIZE),
    )


def bars_headroom(values: Iterable) -> list[float] | None:
    """A linear value-axis range with room above the tallest bar for its outside label (a log
    axis: ``log_ticks(..., bars=True)``)."""
    vals = [num(v) for v in values if not is_missing(v)]
    if not vals or max(vals) <= 0:
        return None
    return [0.0, max(vals) * 1.15]


# ------------------------------------------------------------------ metrics
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
