"""Issue 17 on the pages, through AppTest: served beyond localhost nothing shows without a login
(and nothing at all without a credential configured); the built-in login checks a token and
locks out after repeated failures; a viewer sees every page but every action point is off with
its reason, an operator's are on; the queue cap is shown; run names and file names show as
typed, not as Markdown.

Local (the default: 127.0.0.1, no credential) stays as it was: an operator, nothing asked.
"""

from __future__ import annotations

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from lib.access import credentials
from lib.access.lockout import Lockout
from lib.store import Store
from tests.pages.test_pages import APP, PAGES, app, errors, stored_run

VIEWER = {"name": "vera", "role": "viewer", "via": "token"}
OPERATOR = {"name": "otto", "role": "operator", "via": "token"}


@pytest.fixture(autouse=True)
def fresh_lockout(monkeypatch):
    """Each test starts with nobody locked out (the real one lives as long as the server)."""
    import pages._ui

    lockout = Lockout()
    monkeypatch.setattr(pages._ui, "LOCKOUT", lockout)
    monkeypatch.setenv("LEANBENCH_SHARED", "0")  # restored after the test: the gate sets it
    return lockout


@pytest.fixture
def shared():
    """The app served on every interface, as `make run ADDRESS=0.0.0.0` does."""
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def forged(widget):
    """A disabled widget a crafted client uses anyway (AppTest, like a browser, refuses to)."""
    widget.proto.disabled = False
    return widget


def login_form(at: AppTest) -> bool:
    return [t.label for t in at.text_input] == ["User name", "Token or password"]


def log_in(at: AppTest, name: str, secret: str) -> AppTest:
    at.text_input(key="lb_login_name").input(name)
    at.text_input(key="lb_login_secret").input(secret)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    return at


# ------------------------------------------------------------------ local: as before
def test_local_without_credentials_is_an_operator_and_says_it_is_local():
    at = app()
    assert not at.button(key="home_default_run").disabled
    assert any("Only this machine can open Leanbench" in c.value for c in at.caption)
    assert not at.sidebar.text_input[0].disabled  # the store URL


# ------------------------------------------------------------------ shared: a login
@pytest.mark.parametrize("page", PAGES)
def test_shared_without_any_credential_refuses_every_page(shared, page):
    at = app(page)
    assert "no login is configured" in errors(at) and "add-user" in errors(at)
    assert not at.sidebar.text_input  # no settings, no store URL
    assert not at.get("button") and not at.get("dataframe")


def test_shared_with_users_asks_for_a_login_then_shows_the_app(shared):
    token = credentials.add_user("otto", "operator")
    at = app()
    assert login_form(at) and not at.sidebar.text_input
    log_in(at, "otto", "not the token")
    assert "do not match" in errors(at)
    log_in(at, "otto", token)
    assert at.session_state["leanbench_user"]["role"] == "operator"
    assert not at.button(key="home_default_run").disabled
    home = "\n".join(w.value for w in at.warning)
    assert "Reachable from other machines" in home and "otto" in home


def test_a_viewer_token_logs_in_as_a_viewer(shared):
    token = credentials.add_user("vera", "viewer")
    at = log_in(app(), "vera", token)
    assert at.session_state["leanbench_user"]["role"] == "viewer"
    assert at.button(key="home_default_run").disabled


def test_repeated_failures_lock_the_user_out_even_with_the_right_token(shared):
    token = credentials.add_user("otto", "operator")
    at = app()
    for _ in range(5):
        log_in(at, "otto", "wrong guess")
    log_in(at, "otto", token)
    assert "Too many failed logins" in errors(at)
    assert "leanbench_user" not in at.session_state
    # Another browser session (a new tab) is locked out too: the count is per user.
    other = log_in(app(), "otto", token)
    assert "Too many failed logins" in errors(other)


