"""What the pages share that needs Streamlit: the error guard and the access gate, the store,
the run being built (the draft), starting runs and links. Everything else the pages show is
computed in lib/.

The gate (issue 17) is in ``guarded``, which every page calls, so no page can forget it: served
on loopback, this machine's user is an operator and nothing is asked; served beyond it (or with
``LEANBENCH_REQUIRE_LOGIN=1``), a visitor logs in (``st.login`` with the OIDC provider in
``.streamlit/secrets.toml`` ``[auth]``, or a user of ``python -m lib access add-user``), and with
no credential configured at all the app refuses to show anything. ``can(action)`` and
``require(action)`` are what every action point asks (``lib.access.roles``).

Not a page itself (app.py registers pages explicitly with st.navigation).
"""

from __future__ import annotations

import copy
import logging
import math
import secrets
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from lib.access import credentials, network, roles
from lib.access.lockout import LOCKOUT
from lib.access.redact import redact
from lib.access.text import escape_markdown
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
    """Run a page body, once the visitor may see it (``gate``): bad input shows its message, a
    bug shows one friendly line.

    Never a traceback on the page; the full one goes to the server log. Credentials in URLs are
    hidden in both (``lib.access.redact``)."""
    _ensure_router()
    if not gate():
        return
    try:
        body()
    except UserError as exc:
        st.error(redact(exc), icon=":material/warning:")
    except Exception as exc:  # noqa: BLE001 - the page must stay up
        log.error("page error\n%s", redact(traceback.format_exc()))
        st.error(
            f"Something went wrong: {redact(one_line(exc))}. Your settings are kept; "
            "try again, or change the input that led here.",
            icon=":material/report:",
        )


def md(text: object) -> str:
    """Text from a user or a run (a name, a path, a message) for a Markdown string: shown as
    typed (no link, image or formatting) and without credentials."""
    return escape_markdown(redact(text))


# ------------------------------------------------------------------ access (issue 17)
USER = "leanbench_user"  # session state: {"name", "role", "via"} once signed in
_SESSION_KEY = "leanbench_session_key"  # a random id: this session's failed logins


def served_address() -> str:
    """The address Streamlit listens on (``server.address``; empty: every interface)."""
    return str(st.get_option("server.address") or "")


def reachable_from_network() -> bool:
    """True when other machines can open the app (its bind address is not loopback)."""
    return network.served_beyond_localhost(served_address())


def login_required() -> bool:
    return reachable_from_network() or network.login_forced()


def current_user() -> dict | None:
    user = st.session_state.get(USER)
    return user if isinstance(user, dict) and user.get("role") in roles.ROLES else None


def role() -> str | None:
    """This session's role: the signed-in user's; an operator on a local app without a login;
    None while a login is needed."""
    user = current_user()
    if user is not None:
        return str(user["role"])
    return None if login_required() else roles.OPERATOR


def can(action: str) -> bool:
    """May this session do ``action`` (``lib.access.roles``: start_run, upload, ...)?"""
    return roles.can(role(), action)


def why_not(action: str) -> str | None:
    """The one line shown beside a control that is off for this session's role; None if on."""
    return None if can(action) else roles.reason(action)


def require(action: str) -> None:
    """``UserError`` (the reason) unless this session may do ``action``."""
    roles.check(role(), action)


