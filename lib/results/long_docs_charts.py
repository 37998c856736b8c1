"""Long-document charts: documents per second against document length, one line per strategy.

A pure function of ``lib.results.long_docs.by_length_frame`` (one row per strategy and length
bin: ``strategy``, ``from``, ``to``, ``documents``, ``median_tokens``, ``docs_per_s``,
``accuracy``), styled by ``lib.chart_style``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from lib.chart_style import empty_figure, fmt_value, log_ticks, ordered_colors, style_layout
from lib.format import is_missing


def _span(lo, hi) -> str:
    """ "129–256 tokens" or "2,049 tokens and more"."""
    if is_missing(hi):
        return f"{int(lo):,} tokens and more"
    return f"{int(lo):,}–{int(hi):,} tokens"


def docs_per_second_chart(by_length: pd.DataFrame) -> go.Figure:
    """Documents/s (log y) against the documents' length in tokens (log x, each bin at its
    median length): truncation stays flat, chunking falls as documents grow."""
    title = "Documents per second vs document length"
    if by_length.empty:
        return empty_figure("No long-document measurement yet", title)
    colors = ordered_colors(list(dict.fromkeys(by_length["strategy"])))
    fig = go.Figure()
    for name, g in by_length.groupby("strategy", sort=False):
        g = g.sort_values("median_tokens")
        fig.add_trace(
            go.Scatter(
                x=g["median_tokens"],
                y=g["docs_per_s"],
                mode="lines+markers",
                name=str(name),
                line=dict(color=colors[name], width=2.5),
                marker=dict(size=8),
                hovertext=[
                    f"<b>{name}</b><br>{int(n)} documents of {_span(lo, hi)} "
                    f"(median {m:,.0f})<br>{fmt_value(d, ',.1f')} documents/s, "
                    f"accuracy {fmt_value(100 * a, '.1f')}%"
                    for n, lo, hi, m, d, a in zip(
                        g["documents"],
                        g["from"],
                        g["to"],
                        g["median_tokens"],
                        g["docs_per_s"],
                        g["accuracy"],
                        strict=True,
                    )
                ],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig.update_xaxes(
        title_text="Document length (tokens, log scale)", **log_ticks(by_length["median_tokens"])
    )
    fig.update_yaxes(title_text="Documents per second", **log_ticks(by_length["docs_per_s"]))
    return style_layout(fig, title, "One document per call · higher is better")