def test_the_lockout_cools_down(shared, fresh_lockout):
    token = credentials.add_user("otto", "operator")
    now = [1000.0]
    fresh_lockout.clock = lambda: now[0]
    at = app()
    for _ in range(5):
        log_in(at, "otto", "wrong guess")
    now[0] += fresh_lockout.cooldown_s + 1
    log_in(at, "otto", token)
    assert at.session_state["leanbench_user"]["name"] == "otto"


def test_with_an_oidc_provider_the_login_button_is_st_login(shared):
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "leanbench",
        "client_secret": "s",
        "server_metadata_url": "https://id.example/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert not login_form(at)  # no users file: the provider is the only way in


def test_login_forced_on_loopback(monkeypatch):
    """Behind a reverse proxy every visitor is local: LEANBENCH_REQUIRE_LOGIN=1 asks anyway."""
    monkeypatch.setenv("LEANBENCH_REQUIRE_LOGIN", "1")
    credentials.add_user("otto", "operator")
    assert login_form(app())


# ------------------------------------------------------------------ viewer vs operator
def test_viewer_home_button_is_off_with_its_reason():
    at = app(leanbench_user=VIEWER)
    assert at.button(key="home_default_run").disabled
    assert any("Only an operator can start benchmarks" in c.value for c in at.caption)


def test_viewer_run_start_is_off_and_refused_by_the_library(monkeypatch):
    from lib.execution import jobs

    started = []
    monkeypatch.setattr(jobs.subprocess, "Popen", lambda *a, **k: started.append(a))
    at = app("pages/run.py", leanbench_user=VIEWER)
    assert at.button(key="run_start").disabled
    assert any("Only an operator can start benchmarks" in c.value for c in at.caption)
    forged(at.button(key="run_start")).click().run()  # a click that arrives anyway
    assert not at.exception, at.exception
    assert started == [] and Store().list_runs() == []


def test_the_library_refuses_a_viewers_run_too():
    from lib.errors import UserError
    from lib.execution import jobs
    from lib.spec import RunSpec, default_spec_dict

    with pytest.raises(UserError, match="Only an operator can start benchmarks"):
        jobs.start_background(RunSpec.from_dict(default_spec_dict()), Store(), role="viewer")
    assert Store().list_runs() == []


def test_viewer_results_default_run_is_off():
    at = app("pages/results.py", leanbench_user=VIEWER)
    assert at.button(key="results_default_run").disabled


def test_viewer_cannot_upload_or_use_a_local_folder(tiny_model_dir):
    at = app("pages/model_data.py", leanbench_user=VIEWER)
    at.radio(key="md_data_mode").set_value("upload").run()
    assert at.get("file_uploader")[0].proto.disabled
    assert any("Only an operator can upload" in c.value for c in at.caption)
    at.radio(key="md_model_mode").set_value("folder").run()
    assert at.text_input(key="md_folder").disabled
    forged(at.text_input(key="md_folder")).input(str(tiny_model_dir)).run()  # sent anyway
    assert at.session_state["draft"]["model"]["source"] != str(tiny_model_dir)
    assert any("Only an operator can use a model folder" in c.value for c in at.caption)


def state(at: AppTest, key: str, default=None):
    try:
        return at.session_state[key]
    except KeyError:
        return default


