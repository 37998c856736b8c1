"""Techniques: which variants to build from the baseline, and how to measure them."""

from __future__ import annotations

import streamlit as st

from lib.errors import UserError
from lib.schema import BASELINE
from lib.spec import MeasureSpec, parse_int_list
from lib.techniques import choices
from pages._ui import RUN, draft, guarded, seed, set_problem

# The free-text field's text, kept apart from the widget (whose state ends with the page).
ADVANCED_TEXT = "tq_advanced_text"

DEVICES = {
    "cpu": "CPU",
    "auto": "Auto (GPU if there is one)",
    "cuda": "NVIDIA GPU (cuda)",
    "mps": "Apple GPU (mps)",
}


@st.cache_resource(show_spinner=False, max_entries=8)
def _config(identity: str, location: str, is_local: bool):
    """A local model's config, once per identity (it changes when the model's files do)."""
    from lib.models import load as models

    return models.load_config(models.ResolvedModel(location, is_local, identity))


def _model_config(source: str):
    """The draft model's config, for the checks that need the model (``distill:99`` on 6
    layers); None for a Hub model (reading it could wait on the network) or a model that cannot
    be read (Model & data says why)."""
    from lib.models import load as models
    from lib.spec import ModelSpec

    try:
        resolved = models.resolve(ModelSpec(source))
        return _config(resolved.identity, resolved.location, True) if resolved.is_local else None
    except UserError:
        return None


def _check(text: str, config) -> None:
    """A variant's syntax, then what only the model can tell (the CLI's checks, in lib): its
    layers (``distill:99`` on 6) and its family (structured pruning on ALBERT)."""
    from lib.techniques import check_against_model, parse_variant
    from lib.techniques.applicability import applicability

    variant = parse_variant(text)
    if config is not None:
        reason = applicability(config, variant)
        if reason is not None:
            raise UserError(reason)
        check_against_model(variant, config)


def _refusal(name: str, config) -> str | None:
    """Why technique ``name`` cannot work on the draft model (None: it can, or unknown yet)."""
    from lib.techniques.applicability import technique_applicability

    return technique_applicability(config, name) if config is not None else None


@st.cache_data(show_spinner=False)
def _this_machine() -> dict:
    from lib.measure.environment import cpu_model_and_flags

    model, flags = cpu_model_and_flags()
    return {"cpu_model": model, "cpu_flags": flags}


