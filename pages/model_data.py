"""Model & data: which model to start from, which labelled text to adapt and evaluate it on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lib.errors import UserError
from lib.spec import BUILTIN_DATASETS, BUILTIN_MODEL, AdaptSpec, DatasetSpec, ModelSpec
from pages._common import (
    TECHNIQUES,
    UPLOAD_TYPES,
    class_counts,
    draft,
    guarded,
    guess_columns,
    save_upload,
    seed,
    set_problem,
    validate_columns,
)

MODEL_MODES = {
    "builtin": "Built-in (MiniLM-L6)",
    "folder": "A folder on this machine",
    "hub": "Hugging Face Hub id",
}
DATA_MODES = {"builtin": "Built-in dataset", "upload": "My own file (CSV or JSONL)"}


# ------------------------------------------------------------------ cached look-ups
@st.cache_data(show_spinner=False, max_entries=64)
def _model_facts(identity: str, location: str, is_local: bool) -> dict:
    """Read a model's config once per identity (changes when its files change)."""
    from lib.models import load as models

    config = models.load_config(models.ResolvedModel(location, is_local, identity))
    id2label = getattr(config, "id2label", None) or {}
    return {
        "type": getattr(config, "model_type", "?"),
        "architectures": ", ".join(getattr(config, "architectures", None) or []) or "–",
        "layers": getattr(config, "num_hidden_layers", None),
        "hidden": getattr(config, "hidden_size", None),
        "labels": [str(v) for _, v in sorted(id2label.items(), key=lambda kv: int(kv[0]))]
        if any(a.endswith("ForSequenceClassification") for a in config.architectures or [])
        else [],
    }


