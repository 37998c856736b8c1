"""Model & data: which model to start from, which labelled text to adapt and evaluate it on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lib import uploads
from lib.errors import UserError
from lib.spec import BUILTIN_DATASETS, AdaptSpec, DatasetSpec
from pages import _model_inputs as model_inputs
from pages._ui import TECHNIQUES, draft, guarded, seed, set_problem

DATA_MODES = {"builtin": "Built-in dataset", "upload": "My own file (CSV or JSONL)"}


# ------------------------------------------------------------------ cached look-ups
@st.cache_data(show_spinner=False, max_entries=8)
def _builtin_preview(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from lib import datasets

    data = datasets.load(DatasetSpec(source=name))
    return uploads.preview(data.texts, [data.label_names[i] for i in data.labels], shuffle=True)


@st.cache_data(show_spinner=False, max_entries=8)
def _read_saved(path: str) -> pd.DataFrame:
    from lib import datasets

    return datasets.read_table(path)


# ------------------------------------------------------------------ the page
def main() -> None:
    st.title("Model & data")
    st.caption(
        "Leanbench starts from a pretrained model and, when its classification head does not "
        "match your labels, fine-tunes a new head on your data before measuring any variant."
    )
    d = draft()
    with st.container(border=True):
        st.subheader("1 · Model")
        model_inputs.model_section(d)
    with st.container(border=True):
        st.subheader("2 · Dataset")
        _dataset_section(d)
    with st.container(border=True):
        st.subheader("3 · How much data")
        _limits_section(d)
    st.page_link(TECHNIQUES, label="Next: choose techniques", icon=":material/arrow_forward:")


def _dataset_section(d: dict) -> None:
    ds = d["dataset"]
    is_builtin = ds["source"] in BUILTIN_DATASETS
    seed("md_data_mode", "builtin" if is_builtin else "upload")
    mode = st.radio(
        "Which data?",
        list(DATA_MODES),
        format_func=DATA_MODES.get,
        horizontal=True,
        key="md_data_mode",
    )
    if mode == "builtin":
        set_problem("dataset", None)
        seed("md_builtin", ds["source"] if is_builtin else BUILTIN_DATASETS[0])
        from lib.datasets import DATASET_INFO

        name = st.selectbox(
            "Built-in dataset",
            list(BUILTIN_DATASETS),
            format_func=lambda n: f"{n} — {DATASET_INFO.get(n, '')}",
            key="md_builtin",
        )
        ds.update(source=name, text_column=None, label_column=None)
        st.session_state.pop("upload_name", None)
        with st.spinner("Loading a preview..."):
            sample, counts = _builtin_preview(name)
        _preview(sample, counts)
    else:
        _upload_section(ds)


def _upload_section(ds: dict) -> None:
    from lib import datasets

    upload = st.file_uploader(
        "Upload a CSV or JSONL file with a text column and a label column",
        type=uploads.UPLOAD_TYPES,
        key="md_upload",
        help="CSV with a header row, or JSONL (one JSON object per line). UTF-8. "
        "The label column needs at least two classes.",
    )
    frame, name = None, None
    if upload is not None:
        raw = upload.getvalue()
        try:
            frame = datasets.parse_table(raw, upload.name)
        except UserError as exc:
            st.error(str(exc), icon=":material/description:")
            set_problem("dataset", str(exc))
            return
        path = uploads.save_upload(raw, upload.name)
        name = upload.name
        st.session_state["upload_path"] = str(path)
        st.session_state["upload_name"] = name
    elif st.session_state.get("upload_path") and Path(st.session_state["upload_path"]).exists():
        path = Path(st.session_state["upload_path"])
        name = st.session_state.get("upload_name") or path.name
        frame = _read_saved(str(path))
        st.caption(f"Using your earlier upload **{name}**. Upload another file to replace it.")
    else:
        st.info(
            f"Upload a file to use your own data. Until then the run uses **{ds['source']}**.",
            icon=":material/description:",
        )
        set_problem("dataset", None)
        return

    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    text_guess, label_guess = uploads.pick_columns(
        frame, ds.get("text_column"), ds.get("label_column")
    )
    for key, guess in (("md_text_col", text_guess), ("md_label_col", label_guess)):
        if st.session_state.get(key) not in columns:
            st.session_state[key] = guess
    c1, c2 = st.columns(2)
    text_col = c1.selectbox("Text column", columns, key="md_text_col")
    label_col = c2.selectbox("Label column", columns, key="md_label_col")
    try:
        data = uploads.validate_columns(frame, text_col, label_col, name)
    except UserError as exc:
        st.error(
            f"{exc} Pick other columns, or fix the file and upload it again.",
            icon=":material/description:",
        )
        set_problem("dataset", str(exc))
        return
    set_problem("dataset", None)
    ds.update(source=str(path), text_column=text_col, label_column=label_col)
    st.success(
        f"{len(data):,} usable rows in {len(data.label_names)} classes.",
        icon=":material/check_circle:",
    )
    _preview(*uploads.preview(data.texts, [data.label_names[i] for i in data.labels]))


def _preview(sample: pd.DataFrame, counts: pd.DataFrame) -> None:
    left, right = st.columns([3, 1])
    with left:
        st.caption("A few rows")
        st.dataframe(
            sample,
            hide_index=True,
            width="stretch",
            column_config={"text": st.column_config.TextColumn("Text", width="large")},
        )
    with right:
        st.caption("Examples per class")
        st.dataframe(counts, hide_index=True, width="stretch")


def _number(box, label: str, key: str, value: float, kind: type = int, **options) -> float:
    """A number input that starts at the draft's value and reads back as ``kind``."""
    seed(key, kind(value))
    return kind(box.number_input(label, key=key, **options))