def main() -> None:
    from lib.runtimes.registry import runtimes
    from lib.techniques import techniques

    st.title("Techniques")
    st.caption(
        "Each technique makes a new variant from the fine-tuned baseline. Every variant is "
        "measured the same way and compared with the fp32 baseline, which is always included."
    )
    reg = techniques()
    rts = runtimes()
    d = draft()
    names = [n for n in reg if n != BASELINE]
    config = _model_config(d["model"]["source"])
    # What was typed in the free-text field stays there (and only there): a one-step variant
    # typed there must not turn into a ticked box, which clearing the field would not untick.
    typed = st.session_state.get(ADVANCED_TEXT)
    typed_items = set(choices.split_list(typed)) if typed is not None else set()
    simple, advanced = choices.split_variants(
        [v for v in d["variants"] if v not in typed_items], names
    )

    machine = _this_machine()
    st.caption(
        f"This machine: {machine['cpu_model']} · "
        f"{', '.join(machine['cpu_flags']) or 'no AVX512/VNNI/AMX flags'}. Whether a technique "
        "pays off depends on the chip: Leanbench measures rather than assumes."
    )

    chosen: list[str] = [BASELINE]
    errors: list[str] = []
    with st.container(border=True):
        st.markdown(f"**{BASELINE}** — always measured, as the baseline")
        st.caption(reg[BASELINE].summary)
    for name in names:
        t = reg[name]
        pick = simple.get(name, {})
        seed(f"tq_on_{name}", name in simple)
        seed(f"tq_param_{name}", pick.get("param", ""))
        seed(
            f"tq_rt_{name}", pick.get("runtime", "eager") if pick.get("runtime") in rts else "eager"
        )
        refused = _refusal(name, config)
        if refused and st.session_state.get(f"tq_on_{name}"):
            st.session_state[f"tq_on_{name}"] = False  # the model changed under a ticked box
        with st.container(border=True):
            head, param_col, rt_col = st.columns([5, 3, 2], vertical_alignment="top")
            with head:
                on = st.checkbox(
                    f"**{name}**", key=f"tq_on_{name}", disabled=bool(refused), help=refused
                )
                if refused:
                    st.caption(f":material/block: {refused[:1].upper()}{refused[1:]}.")
                st.caption(t.summary)
                if t.when_it_helps:
                    st.caption(f"*When it helps:* {t.when_it_helps}")
            param = ""
            if t.param_help:
                param = param_col.text_input(
                    "Setting",
                    key=f"tq_param_{name}",
                    placeholder=choices.placeholder(t.param_help),
                    help=t.param_help,
                    disabled=not on,
                ).strip()
                param_col.caption(choices.short_help(t.param_help))
            runtime = rt_col.selectbox(
                "Runtime",
                list(rts),
                key=f"tq_rt_{name}",
                format_func=lambda r: "PyTorch (eager)" if r == "eager" else r,
                help="How the variant is served. "
                + " ".join(f"**{k}**: {r.summary}" for k, r in rts.items()),
                disabled=not on,
            )
            if on:
                text = choices.variant_text(name, param, runtime)
                try:
                    _check(text, config)
                    chosen.append(text)
                    _warn_expected(text, machine)
                except UserError as exc:
                    errors.append(str(exc))
                    st.error(str(exc))

    with st.container(border=True):
        st.markdown("**Advanced: more variants**")
        seed("tq_advanced", typed if typed is not None else ", ".join(advanced))
        extra = st.text_input(
            "Variants, comma-separated",
            key="tq_advanced",
            placeholder="e.g. distill:3+int8@ort, fp32@compile, int8:per-channel",
            help="A variant is steps joined by '+', each 'name' or 'name:setting', applied left "
            "to right, then an optional '@runtime'. Runtimes: " + ", ".join(rts) + ".",
        )
        st.session_state[ADVANCED_TEXT] = extra
        for text in choices.split_list(extra):
            try:
                _check(text, config)
            except UserError as exc:
                errors.append(str(exc))
                st.error(str(exc))
                continue
            chosen.append(text)
            _warn_expected(text, machine)

    unique = list(dict.fromkeys(chosen))
    if len(unique) < len(chosen):
        st.caption("Variants listed twice are measured once.")
    d["variants"] = unique
    if errors:
        set_problem("variants", errors[0])
    else:
        set_problem("variants", None)
        st.success(
            f"{len(unique)} variants to measure: {', '.join(unique)}",
            icon=":material/check_circle:",
        )

    with st.container(border=True):
        st.subheader("How to measure")
        _measure_section(d)
    st.page_link(RUN, label="Next: run the benchmark", icon=":material/arrow_forward:")


def _warn_expected(variant: str, machine: dict) -> None:
    try:
        from lib.measure.expectations import expectations_for

        device = draft()["measure"].get("device", "cpu")
        found = expectations_for(variant, {**machine, "device": device})
    except Exception:  # noqa: BLE001 - a hint, never a blocker
        return
    for e in found:
        if e.level == "warn":
            st.warning(e.message, icon=":material/speed:")
        else:
            st.caption(f":material/info: {e.message}")


