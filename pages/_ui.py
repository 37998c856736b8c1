"""What the pages share that needs Streamlit: the error guard, the store, the run being built
(the draft), starting runs and links. Everything else the pages show is computed in lib/.

Not a page itself (app.py registers pages explicitly with st.navigation).
"""

from __future__ import annotations

import copy
import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from lib.errors import UserError
from lib.paths import default_store_url
from lib.spec import RunSpec, default_spec_dict

log = logging.getLogger("leanbench.pages")

# Page files, as registered in app.py: for st.page_link and st.switch_page.
HOME = "pages/home.py"
MODEL_DATA = "pages/model_data.py"
TECHNIQUES = "pages/techniques.py"
RUN = "pages/run.py"
RESULTS = "pages/results.py"
COMPARE = "pages/compare.py"
COST = "pages/cost.py"
DEMO = "pages/demo.py"

STATUS_ICON = {
    "queued": ":material/hourglass_top:",
    "running": ":material/autorenew:",
    "done": ":material/check_circle:",
    "failed": ":material/error:",
    "interrupted": ":material/warning:",
    "ok": ":material/check_circle:",
}


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

    Needed with Streamlit 1.x up to at least 1.67 (the version pinned here): its PagesManager
    still sets ``uses_pages_directory`` when a folder named ``pages/`` sits next to the main
    script, a relic of the v1 multipage apps. When a session's first request is a page URL (a
    bookmark of /results right after the server started; every AppTest run of a page file), it
    runs that file directly, without app.py (no wide layout, no settings, every file of pages/
    listed in the sidebar). Then this runs app.py in place, which routes back to this page under
    the real navigation, in the same script run (so a button press is not lost), and stops the
    legacy run. Drop it when Streamlit no longer has ``PagesManager.uses_pages_directory``."""
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
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def link(page: str, label: str, icon: str | None = None, fallback: str | None = None) -> None:
    """A link to another page; a caption (``fallback``) when the page is not registered, as when
    a page file runs on its own."""
    try:
        st.page_link(page, label=label, icon=icon)
    except Exception:  # noqa: BLE001 - not registered when the page runs on its own
        st.caption(fallback or f"{label}: open it from the menu.")


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


# ------------------------------------------------------------------ the run being built
def draft() -> dict:
    """The RunSpec dict under construction, kept for the whole browser session."""
    if "draft" not in st.session_state:
        st.session_state["draft"] = default_spec_dict()
    return st.session_state["draft"]


def reset_draft() -> None:
    st.session_state["draft"] = default_spec_dict()
    st.session_state["problems"] = {}
    for key in list(st.session_state.keys()):
        if str(key).startswith(("md_", "tq_", "run_lt_")):
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
    return start_run(RunSpec.from_dict(default_spec_dict()))


def reap(store) -> None:
    """Mark runs whose worker died as interrupted (never fails the page)."""
    from lib.execution import jobs

    try:
        jobs.reap_dead_runs(store)
    except Exception:  # noqa: BLE001 - a reaping problem must not hide the runs
        log.warning("reap_dead_runs failed\n%s", traceback.format_exc())


# ------------------------------------------------------------------ the run being looked at
def set_focus_run(run_id: str | None) -> None:
    """Remember the run the user is looking at (on Demo, Results or Compare), so the next page
    (Cost above all) opens with the same run instead of the newest one."""
    if run_id:
        st.session_state["focus_run"] = str(run_id)


def focus_run() -> str | None:
    """The run the user last looked at, or None."""
    value = st.session_state.get("focus_run")
    return str(value) if value else None