@st.cache_data(show_spinner=False, max_entries=8)
def _builtin_preview(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from lib import datasets

    data = datasets.load(DatasetSpec(source=name))
    labels = [data.label_names[i] for i in data.labels]
    sample = pd.DataFrame({"text": data.texts, "label": labels}).sample(6, random_state=0)
    return sample.reset_index(drop=True), class_counts(labels)


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
        _model_section(d)
    with st.container(border=True):
        st.subheader("2 · Dataset")
        _dataset_section(d)
    with st.container(border=True):
        st.subheader("3 · How much data")
        _limits_section(d)
    st.page_link(TECHNIQUES, label="Next: choose techniques", icon=":material/arrow_forward:")


def _model_section(d: dict) -> None:
    from lib.models import load as models

    source = d["model"]["source"]
    if source == BUILTIN_MODEL:
        mode = "builtin"
    elif Path(source).expanduser().exists() or source.startswith(("/", ".", "~")):
        mode = "folder"
    else:
        mode = "hub"
    seed("md_model_mode", mode)
    seed("md_folder", source if mode == "folder" else "")
    seed("md_hub", source if mode == "hub" else "")
    mode = st.radio(
        "Where is the model?",
        list(MODEL_MODES),
        format_func=MODEL_MODES.get,
        horizontal=True,
        key="md_model_mode",
    )
    set_problem("model", None)
    if mode == "builtin":
        d["model"]["source"] = BUILTIN_MODEL
        st.caption(
            "all-MiniLM-L6-v2: a small English sentence encoder (6 layers, 22.7M parameters, "
            "Apache-2.0). It ships with Leanbench, so it works offline."
        )
        _show_facts(models.resolve(ModelSpec(BUILTIN_MODEL)))
    elif mode == "folder":
        path = st.text_input(
            "Model folder",
            key="md_folder",
            placeholder="/path/to/a/folder/written/by/save_pretrained",
            help="A folder in Hugging Face format: config.json plus model.safetensors "
            "(or pytorch_model.bin) and the tokenizer files.",
        ).strip()
        if not path:
            st.info(
                f"Type the path of a model folder on this machine. Until then the run uses "
                f"**{d['model']['source']}**.",
                icon=":material/folder:",
            )
            return
        d["model"]["source"] = path
        try:
            resolved = check_local_model(path)
        except UserError as exc:
            st.error(str(exc), icon=":material/folder:")
            set_problem("model", str(exc))
            return
        st.success(f"Found a model in {resolved.location}", icon=":material/check_circle:")
        _show_facts(resolved)
    else:
        hub_id = st.text_input(
            "Hugging Face model id",
            key="md_hub",
            placeholder="e.g. distilbert-base-uncased-finetuned-sst-2-english",
        ).strip()
        if not hub_id:
            st.info(
                f"Type a model id from huggingface.co. Until then the run uses "
                f"**{d['model']['source']}**.",
                icon=":material/hub:",
            )
            return
        d["model"]["source"] = hub_id
        try:
            resolved = models.resolve(ModelSpec(hub_id))
        except UserError as exc:
            st.error(str(exc))
            set_problem("model", str(exc))
            return
        st.warning(
            "A Hub model is downloaded when the benchmark starts, so this machine needs "
            "network access. Offline (e.g. in a demo), download it where you have network and "
            "pick *A folder on this machine* instead.",
            icon=":material/public:",
        )
        checked = st.session_state.setdefault("hub_checked", {})
        if st.button("Check it on the Hub", icon=":material/travel_explore:", key="md_hub_check"):
            with st.spinner(f"Asking the Hub about {hub_id}..."):
                try:
                    checked[hub_id] = ("ok", _model_facts(resolved.identity, hub_id, False))
                except UserError as exc:
                    checked[hub_id] = ("error", str(exc))
        if hub_id in checked:
            state, value = checked[hub_id]
            if state == "ok":
                st.success(f"{hub_id} is reachable.", icon=":material/check_circle:")
                _facts_line(value)
            else:
                st.error(value, icon=":material/public:")


def check_local_model(path: str):
    """A local model folder, resolved and its config read; UserError says what is wrong."""
    from lib.models import load as models

    if not Path(path).expanduser().exists():
        raise UserError(f"Model folder not found: {path}. Check the path.")
    resolved = models.resolve(ModelSpec(path))
    _model_facts(resolved.identity, resolved.location, True)
    return resolved


def _show_facts(resolved) -> None:
    try:
        with st.spinner("Reading the model's config..."):
            facts = _model_facts(resolved.identity, resolved.location, resolved.is_local)
    except UserError as exc:
        st.error(str(exc))
        set_problem("model", str(exc))
        return
    _facts_line(facts)


def _facts_line(facts: dict) -> None:
    parts = [f"type **{facts['type']}**"]
    if facts.get("layers"):
        parts.append(f"{facts['layers']} layers")
    if facts.get("hidden"):
        parts.append(f"hidden size {facts['hidden']}")
    if facts.get("labels"):
        labels = ", ".join(facts["labels"][:8])
        parts.append(f"classifies into: {labels}")
    else:
        parts.append("no classification head yet: one is fine-tuned on your data first")
    st.caption(" · ".join(parts))


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
        type=UPLOAD_TYPES,
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
        path = save_upload(raw, upload.name)
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
    guess_text, guess_label = guess_columns(frame)
    if st.session_state.get("md_text_col") not in columns:
        st.session_state["md_text_col"] = (
            ds.get("text_column") if ds.get("text_column") in columns else guess_text
        )
    if st.session_state.get("md_label_col") not in columns:
        st.session_state["md_label_col"] = (
            ds.get("label_column") if ds.get("label_column") in columns else guess_label
        )
    c1, c2 = st.columns(2)
    text_col = c1.selectbox("Text column", columns, key="md_text_col")
    label_col = c2.selectbox("Label column", columns, key="md_label_col")
    try:
        data = validate_columns(frame, text_col, label_col, name)
    except UserError as exc:
        st.error(
            f"{exc} Pick other columns, or fix the file and upload it again.",
            icon=":material/description:",
        )
        set_problem("dataset", str(exc))
        return
    set_problem("dataset", None)
    ds.update(source=str(path), text_column=text_col, label_column=label_col)
    labels = [data.label_names[i] for i in data.labels]
    sample = pd.DataFrame({"text": data.texts[:6], "label": labels[:6]})
    st.success(
        f"{len(data):,} usable rows in {len(data.label_names)} classes.",
        icon=":material/check_circle:",
    )
    _preview(sample, class_counts(labels))


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


def _limits_section(d: dict) -> None:
    ds, ad = d["dataset"], d["adapt"]
    seed("md_train_limit", int(ds["train_limit"]))
    seed("md_eval_limit", int(ds["eval_limit"]))
    seed("md_seed", int(ds["seed"]))
    c1, c2, c3 = st.columns(3)
    ds["train_limit"] = int(
        c1.number_input(
            "Training examples (at most)",
            min_value=0,
            step=500,
            key="md_train_limit",
            help="Used only to fine-tune a new classification head. 4,000 takes about "
            "2 minutes on 2 CPU cores.",
        )
    )
    ds["eval_limit"] = int(
        c2.number_input(
            "Evaluation examples (at most)",
            min_value=0,
            step=100,
            key="md_eval_limit",
            help="Accuracy is measured on this many held-out examples (the same ones for "
            "every variant). More examples: a tighter accuracy estimate, a longer run.",
        )
    )
    ds["seed"] = int(
        c3.number_input(
            "Random seed", min_value=0, step=1, key="md_seed", help="Fixes the train/eval split."
        )
    )
    try:
        DatasetSpec(**ds)
    except UserError as exc:
        st.error(str(exc))

    with st.expander("Advanced: fine-tuning the new head"):
        seed("md_epochs", float(ad["epochs"]))
        seed("md_max_length", int(ad["max_length"]))
        seed("md_adapt_batch", int(ad["batch_size"]))
        seed("md_lr", float(ad["learning_rate"]))
        a1, a2, a3, a4 = st.columns(4)
        ad["epochs"] = float(
            a1.number_input("Epochs", min_value=0.0, step=0.5, key="md_epochs", format="%.1f")
        )
        ad["max_length"] = int(
            a2.number_input("Max tokens per example", min_value=0, step=16, key="md_max_length")
        )
        ad["batch_size"] = int(
            a3.number_input("Batch size", min_value=0, step=8, key="md_adapt_batch")
        )
        ad["learning_rate"] = float(
            a4.number_input("Learning rate", min_value=0.0, step=1e-5, format="%.0e", key="md_lr")
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
