"""The load test on the pages: the Run page's switch (MLPerf LoadGen, the SLO, the tokenizer)
and the Results page's "Serving under load" section. Widgets only: the spec is checked by
``lib.spec.LoadTestSpec``; frames, charts and sentences come from ``lib.serving`` and
``lib.results.summary``.
"""

from __future__ import annotations

import streamlit as st

from lib.errors import UserError
from lib.results import summary
from pages._ui import draft, seed

TOKENIZER_LABELS = {"fast": "fast (Rust)", "slow": "slow (Python)"}


def load_test_controls() -> None:
    """A checkbox, the SLO and the tokenizer; they set the draft's ``load_test`` (None: off)."""
    from lib.spec import LoadTestSpec

    d = draft()
    current = d.get("load_test") or None
    defaults = LoadTestSpec()
    seed("run_lt_on", current is not None)
    seed("run_lt_slo", float((current or {}).get("slo_ms", defaults.slo_ms)))
    seed("run_lt_tokenizer", (current or {}).get("tokenizer", defaults.tokenizer))
    on = st.checkbox(
        "Load-test serving (MLPerf LoadGen)",
        key="run_lt_on",
        help="After timing, serve each variant through a dynamic batcher over raw texts and "
        "drive it with MLPerf LoadGen: one query at a time, all at once, then rising query "
        "rates until p99 latency passes your SLO. About a minute per variant.",
    )
    if not on:
        d["load_test"] = None
        return
    c1, c2 = st.columns(2)
    slo = c1.number_input(
        "SLO: p99 latency (ms)",
        min_value=1.0,
        step=10.0,
        key="run_lt_slo",
        help="99 of 100 requests must be answered within this, queueing and tokenizing "
        "included. Goodput is the most requests per second that stay within it.",
    )
    tokenizer = c2.radio(
        "Tokenizer",
        list(TOKENIZER_LABELS),
        format_func=TOKENIZER_LABELS.get,
        horizontal=True,
        key="run_lt_tokenizer",
        help="Requests arrive as raw text: the tokenizer is part of serving. The slow Python "
        "one shows what tokenizing costs under load.",
    )
    try:
        spec = LoadTestSpec.from_dict(
            {**(current or {}), "slo_ms": float(slo), "tokenizer": str(tokenizer)}
        )
    except UserError as exc:
        st.error(str(exc), icon=":material/warning:")
        return
    d["load_test"] = spec.to_dict()  # the "What will run" lines above show it


def serving_section(results: list[dict]) -> None:
    """Serving under load: the sentence, the hockey stick, goodput and the breakdown; nothing
    when no variant of the run was load-tested."""
    from lib.serving import charts, frames

    if not frames.has_load_test(results):
        return
    st.subheader("Serving under load")
    line = summary.serving_sentence(results)
    if line:
        st.markdown(f"**{line}**")
    st.caption(
        "Measured with MLPerf LoadGen on this machine: each variant served raw texts through a "
        "dynamic batcher, at rising query rates. Goodput = the most requests per second whose "
        "p99 latency (queue and tokenizing included) stays within the SLO."
    )
    st.plotly_chart(
        charts.hockey_stick_chart(frames.load_frame(results)), width="stretch", key="chart_hockey"
    )
    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(
            charts.goodput_chart(frames.goodput_frame(results)),
            width="stretch",
            key="chart_goodput",
        )
    with right:
        st.plotly_chart(
            charts.breakdown_chart(frames.breakdown_frame(results)),
            width="stretch",
            key="chart_breakdown",
        )
    for note in summary.serving_notes(results):
        st.caption(note)
