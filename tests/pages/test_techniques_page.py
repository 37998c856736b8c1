"""Techniques, the defects of issue 13 point 7: a variant the model cannot have (``distill:99``
on the 6-layer built-in model) is refused as the CLI refuses it, and what was typed in the
free-text field stays there, so clearing the field removes it."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TECHNIQUES = "pages/techniques.py"


def app(page: str = TECHNIQUES, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return go(at, page)


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def variants(at: AppTest) -> list[str]:
    return at.session_state["draft"]["variants"]


def test_distill_99_on_the_six_layer_model_is_refused_in_the_box():
    at = app()
    at.checkbox(key="tq_on_distill").check().run()
    at.text_input(key="tq_param_distill").input("99").run()
    assert "the model has 6 layers; a student needs fewer (1 to 5)" in errors(at)
    assert "distill:99" not in variants(at)
    assert "6 layers" in at.session_state["problems"]["variants"]
    at.text_input(key="tq_param_distill").input("3").run()
    assert not at.error, errors(at)
    assert "distill:3" in variants(at)


def test_distill_99_in_the_free_text_field_is_refused_and_the_run_page_says_so():
    at = app()
    at.text_input(key="tq_advanced").input("distill:99+int8").run()
    assert "Step 'distill:99' in variant 'distill:99+int8'" in errors(at)
    assert "has 6 layers" in errors(at)
    go(at, "pages/run.py")
    assert "has 6 layers" in errors(at) and at.button(key="run_start").disabled


def test_a_smaller_model_sets_the_limit(tiny_model_dir):
    """The check reads the draft's model: 2 layers here."""
    from lib.spec import default_spec_dict

    draft = default_spec_dict()
    draft["model"]["source"] = str(tiny_model_dir)
    at = app(draft=draft)
    at.text_input(key="tq_advanced").input("distill:2").run()
    assert "the model has 2 layers" in errors(at)


def test_clearing_the_free_text_field_removes_its_variant_after_leaving_the_page():
    at = app()
    at.text_input(key="tq_advanced").input("distill:3").run()
    assert variants(at) == ["fp32", "half", "int8", "distill:3"]
    go(at, "pages/model_data.py")
    go(at, TECHNIQUES)
    # Still where it was typed, not turned into a ticked box.
    assert at.text_input(key="tq_advanced").value == "distill:3"
    assert not at.checkbox(key="tq_on_distill").value
    at.text_input(key="tq_advanced").input("").run()
    assert variants(at) == ["fp32", "half", "int8"]
    go(at, "pages/run.py")
    go(at, TECHNIQUES)
    assert variants(at) == ["fp32", "half", "int8"]
    assert at.text_input(key="tq_advanced").value == ""


def test_a_ticked_box_stays_a_ticked_box():
    at = app()
    at.checkbox(key="tq_on_distill").check().run()
    at.text_input(key="tq_param_distill").input("3").run()
    go(at, "pages/model_data.py")
    go(at, TECHNIQUES)
    assert at.checkbox(key="tq_on_distill").value
    assert at.text_input(key="tq_advanced").value == ""
    assert "distill:3" in variants(at)
