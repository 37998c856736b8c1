"""Time to value on the pages: how many labels are enough, and long documents.

- ``curve_section(d)``, on Model & data: the learning curve of the chosen model and data (sizes,
  seeds, target); the work is ``lib.results.curve.learning_curve``, every point cached, so a
  curve measured once (here or with ``python -m lib curve``) shows again at once.
- ``results_section(run_doc)``, on Results: the learning curve and the long-document measurement
  (``python -m lib long-docs``) saved for the run's model and dataset, where there are any.

Widgets only: frames, charts and sentences come from ``lib.results.curve`` and
``lib.results.long_docs``.
"""

from __future__ import annotations

import re

import streamlit as st

from lib.errors import UserError
from pages._ui import can, guarded, seed, why_not

DEFAULT_SIZES = "50,100,250,500,1000,2000,4000"


def _sizes(text: str) -> list[int]:
    try:
        return [int(x) for x in re.split(r"[,;\s]+", text) if x]
    except ValueError:
        raise UserError(f"Subset sizes must be whole numbers, e.g. {DEFAULT_SIZES}.") from None


def curve_section(d: dict) -> None:
    """Model & data: measure (or show) the learning curve of the draft's model and data."""
    from lib.results.curve import retarget, saved_curve

    with st.container(border=True):
        st.subheader("4 · How many labels are enough?")
        st.caption(
            "A new head fine-tuned on growing, nested subsets of the training examples (each "
            "keeps the class balance and contains the smaller ones; several draws at the small "
            "sizes), each measured on the same evaluation examples. Every point is cached."
        )
        seed("md_curve_sizes", DEFAULT_SIZES)
        seed("md_curve_seeds", 3)
        seed("md_curve_target", 80.0)
        c1, c2, c3 = st.columns([2, 1, 1])
        text = c1.text_input("Labelled examples per point", key="md_curve_sizes")
        seeds = c2.number_input(
            "Draws at small sizes", min_value=1, max_value=10, key="md_curve_seeds"
        )
        target = c3.number_input(
            "Good enough (% accuracy)",
            min_value=1.0,
            max_value=100.0,
            step=1.0,
            key="md_curve_target",
        )
        model, dataset = d["model"]["source"], d["dataset"]["source"]
        doc = saved_curve(model, dataset)
        blocked = why_not("start_run")
        if st.button(
            "Measure the learning curve",
            icon=":material/trending_up:",
            key="md_curve_go",
            disabled=not can("start_run"),
            help="Trains one head per point on this machine (cached points are reused): a few "
            "minutes on 2 CPU cores for the default sizes.",
        ):
            doc = _measure(d, _sizes(text), int(seeds), float(target) / 100)
        if blocked:
            st.caption(blocked)
        if doc is not None:
            if doc.get("target") != float(target) / 100:
                doc = retarget(doc, float(target) / 100)
            show_curve(doc)


def _measure(d: dict, sizes: list[int], seeds: int, target: float) -> dict | None:
    from lib.results.curve import learning_curve
    from lib.spec import AdaptSpec, DatasetSpec, ModelSpec
    from lib.training.curve import CurveSettings

    bar = st.progress(0.0, text="Starting the learning curve…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(1.0, max(0.0, fraction)), text=message)

    try:
        doc = learning_curve(
            ModelSpec(d["model"]["source"]),
            DatasetSpec(**d["dataset"]),
            sizes,
            seeds,
            target,
            CurveSettings(adapt=AdaptSpec(**d["adapt"])),
            progress=progress,
        )
    except UserError as exc:
        bar.empty()
        st.error(str(exc), icon=":material/trending_up:")
        return None
    bar.empty()
    return doc


def show_curve(doc: dict) -> None:
    """The sentence, the chart, the per-size table and where the cost comes from."""
    from lib.results import curve as rc
    from lib.results.curve_charts import learning_curve_chart

    box = st.success if doc.get("reached") else st.warning
    box(doc["sentence"], icon=":material/trending_up:")
    guarded(
        lambda: st.plotly_chart(
            learning_curve_chart(rc.points_frame(doc), doc.get("target")),
            width="stretch",
            key=f"curve_chart_{doc.get('created_at')}",
        )
    )
    st.dataframe(rc.display_frame(doc), hide_index=True, width="stretch")
    st.caption(rc.source_caption(doc))
    for note in doc.get("notes") or []:
        st.caption(f":material/info: {note}")


def show_long_docs(doc: dict) -> None:
    """Each strategy's accuracy, speed and $ per 1M documents; documents/s vs length."""
    from lib.results import long_docs as rl
    from lib.results.long_docs_charts import docs_per_second_chart

    st.markdown(rl.lengths_sentence(doc))
    for sentence in doc.get("sentences") or []:
        st.markdown(f"- {sentence}")
    st.dataframe(rl.strategies_frame(doc), hide_index=True, width="stretch")
    guarded(
        lambda: st.plotly_chart(
            docs_per_second_chart(rl.by_length_frame(doc)),
            width="stretch",
            key=f"long_docs_chart_{doc.get('created_at')}",
        )
    )
    st.caption(rl.source_caption(doc))
    for note in doc.get("notes") or []:
        st.caption(f":material/info: {note}")


def results_section(run_doc: dict) -> None:
    """Results: the curve and long documents saved for this run's model and dataset, if any."""
    from lib.results.curve import curve_for_run
    from lib.results.long_docs import long_docs_for_run

    curve, long = curve_for_run(run_doc), long_docs_for_run(run_doc)
    if curve is None and long is None:
        return
    st.subheader("Time to value")
    if curve is not None:
        with st.expander(
            "How many labels are enough", expanded=True, icon=":material/trending_up:"
        ):
            show_curve(curve)
    if long is not None:
        with st.expander("Long documents", expanded=True, icon=":material/article:"):
            show_long_docs(long)