def _limits_section(d: dict) -> None:
    ds, ad = d["dataset"], d["adapt"]
    c1, c2, c3 = st.columns(3)
    ds["train_limit"] = _number(
        c1,
        "Training examples (at most)",
        "md_train_limit",
        ds["train_limit"],
        min_value=0,
        step=500,
        help="Used only to fine-tune a new classification head. 4,000 takes about "
        "2 minutes on 2 CPU cores.",
    )
    ds["eval_limit"] = _number(
        c2,
        "Evaluation examples (at most)",
        "md_eval_limit",
        ds["eval_limit"],
        min_value=0,
        step=100,
        help="Accuracy is measured on this many held-out examples (the same ones for "
        "every variant). More examples: a tighter accuracy estimate, a longer run.",
    )
    ds["seed"] = _number(
        c3,
        "Random seed",
        "md_seed",
        ds["seed"],
        min_value=0,
        step=1,
        help="Fixes the train/eval split.",
    )
    try:
        DatasetSpec(**ds)
    except UserError as exc:
        st.error(str(exc))

    with st.expander("Advanced: fine-tuning the new head"):
        a1, a2, a3, a4 = st.columns(4)
        ad["epochs"] = _number(
            a1, "Epochs", "md_epochs", ad["epochs"], float, min_value=0.0, step=0.5, format="%.1f"
        )
        ad["max_length"] = _number(
            a2, "Max tokens per example", "md_max_length", ad["max_length"], min_value=0, step=16
        )
        ad["batch_size"] = _number(
            a3, "Batch size", "md_adapt_batch", ad["batch_size"], min_value=0, step=8
        )
        ad["learning_rate"] = _number(
            a4,
            "Learning rate",
            "md_lr",
            ad["learning_rate"],
            float,
            min_value=0.0,
            step=1e-5,
            format="%.0e",
        )
        st.caption(
            "The adapted model is cached: a second run with the same model, data and settings "
            "starts at once."
        )
        try:
            AdaptSpec(**ad)
        except UserError as exc:
            st.error(str(exc))


guarded(main)
