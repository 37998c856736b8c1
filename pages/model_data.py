"""Model & data: which model to start from, which labelled text to adapt and evaluate it on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lib import uploads
from lib.access import limits
from lib.errors import UserError
from lib.spec import BUILTIN_DATASETS, AdaptSpec, DatasetSpec
from pages import _model_inputs as model_inputs
from pages._curve import curve_section
from pages._ui import TECHNIQUES, can, draft, guarded, md, seed, set_problem, why_not

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
# A failed upload, kept until a file is read, the failed one is removed from the uploader, or the
# user goes back to the data the run still uses: {"name": file name, "error": message}.
UPLOAD_FAILED = "md_upload_failed"


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
        counts = _dataset_section(d)
    with st.container(border=True):
        st.subheader("3 · How much data")
        _limits_section(d, counts)
    curve_section(d)  # how many labels are enough (issue 18)
    st.page_link(TECHNIQUES, label="Next: choose techniques", icon=":material/arrow_forward:")


def _dataset_section(d: dict) -> list[int] | None:
    """The dataset choice; returns the examples per class of the data the run will use, None
    when there is none usable (the section says why)."""
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
        st.session_state.pop(UPLOAD_FAILED, None)
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
        return [int(n) for n in counts["examples"]]
    return _upload_section(ds)


def _forget_failed_upload() -> None:
    """The uploader changed: a file removed from it takes its failure along."""
    if st.session_state.get("md_upload") is None:
        st.session_state.pop(UPLOAD_FAILED, None)


def _in_use(ds: dict) -> str:
    """What the run uses now, by the name people know it by."""
    if ds["source"] == st.session_state.get("upload_path"):
        return st.session_state.get("upload_name") or Path(ds["source"]).name
    return ds["source"] if ds["source"] in BUILTIN_DATASETS else Path(ds["source"]).name


def _upload_failed(ds: dict, name: str, error: str, in_uploader: bool) -> None:
    """Say that ``name`` could not be used and what the run uses instead; block the run until the
    user uploads a fixed file or goes back to that data."""
    st.session_state[UPLOAD_FAILED] = {"name": name, "error": error}
    st.error(f"**{md(name)}** could not be used: {error}", icon=":material/description:")
    still = _in_use(ds)
    set_problem(
        "dataset",
        f"Your upload {md(name)} could not be used: {error} Upload a fixed file on Model & data, "
        f"or go back to {md(still)} there.",
    )
    if in_uploader:
        st.info(
            f"The run still uses **{md(still)}**, not {md(name)}. Upload a fixed file, or remove "
            f"{md(name)} from the box above to go back to {md(still)}.",
            icon=":material/info:",
        )
        return
    st.info(
        f"The run still uses **{md(still)}**, not {md(name)}. Upload a fixed file, or go back "
        f"to {md(still)}.",
        icon=":material/info:",
    )
    if st.button(f"Use {md(still)}", key="md_upload_back", icon=":material/undo:"):
        st.session_state.pop(UPLOAD_FAILED, None)
        set_problem("dataset", None)
        st.rerun()


def _upload_section(ds: dict) -> list[int] | None:
    from lib import datasets

    allowed = can("upload")
    upload = st.file_uploader(
        "Upload a CSV or JSONL file with a text column and a label column",
        type=uploads.UPLOAD_TYPES,
        key="md_upload",
        on_change=_forget_failed_upload,
        disabled=not allowed,
        help="CSV with a header row (columns separated by commas, semicolons or tabs), or "
        "JSONL (one JSON object per line). UTF-8. The label column needs at least two classes. "
        f"At most {limits.max_upload_mb()} MB.",
    )
    if not allowed:
        st.caption(f":material/lock: {why_not('upload')}")
        upload = None  # a file sent anyway is not read
    frame, name = None, None
    failed = st.session_state.get(UPLOAD_FAILED)
    if upload is not None:
        raw = upload.getvalue()
        try:
            uploads.check_upload(raw, upload.name)  # size and type, before it is parsed
            frame = datasets.parse_table(raw, upload.name)
            path = uploads.save_upload(raw, upload.name)
        except UserError as exc:
            _upload_failed(ds, upload.name, str(exc), in_uploader=True)
            return None
        st.session_state.pop(UPLOAD_FAILED, None)
        name = upload.name
        st.session_state["upload_path"] = str(path)
        st.session_state["upload_name"] = name
    elif failed:
        _upload_failed(ds, failed["name"], failed["error"], in_uploader=False)
        return None
    elif st.session_state.get("upload_path") and Path(st.session_state["upload_path"]).exists():
        path = Path(st.session_state["upload_path"])
        name = st.session_state.get("upload_name") or path.name
        frame = _read_saved(str(path))
        st.caption(f"Using your earlier upload **{md(name)}**. Upload another file to replace it.")
    else:
        st.info(
            f"Upload a file to use your own data. Until then the run uses **{md(ds['source'])}**.",
            icon=":material/description:",
        )
        set_problem("dataset", None)
        return None

    note = uploads.separator_note(frame)
    if note:
        st.caption(note)
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
        return None
    counts = uploads.class_counts([data.label_names[i] for i in data.labels])
    # Too few rows whatever the limits: say so here, instead of a green box.
    size = datasets.eval_size(data, len(data), len(data))
    problem = size.problem()
    if problem:
        st.error(
            f"{md(name)} has {len(data):,} usable row{'s' if len(data) != 1 else ''} in "
            f"{len(data.label_names)} classes. {problem}",
            icon=":material/description:",
        )
        set_problem("dataset", f"{md(name)}: {problem}")
        _preview(*uploads.preview(data.texts, [data.label_names[i] for i in data.labels]))
        return None
    set_problem("dataset", None)
    ds.update(source=str(path), text_column=text_col, label_column=label_col)
    st.success(
        f"{len(data):,} usable rows in {len(data.label_names)} classes.",
        icon=":material/check_circle:",
    )
    _preview(*uploads.preview(data.texts, [data.label_names[i] for i in data.labels]))
    return [int(n) for n in counts["examples"]]


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


def _size_check(ds: dict, counts: list[int] | None) -> None:
    """How tight the accuracy will be with these limits; an error (that blocks the run) below
    ``datasets.MIN_EVAL_EXAMPLES`` evaluation examples."""
    from lib import datasets

    if counts is None:  # no usable data: the dataset section says why
        set_problem("eval_size", None)
        return
    size = datasets.eval_size_from_counts(counts, ds["train_limit"], ds["eval_limit"])
    problem = size.problem()
    set_problem("eval_size", problem)
    if problem:
        st.error(problem, icon=":material/straighten:")
    elif size.wide:
        st.warning(
            f"{size.sentence()} Differences of a few points between variants will be noise: "
            "evaluate on more examples for a tighter estimate.",
            icon=":material/straighten:",
        )
    else:
        st.caption(f":material/straighten: {size.sentence()}")


def _number(box, label: str, key: str, value: float, kind: type = int, **options) -> float:
    """A number input that starts at the draft's value and reads back as ``kind``."""
    seed(key, kind(value))
    return kind(box.number_input(label, key=key, **options))


def _limits_section(d: dict, counts: list[int] | None) -> None:
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
        set_problem("eval_size", None)  # the spec's own error is shown (and the Run page's)
    else:
        _size_check(ds, counts)

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
