"""Helpers the pages share: the store, the spec being built, error boxes, upload handling.

Not a page itself (app.py registers pages explicitly with st.navigation). The functions without
``st`` in them (``save_upload``, ``guess_columns``, ``parse_int_list``...) are plain Python, so
tests can call them directly.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import traceback
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from lib.errors import UserError
from lib.paths import default_store_url, user_dir
from lib.spec import (
    BUILTIN_DATASETS,
    BUILTIN_MODEL,
    AdaptSpec,
    DatasetSpec,
    MeasureSpec,
    ModelSpec,
    RunSpec,
)

log = logging.getLogger("leanbench.pages")

# Page files, as registered in app.py: for st.page_link and st.switch_page.
HOME = "pages/home.py"
MODEL_DATA = "pages/model_data.py"
TECHNIQUES = "pages/techniques.py"
RUN = "pages/run.py"
RESULTS = "pages/results.py"

ACTIVE = ("queued", "running")
STATUS_ICON = {
    "queued": ":material/hourglass_top:",
    "running": ":material/autorenew:",
    "done": ":material/check_circle:",
    "failed": ":material/error:",
    "interrupted": ":material/warning:",
    "ok": ":material/check_circle:",
}
UPLOAD_TYPES = ["csv", "jsonl", "json", "ndjson"]


# ------------------------------------------------------------------ errors
def guarded(body: Callable[[], Any]) -> None:
    """Run a page body: bad input shows its message, a bug shows one friendly line.

    Never a traceback on the page; the full one goes to the server log."""
    _ensure_router()
    try:
        body()
    except UserError as exc:
        st.error(str(exc), icon=":material/warning:")
    except Exception as exc:  # noqa: BLE001 - the page must stay up
        log.error("page error\n%s", traceback.format_exc())
        st.error(
            f"Something went wrong: {one_line(exc)}. Your settings are kept; "
            "try again, or change the input that led here.",
            icon=":material/report:",
        )


def _ensure_router() -> None:
    """Make sure this page runs under app.py's st.navigation, not Streamlit's legacy mode.

    Streamlit still auto-discovers a folder named ``pages/`` next to the main script: when a
    session's first request is a page URL (a bookmark of /results right after the server
    started; every AppTest run), it runs that file directly, without app.py (no wide layout, no
    settings, every file of pages/ listed in the sidebar). Then this runs app.py in place, which
    routes back to this page under the real navigation, in the same script run (so a button
    press is not lost), and stops the legacy run."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a future Streamlit without the legacy mode
        return
    if not getattr(PagesManager, "uses_pages_directory", False):
        return
    import runpy

    PagesManager.uses_pages_directory = False
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "app.py"), run_name="__main__")
    st.stop()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ------------------------------------------------------------------ the store
@st.cache_resource(show_spinner=False)
def _open_store(url: str):
    from lib.store import Store

    return Store(url)


def store_url() -> str:
    return st.session_state.get("store_url") or default_store_url()


def get_store():
    """The store this session reads and writes (opened once per URL)."""
    return _open_store(store_url())


# ------------------------------------------------------------------ the spec being built
def _default_variants() -> list[str]:
    field = next(f for f in fields(RunSpec) if f.name == "variants")
    return list(field.default_factory())  # type: ignore[misc]


def default_draft() -> dict:
    """The default run as a plain dict (built without importing torch)."""
    return {
        "model": asdict(ModelSpec()),
        "dataset": asdict(DatasetSpec()),
        "variants": _default_variants(),
        "adapt": asdict(AdaptSpec()),
        "measure": asdict(MeasureSpec()),
        "name": "",
    }


def draft() -> dict:
    """The RunSpec dict under construction, kept for the whole browser session."""
    if "draft" not in st.session_state:
        st.session_state["draft"] = default_draft()
    return st.session_state["draft"]


def reset_draft() -> None:
    st.session_state["draft"] = default_draft()
    st.session_state["problems"] = {}
    for key in list(st.session_state.keys()):
        if str(key).startswith(("md_", "tq_")):
            del st.session_state[key]


def draft_spec() -> RunSpec:
    """The draft as a validated RunSpec (UserError says what to fix)."""
    return RunSpec.from_dict(copy.deepcopy(draft()))


def set_problem(section: str, message: str | None) -> None:
    """Remember (or clear) a page's input problem, so the Run page can point at it."""
    problems = st.session_state.setdefault("problems", {})
    if message:
        problems[section] = message
    else:
        problems.pop(section, None)


def problems() -> dict[str, str]:
    return dict(st.session_state.get("problems", {}))


def seed(key: str, value: Any) -> None:
    """Give a keyed widget its starting value, unless the user already set one.

    Streamlit forgets a widget's value when its page is left; the draft remembers it."""
    if key not in st.session_state:
        st.session_state[key] = value


# ------------------------------------------------------------------ starting runs
def start_run(spec: RunSpec) -> str:
    """Start ``spec`` in a detached worker process and remember its id in the session."""
    from lib.execution import jobs

    run_id = jobs.start_background(spec, get_store())
    st.session_state["run_id"] = run_id
    return run_id


def start_default_run() -> str:
    return start_run(RunSpec.from_dict(default_draft()))


def active_run(store) -> dict | None:
    """The newest queued or running run in the store, if any."""
    for run in store.list_runs(limit=50):
        if run["status"] in ACTIVE:
            return run
    return None


def reap(store) -> None:
    """Mark runs whose worker died as interrupted (never fails the page)."""
    from lib.execution import jobs

    try:
        jobs.reap_dead_runs(store)
    except Exception:  # noqa: BLE001 - a reaping problem must not hide the runs
        log.warning("reap_dead_runs failed\n%s", traceback.format_exc())