def _auth_section() -> dict:
    """``[auth]`` of ``.streamlit/secrets.toml`` (st.login's OIDC provider), or {}."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets file at all
        return {}
    return dict(section) if section else {}


def _oidc_providers() -> list[str | None]:
    """The providers ``st.login`` can use: None for the default (``client_id`` in ``[auth]``),
    else the names of the ``[auth.NAME]`` sections."""
    auth = _auth_section()
    named = [str(k) for k, v in auth.items() if hasattr(v, "keys")]
    return ([None] if "client_id" in auth else []) + named


def _oidc_role() -> str | None:
    """The role of the user ``st.login`` signed in, from ``[leanbench]`` in secrets.toml
    (``operators``, ``viewers``: e-mail addresses or patterns); None if not signed in or not
    allowed."""
    try:
        if not st.user.is_logged_in:
            return None
        identity = str(st.user.get("email") or st.user.get("sub") or "")
        config = dict(st.secrets.get("leanbench") or {})
    except Exception:  # noqa: BLE001 - no [auth] or no secrets: no OIDC user
        return None
    return roles.oidc_role(identity, config.get("operators"), config.get("viewers"))


def gate() -> bool:
    """True when this session may see the app; otherwise draws the login (or the refusal) and
    returns False. Called by ``guarded`` (every page) and by app.py before its sidebar."""
    network.mark_shared(reachable_from_network())  # for lib and the workers: roots, pickles
    if current_user() is not None or not login_required():
        return True
    providers = _oidc_providers()
    if providers:
        found = _oidc_role()
        if found is not None:
            identity = str(st.user.get("email") or st.user.get("sub") or "")
            st.session_state[USER] = {"name": identity, "role": found, "via": "oidc"}
            log.info("signed in through OIDC: %s (%s)", identity, found)
            return True
    users = credentials.has_users()
    st.title("Leanbench")
    if not providers and not users:
        _refuse()
        return False
    _login(providers, users)
    return False


def _refuse() -> None:
    where = served_address() or "every network interface"
    st.error(
        f"Leanbench is served on {where}, so other machines can reach it, but no login is "
        "configured: it shows nothing until one is. Either serve it on this machine only "
        "(`make run`, which listens on 127.0.0.1), or configure a login: a user made with "
        "`python -m lib access add-user NAME --role operator`, or an OIDC provider in "
        "`.streamlit/secrets.toml` (`[auth]`). The README's *Sharing on a network* says how.",
        icon=":material/lock:",
    )


def _login(providers: list[str | None], users: bool) -> None:
    st.subheader("Sign in")
    st.caption(
        "This Leanbench can be reached from other machines, so it asks who you are. A viewer "
        "sees results, Compare, Cost and Demo and downloads reports; an operator also starts "
        "runs, uploads data and changes the store."
    )
    try:  # signed in at the provider, but not allowed here ([leanbench] in secrets.toml)
        signed_in_elsewhere = bool(providers) and bool(st.user.is_logged_in)
    except Exception:  # noqa: BLE001 - no [auth]: nobody is signed in there
        signed_in_elsewhere = False
    if signed_in_elsewhere:
        st.error(
            f"{md(st.user.get('email') or 'This account')} may not use this Leanbench; ask "
            "its operator to add you.",
            icon=":material/block:",
        )
        if st.button("Log out", key="lb_oidc_out"):
            st.logout()
    for provider in providers:
        label = f"Log in with {provider}" if provider else "Log in"
        if st.button(label, key=f"lb_oidc_{provider or 'default'}", type="primary"):
            st.login(provider)  # None: the [auth] section's own provider
    if not users:
        return
    with st.form("lb_login"):
        name = st.text_input("User name", key="lb_login_name")
        secret = st.text_input("Token or password", type="password", key="lb_login_secret")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        _try_login(name, secret)


def _lock_keys(name: str) -> list[str]:
    session = st.session_state.setdefault(_SESSION_KEY, secrets.token_hex(8))
    keys = [f"session:{session}", f"user:{name.strip().lower()}"]
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - no request context (AppTest)
        ip = None
    return keys + ([f"ip:{ip}"] if ip else [])


def _try_login(name: str, secret: str) -> None:
    keys = _lock_keys(name)
    wait = LOCKOUT.wait_s(keys)
    if wait > 0:
        st.error(
            f"Too many failed logins: try again in {math.ceil(wait / 60)} minute(s).",
            icon=":material/lock_clock:",
        )
        return
    try:
        user = credentials.verify(name, secret)
    except UserError as exc:  # a broken users file: the operator's to fix
        log.error("login: %s", exc)
        st.error("Logins cannot be checked right now; tell the operator.", icon=":material/error:")
        return
    if user is None:
        LOCKOUT.fail(keys)
        log.warning("failed login for %r", name[:64])
        st.error("That user name and token do not match.", icon=":material/lock:")
        return
    LOCKOUT.succeed(keys)
    st.session_state[USER] = {"name": user.name, "role": user.role, "via": "token"}
    st.session_state.pop("lb_login_secret", None)
    log.info("signed in: %s (%s)", user.name, user.role)
    st.rerun()


def account_box() -> None:
    """Who is signed in, and the way out (app.py's sidebar)."""
    user = current_user()
    if user is None:
        return
    st.caption(f":material/person: {md(user['name'])} · {user['role']}")
    if st.button("Log out", key="lb_logout", icon=":material/logout:"):
        st.session_state.pop(USER, None)
        if user.get("via") == "oidc":
            st.logout()
        st.rerun()


def network_notice() -> None:
    """The Home page's line on who can reach this app."""
    where = served_address() or "every network interface"
    if reachable_from_network():
        user = current_user()
        who = f" You are signed in as {md(user['name'])} ({user['role']})." if user else ""
        st.warning(
            f"Reachable from other machines: Leanbench is served on {md(where)}, and everyone "
            f"signs in.{who}",
            icon=":material/public:",
        )
    else:
        st.caption(f":material/lock: Only this machine can open Leanbench (served on {md(where)}).")


# ------------------------------------------------------------------ settings (the sidebar)
def store_settings() -> None:
    """The store URL: any SQLAlchemy URL, changed only by an operator, its password never shown
    back (the box shows it redacted; leaving that unchanged keeps the real URL)."""
    allowed = can("change_store")
    if "store_url_input" not in st.session_state:
        st.session_state["store_url_input"] = redact(st.session_state.get("store_url", ""))
    st.text_input(
        "Store URL",
        key="store_url_input",
        placeholder=redact(default_store_url()),
        disabled=not allowed,
        on_change=_store_url_typed,
        help="Where runs and results are kept: any SQLAlchemy URL, e.g. "
        "postgresql://user:pw@host/db to share results with a team (the password is never "
        "shown back). Empty: the SQLite file shown (or $LEANBENCH_STORE).",
    )
    if not allowed:
        st.caption(roles.reason("change_store"))
    st.caption("Runs started from this page use this store.")


def _store_url_typed() -> None:
    current = str(st.session_state.get("store_url", ""))
    if can("change_store"):
        typed = str(st.session_state.get("store_url_input") or "").strip()
        if typed != redact(current):  # the redacted URL left as it was keeps the real one
            st.session_state["store_url"] = current = typed
            log.info("store set to %s", redact(typed) or "the default")
    st.session_state["store_url_input"] = redact(current)


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
    """Start ``spec`` in a detached worker process and remember its id in the session
    (``UserError`` for a viewer, or when the queue is full)."""
    from lib.execution import jobs

    require("start_run")
    who = role()
    # The library checks the role too; an operator's call keeps start_background's plain form.
    extra = {} if who == roles.OPERATOR else {"role": who}
    run_id = jobs.start_background(spec, get_store(), **extra)
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