def test_viewer_cannot_change_the_store(tmp_path):
    at = app(leanbench_user=VIEWER)
    box = at.sidebar.text_input[0]
    assert box.label == "Store URL" and box.disabled
    forged(box).input(f"sqlite:///{tmp_path / 'elsewhere.db'}").run()  # sent anyway
    assert not state(at, "store_url")
    assert not (tmp_path / "elsewhere.db").exists()
    assert any("Only an operator can change the store" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize(
    "page", ["pages/results.py", "pages/compare.py", "pages/cost.py", "pages/demo.py"]
)
def test_viewer_sees_results_compare_cost_and_demo(page):
    stored_run()
    at = app(page, leanbench_user=VIEWER)
    assert "Something went wrong" not in errors(at) and "Only an operator" not in errors(at)
    assert at.get("download_button") or page == "pages/demo.py"


def test_operator_action_points_are_on(tiny_model_dir):
    at = app(leanbench_user=OPERATOR)
    assert not at.button(key="home_default_run").disabled
    assert not at.sidebar.text_input[0].disabled
    at.switch_page("pages/run.py").run()
    assert not at.button(key="run_start").disabled
    at.switch_page("pages/model_data.py").run()
    at.radio(key="md_data_mode").set_value("upload").run()
    assert not at.get("file_uploader")[0].proto.disabled
    at.radio(key="md_model_mode").set_value("folder").run()
    at.text_input(key="md_folder").input(str(tiny_model_dir)).run()
    assert at.session_state["draft"]["model"]["source"] == str(tiny_model_dir)


def test_operator_store_url_is_kept_but_shown_without_its_password(tmp_path):
    at = app(leanbench_user=OPERATOR)
    url = f"sqlite:///{tmp_path / 'team.db'}"
    at.sidebar.text_input[0].input(url).run()
    assert state(at, "store_url") == url and (tmp_path / "team.db").exists()
    # A PostgreSQL URL with a password (nothing listens on port 1: the store cannot open).
    secret = "postgresql+psycopg2://bob:s3cret-pw@127.0.0.1:1/lb"
    at.sidebar.text_input[0].input(secret).run()
    assert not at.exception, at.exception
    assert state(at, "store_url") == secret  # runs use the real URL
    assert at.sidebar.text_input[0].value == "postgresql+psycopg2://bob:***@127.0.0.1:1/lb"
    assert "Cannot open the store at postgresql+psycopg2://bob:***@127.0.0.1:1/lb" in errors(at)
    assert "s3cret-pw" not in errors(at)
    # Leaving the redacted URL as it is keeps the real one.
    at.sidebar.text_input[0].input("postgresql+psycopg2://bob:***@127.0.0.1:1/lb").run()
    assert state(at, "store_url") == secret


# ------------------------------------------------------------------ the queue cap
def test_run_page_shows_the_queue_cap_and_stops_at_it(monkeypatch):
    at = app("pages/run.py")
    assert any("Queue: 0 of at most 5 runs" in c.value for c in at.caption)
    monkeypatch.setenv("LEANBENCH_MAX_QUEUED", "1")
    store = Store()
    other = store.create_run({"variants": ["fp32"], "name": "elsewhere"}, status="running")
    assert other
    at = app("pages/run.py", run_id=None)
    assert any("Queue: 1 of at most 1 run" in c.value and "full" in c.value for c in at.caption)
    assert at.button(key="run_start").disabled


# ------------------------------------------------------------------ escaping
def test_run_names_and_messages_show_as_typed():
    store = Store()
    run_id = store.create_run(
        {"model": {"source": "minilm-l6"}, "dataset": {"source": "rotten-tomatoes"}},
        status="running",
        name="[click me](http://evil.invalid) ![x](http://evil.invalid/t.png)",
    )
    store.update_run(run_id, message="**loud** postgresql://u:pw-secret@h/db")
    at = app("pages/run.py", run_id=run_id)
    shown = "\n".join(
        [s.value for s in at.subheader]
        + [i.value for i in at.info]
        + [m.value for m in at.markdown]
    )
    assert "\\[click me\\](http://evil.invalid)" in shown
    assert "[click me](http" not in shown.replace("\\[click me\\](http", "")
    text = "\n".join(p.proto.text for p in at.get("progress"))
    assert "pw-secret" not in text and "\\*\\*loud\\*\\*" in text


def test_viewer_sweep_start_is_off_with_its_reason():
    at = app("pages/sweep.py", leanbench_user=VIEWER)
    assert at.button(key="sweep_start").disabled
    assert any("Only an operator can start sweeps" in c.value for c in at.caption)
