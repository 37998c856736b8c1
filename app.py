"""Leanbench: the Streamlit router. Pages live in pages/; all computation lives in lib/.

Run with ``streamlit run app.py``. Adding a page is one line in ``PAGES``.
"""

from __future__ import annotations

import streamlit as st

from pages._ui import gate

st.set_page_config(page_title="Leanbench", layout="wide", page_icon=":material/speed:")

PAGES: dict[str, list[st.Page]] = {
    "Benchmark": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/model_data.py", title="Model & data", icon=":material/dataset:"),
        st.Page("pages/techniques.py", title="Techniques", icon=":material/tune:"),
        st.Page("pages/run.py", title="Run", icon=":material/play_circle:"),
        st.Page("pages/results.py", title="Results", icon=":material/bar_chart:"),
        st.Page("pages/sweep.py", title="Sweep", icon=":material/hub:"),
    ],
    "Decide": [
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/cost.py", title="Cost", icon=":material/payments:"),
        st.Page("pages/demo.py", title="Demo", icon=":material/slideshow:"),
    ],
}


def _settings() -> None:
    """Where runs are stored: $LEANBENCH_STORE, or a URL typed here (by an operator, its password
    never shown back: pages/_ui.py), or SQLite in ~/.leanbench."""
    from pages import _ui

    with st.sidebar:
        _ui.account_box()
    with st.sidebar.expander("Settings", icon=":material/settings:"):
        _ui.store_settings()
        if "ray_address_input" not in st.session_state:
            st.session_state["ray_address_input"] = st.session_state.get("ray_address", "")
        address = st.text_input(
            "Ray cluster address",
            key="ray_address_input",
            placeholder="empty: sweeps run on this machine",
            help="Where the Sweep page runs its matrix: auto, HOST:6379 or ray://HOST:10001.",
        )
        st.session_state["ray_address"] = address.strip()


page = st.navigation(PAGES)
# Served beyond this machine, nothing (the sidebar's settings included) shows before a login.
if gate():
    _settings()
    page.run()
