"""Leanbench: the Streamlit router. Pages live in pages/; all computation lives in lib/.

Run with ``streamlit run app.py``. Adding a page is one line in ``PAGES``.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Leanbench", layout="wide", page_icon=":material/speed:")

PAGES: dict[str, list[st.Page]] = {
    "Benchmark": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/model_data.py", title="Model & data", icon=":material/dataset:"),
        st.Page("pages/techniques.py", title="Techniques", icon=":material/tune:"),
        st.Page("pages/run.py", title="Run", icon=":material/play_circle:"),
        st.Page("pages/results.py", title="Results", icon=":material/bar_chart:"),
    ],
    "Decide": [
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/cost.py", title="Cost", icon=":material/payments:"),
        st.Page("pages/demo.py", title="Demo", icon=":material/slideshow:"),
    ],
}


def _settings() -> None:
    """Where runs are stored: $LEANBENCH_STORE, or a URL typed here, or SQLite in ~/.leanbench."""
    from lib.paths import default_store_url

    with st.sidebar.expander("Settings", icon=":material/settings:"):
        if "store_url_input" not in st.session_state:
            st.session_state["store_url_input"] = st.session_state.get("store_url", "")
        url = st.text_input(
            "Store URL",
            key="store_url_input",
            placeholder=default_store_url(),
            help="Where runs and results are kept: any SQLAlchemy URL, e.g. "
            "postgresql://user:pw@host/db to share results with a team. "
            "Empty: the SQLite file shown (or $LEANBENCH_STORE).",
        )
        st.session_state["store_url"] = url.strip()
        st.caption("Runs started from this page use this store.")


page = st.navigation(PAGES)
_settings()
page.run()
