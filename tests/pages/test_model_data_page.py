"""Model & data, the defects of issue 13 point 7: too little data is refused with the interval it
would give, a CSV's separator is found, a failed upload is said so, a bad model path stays an
error after leaving the page, and checking a Hub id offline fails in about a second."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
MODEL_DATA = "pages/model_data.py"


def app(page: str = MODEL_DATA, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def successes(at: AppTest) -> str:
    return "\n".join(s.value for s in at.success)


def infos(at: AppTest) -> str:
    return "\n".join(i.value for i in at.info)


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.radio(key="md_data_mode").set_value("upload").run()
    at.file_uploader(key="md_upload").set_value((name, raw, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def reviews(n: int, sep: str = ",") -> bytes:
    rows = [f"review{sep}sentiment"]
    rows += [f"film number {i} was {'good' if i % 2 else 'bad'}{sep}{i % 2}" for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def run_page_blocks(at: AppTest, fragment: str) -> None:
    go(at, "pages/run.py")
    assert fragment in errors(at), errors(at)
    assert at.button(key="run_start").disabled
    assert any(link.proto.page == "model_data" for link in at.get("page_link"))


# ------------------------------------------------------------------ a. too little data
def test_two_usable_rows_are_refused_and_the_run_page_will_not_start():
    at = upload(app(), "stars.csv", b"words,stars\ngreat film,5\nawful film,1\n")
    assert "2 usable rows" in errors(at) and "at least 50 evaluation examples" in errors(at)
    assert "No example would be left to measure accuracy on" in errors(at)
    assert "usable rows" not in successes(at)  # no green box
    # The draft keeps the data it had: the unusable file is not what the run would use.
    assert at.session_state["draft"]["dataset"]["source"] == "rotten-tomatoes"
    run_page_blocks(at, "at least 50 evaluation examples")


def test_twenty_rows_say_how_wide_the_interval_would_be():
    at = upload(app(), "reviews.csv", reviews(20))
    assert "20 usable rows" in errors(at)
    assert "Only 4 examples would be used to measure accuracy" in errors(at)
    assert "±35 points (95% interval)" in errors(at)
    run_page_blocks(at, "±35 points")


def test_the_run_page_checks_the_draft_itself():
    """Even a draft that never went through Model & data is refused (lib's check)."""
    from lib.spec import default_spec_dict
    from lib.uploads import save_upload

    path = save_upload(b"words,stars\ngreat film,5\nawful film,1\n", "stars.csv")
    draft = default_spec_dict()
    draft["dataset"].update(source=str(path), text_column="words", label_column="stars")
    at = app("pages/run.py", draft=draft)
    assert "at least 50 evaluation examples" in errors(at)
    assert at.button(key="run_start").disabled


def test_a_low_eval_limit_is_refused_and_a_usable_one_gives_its_interval():
    at = app()
    assert "±3.1 points" in "\n".join(c.value for c in at.caption)  # 1,000 examples
    at.number_input(key="md_eval_limit").set_value(20).run()
    assert "Raise the evaluation examples to at least 50" in errors(at)
    run_page_blocks(at, "Only 20 examples")
    go(at, MODEL_DATA)
    at.number_input(key="md_eval_limit").set_value(200).run()
    assert not at.error, errors(at)
    assert any("±6.9 points" in w.value for w in at.warning)
    go(at, "pages/run.py")
    assert not at.button(key="run_start").disabled, errors(at)


def test_enough_rows_are_accepted_with_the_interval():
    at = upload(app(), "reviews.csv", reviews(400))
    assert not at.error, errors(at)
    assert "400 usable rows in 2 classes" in successes(at)
    captions = "\n".join(c.value for c in at.caption)
    assert "measured on 80 held-out examples" in captions or any(
        "80 held-out examples" in w.value for w in at.warning
    )


# ------------------------------------------------------------------ b. the separator
def test_a_semicolon_file_is_read_and_says_so():
    at = upload(app(), "semi.csv", reviews(400, sep=";"))
    assert not at.error, errors(at)
    assert at.selectbox(key="md_text_col").options == ["review", "sentiment"]
    ds = at.session_state["draft"]["dataset"]
    assert (ds["text_column"], ds["label_column"]) == ("review", "sentiment")
    assert any("separated by semicolons (;)" in c.value for c in at.caption)


def test_a_tab_file_is_read():
    at = upload(app(), "tabs.csv", reviews(400, sep="\t"))
    assert not at.error, errors(at)
    assert any("separated by tabs" in c.value for c in at.caption)


# ------------------------------------------------------------------ c. a failed upload
def test_a_failed_upload_is_not_hidden_behind_the_earlier_file():
    at = upload(app(), "good.csv", reviews(400))
    assert "400 usable rows" in successes(at)
    at.file_uploader(key="md_upload").set_value(("bad.csv", b"", "text/csv")).run()
    assert "bad.csv" in errors(at) and "empty" in errors(at)
    assert "The run still uses **good.csv**, not bad.csv" in infos(at)
    assert not at.success
    # Leaving the page and coming back: still the error, not good.csv in a green box.
    go(at, "pages/techniques.py")
    go(at, MODEL_DATA)
    assert "bad.csv" in errors(at) and "empty" in errors(at), errors(at)
    assert not at.success and "still uses **good.csv**" in infos(at)
    run_page_blocks(at, "bad.csv could not be used")
    # Going back to the earlier file, on purpose.
    go(at, MODEL_DATA)
    at.button(key="md_upload_back").click().run()
    assert not at.error, errors(at)
    assert "400 usable rows" in successes(at)
    assert any("earlier upload **good.csv**" in c.value for c in at.caption)


def test_a_failed_first_upload_says_what_the_run_uses():
    at = upload(app(), "bad.csv", "text,label\ncaf\xe9,a\n".encode("latin-1"))
    assert "not UTF-8" in errors(at)
    assert "still uses **rotten-tomatoes**" in infos(at)


# ------------------------------------------------------------------ d. a bad model path
def test_a_bad_model_path_is_still_an_error_after_leaving_the_page():
    at = app()
    at.radio(key="md_model_mode").set_value("folder").run()
    at.text_input(key="md_folder").input("/nonexistent/model").run()
    assert "Model folder not found: /nonexistent/model" in errors(at)
    go(at, "pages/techniques.py")
    go(at, MODEL_DATA)
    assert at.text_input(key="md_folder").value == "/nonexistent/model"
    assert "Model folder not found: /nonexistent/model" in errors(at), infos(at)
    assert "Until then the run uses" not in infos(at)
    assert at.session_state["problems"]["model"]


def test_a_cleared_model_field_still_names_the_bad_path():
    at = app()
    at.radio(key="md_model_mode").set_value("folder").run()
    at.text_input(key="md_folder").input("/nonexistent/model").run()
    at.text_input(key="md_folder").input("").run()
    assert "Model folder not found: /nonexistent/model" in errors(at)
    assert "Until then" not in infos(at)


# ------------------------------------------------------------------ f. the Hub, offline
def hub_check(at: AppTest, hub_id: str = "someone/some-model") -> float:
    at.radio(key="md_model_mode").set_value("hub").run()
    at.text_input(key="md_hub").input(hub_id).run()
    start = time.monotonic()
    at.button(key="md_hub_check").click().run()
    assert not at.exception, at.exception
    return time.monotonic() - start


def test_checking_the_hub_with_hf_hub_offline_says_so():
    at = app()
    hub_check(at)
    assert "Cannot check 'someone/some-model'" in errors(at)
    assert "HF_HUB_OFFLINE is set" in errors(at) and "local folder" in errors(at)


def test_checking_the_hub_on_a_dead_network_fails_in_about_a_second(monkeypatch):
    """No HF_HUB_OFFLINE, and a name lookup that hangs (a network that drops packets): the
    Hub's own client would wait out its time-outs; the check gives up after about a second."""

    def hang(*args, **kwargs):
        time.sleep(4)
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    at = app()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", hang)
    elapsed = hub_check(at)
    assert "cannot be reached from this machine" in errors(at), errors(at)
    assert elapsed < 3.0, elapsed


@pytest.fixture(autouse=True)
def _no_cached_config():
    """Hub facts are cached per id: each test asks afresh."""
    yield
    from pages import _model_inputs

    _model_inputs._model_facts.clear()