# ------------------------------------------------------------------ describing runs
def run_title(run: dict) -> str:
    spec = run.get("spec") or {}
    model = (spec.get("model") or {}).get("source", "?")
    dataset = (spec.get("dataset") or {}).get("source", "?")
    if dataset not in BUILTIN_DATASETS:
        dataset = Path(str(dataset)).name
    if model != BUILTIN_MODEL and "/" in model and Path(model).expanduser().exists():
        model = Path(model).name
    return run.get("name") or f"{model} on {dataset}"


def when(value: Any) -> str:
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def run_label(run: dict) -> str:
    parts = [run_title(run), run["status"], when(run.get("created_at"))]
    if run.get("hardware"):
        parts.append(run["hardware"])
    parts.append(run["id"])
    return " · ".join(p for p in parts if p)


def runs_table(runs: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Status": r["status"],
                "Run": run_title(r),
                "Started": when(r.get("created_at")),
                "Progress": float(r.get("progress") or 0.0),
                "Message": r.get("message") or "",
                "Hardware": r.get("hardware") or "",
                "Id": r["id"],
            }
            for r in runs
        ]
    )


def spec_lines(spec: dict) -> list[tuple[str, str]]:
    """A spec dict as (label, value) lines for people."""
    m, d, ms = spec.get("model", {}), spec.get("dataset", {}), spec.get("measure", {})
    source = d.get("source", "")
    if source in BUILTIN_DATASETS:
        data = source
    else:
        data = (
            f"{st.session_state.get('upload_name') or Path(str(source)).name} "
            f"(text: {d.get('text_column')}, label: {d.get('label_column')})"
        )
    threads = ms.get("threads") or "all cores"
    return [
        ("Model", str(m.get("source", ""))),
        ("Dataset", data),
        (
            "Examples",
            f"train on up to {d.get('train_limit')}, evaluate on up to {d.get('eval_limit')} "
            f"(seed {d.get('seed')})",
        ),
        ("Variants", ", ".join(spec.get("variants", []))),
        (
            "Timing",
            f"batch sizes {', '.join(map(str, ms.get('batch_sizes', [])))} · "
            f"{ms.get('seq_len')} tokens · at least {ms.get('min_repeats')} repeats and "
            f"{ms.get('min_seconds')} s · threads: {threads} · device: {ms.get('device')}",
        ),
        (
            "Speed-ups",
            f"{ms['paired_rounds']} rounds taking turns with fp32"
            if ms.get("paired_rounds")
            else "fp32 p50 ÷ variant p50 (no paired rounds)",
        ),
        ("Energy", f"on ({ms.get('country')})" if ms.get("energy") else "off"),
    ]


# ------------------------------------------------------------------ uploads (plain Python)
def save_upload(raw: bytes, name: str, folder: Path | None = None) -> Path:
    """Keep an uploaded file where the worker process can read it: uploads/<sha>.<ext>."""
    ext = Path(name).suffix.lower().lstrip(".") or "csv"
    if ext not in UPLOAD_TYPES:
        raise UserError(f"{name}: upload a .csv or .jsonl file (got .{ext}).")
    folder = folder or user_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(raw).hexdigest()[:16]}.{ext}"
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(raw)
        tmp.replace(path)
    return path


_TEXT_NAMES = ("text", "sentence", "review", "content", "body", "message", "tweet", "document")
_LABEL_NAMES = ("label", "labels", "category", "class", "sentiment", "target", "topic", "y")


def guess_columns(frame: pd.DataFrame) -> tuple[str, str]:
    """Likely (text column, label column) of a table: by name, else by shape."""
    cols = [str(c) for c in frame.columns]
    lower = {c.lower(): c for c in cols}
    text = next((lower[n] for n in _TEXT_NAMES if n in lower), None)
    if text is None:
        lengths = {
            c: frame[c].astype(str).str.len().mean()
            for c in frame.columns
            if frame[c].dtype == object
        }
        text = str(max(lengths, key=lengths.get)) if lengths else cols[0]
    label = next((lower[n] for n in _LABEL_NAMES if n in lower and lower[n] != text), None)
    if label is None:
        rest = [c for c in frame.columns if str(c) != text]
        label = str(min(rest, key=lambda c: frame[c].nunique())) if rest else text
    return text, label


def parse_int_list(text: str, what: str = "Batch sizes") -> list[int]:
    """'1, 8,32' -> [1, 8, 32]; a UserError names the bad item."""
    items = [t.strip() for t in str(text).replace(";", ",").split(",") if t.strip()]
    if not items:
        raise UserError(f"{what}: give at least one whole number, e.g. 1, 32.")
    out = []
    for item in items:
        try:
            out.append(int(item))
        except ValueError:
            raise UserError(
                f"{what} must be whole numbers separated by commas; '{item}' is not one."
            ) from None
    return out


def class_counts(labels: list[str] | pd.Series) -> pd.DataFrame:
    counts = pd.Series(labels).astype(str).value_counts()
    return pd.DataFrame({"label": counts.index, "examples": counts.to_numpy()})


def validate_columns(frame: pd.DataFrame, text_col: str, label_col: str, where: str):
    """The rows as labelled text, or a UserError (missing column, one class, ...)."""
    from lib import datasets

    if text_col == label_col:
        raise UserError("The text column and the label column must be different columns.")
    return datasets.from_frame(frame, text_col, label_col, where=where)