def _measure_section(d: dict) -> None:
    m = d["measure"]
    seed("tq_batch_sizes", ", ".join(str(b) for b in m["batch_sizes"]))
    seed("tq_seq_len", int(m["seq_len"]))
    seed("tq_min_repeats", int(m["min_repeats"]))
    seed("tq_min_seconds", float(m["min_seconds"]))
    seed("tq_warmup", int(m["warmup"]))
    seed("tq_paired_rounds", int(m.get("paired_rounds", 5)))
    seed("tq_threads", int(m["threads"] or 0))
    seed("tq_device", m["device"] if m["device"] in DEVICES else "cpu")
    seed("tq_energy", bool(m["energy"]))
    seed("tq_country", m["country"])

    c1, c2, c3 = st.columns(3)
    batch_text = c1.text_input(
        "Batch sizes",
        key="tq_batch_sizes",
        help="Items per forward pass, comma-separated. Batch 1 is one user waiting; large "
        "batches are offline throughput.",
    )
    try:
        m["batch_sizes"] = parse_int_list(batch_text)
        set_problem("batch_sizes", None)
    except UserError as exc:
        c1.error(str(exc))
        set_problem("batch_sizes", str(exc))
    m["seq_len"] = int(
        c2.number_input(
            "Sequence length (tokens)",
            min_value=0,
            step=16,
            key="tq_seq_len",
            help="Inputs are padded to this length for timing (at most 512 for BERT models).",
        )
    )
    m["device"] = c3.selectbox("Device", list(DEVICES), format_func=DEVICES.get, key="tq_device")
    seed("tq_sweep", ", ".join(str(n) for n in m.get("sweep_seq_lens") or []))
    sweep_text = st.text_input(
        "Also time these sequence lengths (optional)",
        key="tq_sweep",
        placeholder="e.g. 32, 64, 256",
        help="A latency-vs-length sweep at the smallest batch size, drawn on the Results page.",
    )
    try:
        m["sweep_seq_lens"] = (
            parse_int_list(sweep_text, "Sequence lengths") if sweep_text.strip() else []
        )
        set_problem("sweep_seq_lens", None)
    except UserError as exc:
        st.error(str(exc))
        set_problem("sweep_seq_lens", str(exc))
    c4, c5, c6, c7 = st.columns(4)
    m["min_repeats"] = int(
        c4.number_input("Minimum repeats", min_value=0, step=1, key="tq_min_repeats")
    )
    m["min_seconds"] = float(
        c5.number_input(
            "Minimum seconds per timing",
            min_value=0.0,
            step=0.5,
            key="tq_min_seconds",
            help="Each batch size is timed until both the repeats and the seconds are reached.",
        )
    )
    m["warmup"] = int(c6.number_input("Warm-up passes", min_value=0, step=1, key="tq_warmup"))
    threads = int(
        c7.number_input(
            "CPU threads (0 = all)",
            min_value=0,
            step=1,
            key="tq_threads",
            help="Fixed for the whole measurement and recorded with the results.",
        )
    )
    m["threads"] = threads or None
    m["paired_rounds"] = int(
        st.number_input(
            "Paired rounds behind each speed-up",
            min_value=0,
            max_value=50,
            step=1,
            key="tq_paired_rounds",
            help="Each variant and fp32 take turns being timed in the same process, round after "
            "round, so a machine that slows down mid-run slows both alike. The speed-up and its "
            "95% interval come from these rounds; 0 skips them (faster runs, noisier ratios).",
        )
    )
    e1, e2 = st.columns([1, 2])
    m["energy"] = e1.toggle(
        "Measure energy",
        key="tq_energy",
        help="Estimates joules per 1,000 items with codecarbon (works offline).",
    )
    if m["energy"]:
        m["country"] = (
            e2.text_input(
                "Country (ISO-3 code, for carbon intensity)", key="tq_country", max_chars=3
            )
            .strip()
            .upper()
        )
    try:
        MeasureSpec(**m)
    except (UserError, TypeError) as exc:
        st.error(str(exc))
        set_problem("measure", str(exc))
    else:
        set_problem("measure", None)


guarded(main)
