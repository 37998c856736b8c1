"""The Model & data page's first section: where the model comes from (built-in, a folder on
this machine, a Hugging Face id), checked as it is typed, with the facts read from its config
(``lib.models.facts``). Widgets only.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lib.access import roots
from lib.errors import UserError
from lib.models import facts as model_facts
from lib.models import hub
from lib.spec import BUILTIN_MODEL, ModelSpec
from pages._ui import can, md, seed, set_problem, why_not

MODEL_MODES = {
    "builtin": "Built-in (MiniLM-L6)",
    "folder": "A folder on this machine",
    "hub": "Hugging Face Hub id",
}


@st.cache_data(show_spinner=False, max_entries=64)
def _model_facts(identity: str, location: str, is_local: bool) -> dict:
    """Read a model's config once per identity (changes when its files change)."""
    return model_facts.read_facts(identity, location, is_local)


def model_section(d: dict) -> None:
    from lib.models import load as models

    source = d["model"]["source"]
    kind = model_facts.source_kind(source)
    seed("md_model_mode", kind)
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
        # Seeded only where the field is drawn: a value seeded for a field that is not drawn in
        # the same run outlives the field's own state, and would come back (empty) after the
        # page is left, instead of the draft's path and its error.
        seed("md_folder", source if kind == "folder" else "")
        allowed = can("local_model")
        path = st.text_input(
            "Model folder",
            key="md_folder",
            placeholder="/path/to/a/folder/written/by/save_pretrained",
            disabled=not allowed,
            help="A folder in Hugging Face format: config.json plus model.safetensors "
            "and the tokenizer files.",
        ).strip()
        if not allowed:
            st.caption(f":material/lock: {why_not('local_model')}")
            path = ""  # a value sent anyway is not used
        if not path:
            _until_then(d["model"]["source"], "Type the path of a model folder on this machine.")
            return
        d["model"]["source"] = path
        try:
            resolved = check_local_model(path)
        except UserError as exc:
            st.error(str(exc), icon=":material/folder:")
            set_problem("model", str(exc))
            return
        st.success(f"Found a model in {md(resolved.location)}", icon=":material/check_circle:")
        _show_facts(resolved)
    else:
        seed("md_hub", source if kind == "hub" else "")
        hub_id = st.text_input(
            "Hugging Face model id",
            key="md_hub",
            placeholder="e.g. distilbert-base-uncased-finetuned-sst-2-english",
        ).strip()
        if not hub_id:
            _until_then(d["model"]["source"], "Type a model id from huggingface.co.")
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
                    hub.check_reachable(hub_id)  # about a second offline, not the Hub's ~24 s
                    checked[hub_id] = ("ok", _model_facts(resolved.identity, hub_id, False))
                except UserError as exc:
                    checked[hub_id] = ("error", str(exc))
        if hub_id in checked:
            state, value = checked[hub_id]
            if state == "ok":
                st.success(f"{hub_id} is reachable.", icon=":material/check_circle:")
                st.caption(model_facts.facts_line(value))
            else:
                st.error(value, icon=":material/public:")


def _until_then(current: str, ask: str) -> None:
    """An empty model field: ask for one, and say what the run uses meanwhile, or what is wrong
    with it (a bad path typed earlier stays in the draft until it is replaced)."""
    from lib.models import load as models

    try:
        models.resolve(ModelSpec(current))
    except UserError as exc:
        st.error(f"{exc} {ask}", icon=":material/warning:")
        set_problem("model", str(exc))
        return
    st.info(f"{ask} Until then the run uses **{md(current)}**.", icon=":material/info:")


def check_local_model(path: str):
    """A local model folder, resolved and its config read; UserError says what is wrong."""
    from lib.models import load as models

    roots.check_root(path)  # shared: outside LEANBENCH_MODEL_ROOTS, not even whether it exists
    if not Path(path).expanduser().exists():
        raise UserError(f"Model folder not found: {path}. Check the path.")
    resolved = models.resolve(ModelSpec(path))
    _model_facts(resolved.identity, resolved.location, True)
    return resolved


@st.cache_data(show_spinner=False, max_entries=32)
def _anatomy(identity: str, location: str, is_local: bool) -> dict:
    """Family, sizes, parameters and which techniques apply (``describe_model``), once per
    identity."""
    from lib.models import load as models
    from lib.techniques.applicability import describe_model

    return describe_model(models.load_config(models.ResolvedModel(location, is_local, identity)))


def _show_facts(resolved) -> None:
    try:
        with st.spinner("Reading the model's config..."):
            facts = _model_facts(resolved.identity, resolved.location, resolved.is_local)
            anatomy = _anatomy(resolved.identity, resolved.location, resolved.is_local)
    except UserError as exc:
        st.error(str(exc))
        set_problem("model", str(exc))
        return
    st.caption(model_facts.facts_line(facts))
    st.caption(model_facts.anatomy_line(anatomy))
    for line in model_facts.refusals(anatomy):
        st.caption(f":material/block: {line}")
