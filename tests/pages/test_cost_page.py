"""The Cost page, driven headless with AppTest: empty state, a stored run rendered into an answer,
table and charts, and bad input shown in an error box (never a traceback)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.format import MISSING
from lib.store import Store

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "cost.py")
from tests.helpers.runs import cost_result as result  # noqa: E402

ENV = {"device": "cpu", "cpu_model": "Intel(R) Xeon(R) Platinum 8488C", "threads": 2}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEANBENCH_HOME", str(tmp_path))
    monkeypatch.delenv("LEANBENCH_STORE", raising=False)
    return tmp_path


@pytest.fixture
def filled_store(home, monkeypatch) -> str:
    url = f"sqlite:///{home}/s.db"
    store = Store(url)
    run_id = store.create_run({"model": {"source": "minilm-l6"}, "dataset": {"source": "sst2"}})
    store.update_run(run_id, status="done", environment=ENV, hardware="8488C (2 threads)")
    store.add_result(run_id, 0, result("fp32", "fp32", 0.86, 40.0, 80.0))
    store.add_result(run_id, 1, result("int8", "int8", 0.855, 70.0, 160.0))
    store.add_result(run_id, 2, {"variant": "half", "status": "failed", "error": "no fp16 on CPU"})
    monkeypatch.setenv("LEANBENCH_STORE", url)
    return run_id


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def cost_tables(at: AppTest) -> list[pd.DataFrame]:
    """The cost table (the catalogue editors are dataframes too)."""
    return [d.value for d in at.dataframe if "$ per 1M" in getattr(d.value, "columns", [])]


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def test_empty_store_says_to_run_a_benchmark_first(home):
    at = page()
    assert not at.error, errors(at)
    assert any("No benchmark runs yet" in i.value for i in at.info)
    assert not cost_tables(at) and not at.get("plotly_chart")


def test_stored_run_renders_answer_table_and_charts(filled_store):
    at = page()
    assert not at.error, errors(at)
    sentence = next(m.value for m in at.markdown if "per 1M requests" in m.value)
    assert "$" in sentence
    assert "c7i.2xlarge (projected)" in sentence and "g4dn.xlarge" in sentence
    assert "L4 bought for" in sentence and "pays back" in sentence
    (table,) = cost_tables(at)
    assert set(table["Hardware"]) == {"g4dn.xlarge", "c7i.2xlarge", "g6.xlarge", "L4 (owned)"}
    assert set(table["Variant"]) == {"fp32", "int8"}
    assert set(table["Throughput source"]) == {"projected"}
    assert (table["$ per 1M"] > 0).all()
    assert table["Throughput assumptions"].str.len().gt(0).all()
    assert len(at.get("plotly_chart")) == 4
    assert any("older than 12 months" in w.value for w in at.warning)
    # Every row's inputs are one click away.
    assert len(at.expander) >= 4


def test_pricing_and_variant_change_the_answer(filled_store):
    at = page()
    at.segmented_control(key="cost_pricing").set_value("commit_3y").run()
    assert not at.exception and not at.error, errors(at)
    at.selectbox(key="cost_variant").set_value("fp32").run()
    sentence = next(m.value for m in at.markdown if "per 1M requests" in m.value)
    assert "**fp32**" in sentence and "3-year prices" in sentence


def test_utilisation_zero_is_an_error_box(filled_store):
    at = page()
    at.number_input(key="cost_utilisation").set_value(0.0)
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert "Utilisation must be above 0" in errors(at)


def test_malformed_catalogue_upload_names_row_and_column(filled_store):
    at = page()
    bad = (
        "provider,instance,vcpus,on_demand_usd_per_hour,price_source,price_date\n"
        "aws,c7i.2xlarge,8,0.357,ours,2026-01\n"
        "aws,my-box,8,,ours,2026-01\n"
    )
    at.file_uploader(key="cost_catalog_file").set_value(("mine.csv", bad.encode(), "text/csv"))
    at.run()
    assert not at.exception
    message = errors(at)
    assert "row 2 (my-box)" in message and "on_demand_usd_per_hour" in message
    # The page keeps working on the built-in catalogue.
    assert cost_tables(at)


def test_uploaded_results_json_is_costed(home):
    import json

    doc = {"run_id": "up", "environment": ENV, "results": [result("int8", "int8", 0.85, 70, 160)]}
    at = page()
    at.file_uploader(key="cost_results_file").set_value(
        ("results.json", json.dumps(doc).encode(), "application/json")
    )
    at.run()
    assert not at.exception and not at.error, errors(at)
    assert any("$" in m.value and "per 1M requests" in m.value for m in at.markdown)


def test_owning_that_never_pays_back_says_never(filled_store):
    at = page()
    options = [*at.multiselect(key="cost_options").value, "c7g.xlarge"]
    at.multiselect(key="cost_options").set_value(options).run()
    assert not at.exception and not at.error, errors(at)
    at.selectbox(key="cost_variant").set_value("fp32").run()
    sentence = next(m.value for m in at.markdown if "per 1M requests" in m.value)
    # At 1M requests/day one small Graviton instance costs less a month than running an L4.
    assert "never pays back against c7g.xlarge" in sentence
    assert "pays back in" in sentence  # ...but it does against the GPU instances
    (table,) = cost_tables(at)
    owned = table[table["Hardware"] == "L4 (owned)"]
    assert owned["Break-even"].str.startswith("never vs c7g.xlarge").all()


def test_load_tested_run_shows_the_basis_and_goodput_at_the_slo(home, monkeypatch):
    from tests.serving.test_charts import load_test

    url = f"sqlite:///{home}/s.db"
    store = Store(url)
    run_id = store.create_run({"model": {"source": "minilm-l6"}, "dataset": {"source": "sst2"}})
    store.update_run(run_id, status="done", environment=ENV, hardware="8488C (2 threads)")
    for i, (variant, goodput) in enumerate((("fp32", 80.0), ("int8", 210.0))):
        r = result(variant, variant, 0.86, 40.0, 80.0)
        store.add_result(run_id, i, {**r, "load_test": load_test(goodput)})
    monkeypatch.setenv("LEANBENCH_STORE", url)
    at = page()
    assert not at.error, errors(at)
    captions = "\n".join(c.value for c in at.caption)
    assert "costed on goodput at p99 ≤ 100 ms" in captions
    assert "costed on peak throughput (offline)" in captions or "not applicable" in captions
    assert len(at.get("plotly_chart")) == 5  # the four, and goodput with $ per 1M at the SLO


# ------------------------------------------------------------------ issue 13, point 5
def _column_share(node, key: str, share: float = 1.0) -> float | None:
    """The share of the page's width that the widget ``key`` gets (columns multiply)."""
    from streamlit.testing.v1.element_tree import Column

    for child in getattr(node, "children", {}).values():
        here = share * child.weight if isinstance(child, Column) else share
        if getattr(child, "key", None) == key:
            return here
        found = _column_share(child, key, here)
        if found is not None:
            return found
    return None


def _cost_table_proto(at: AppTest):
    return next(d.proto for d in at.dataframe if "$ per 1M" in getattr(d.value, "columns", []))


def test_accuracy_on_cost_reads_as_a_percentage(filled_store):
    import json

    at = page()
    (table,) = cost_tables(at)
    assert table["Accuracy (%)"].between(50, 100).all()  # 85.5, not 0.855
    fmt = json.loads(_cost_table_proto(at).columns)["Accuracy (%)"]["type_config"]["format"]
    assert fmt % 85.5 == "85.5%"


def test_missing_values_on_cost_read_as_a_dash_not_none(filled_store):
    at = page()
    (table,) = cost_tables(at)
    # Cloud rows have no purchase price: a missing number, drawn as the placeholder.
    assert table.loc[table["Hardware"] != "L4 (owned)", "Purchase $"].isna().all()
    assert at.dataframe, "no table drawn"
    for d in at.dataframe:  # the cost table, the break-even grid, the catalogue
        assert d.proto.placeholder == MISSING


def test_cost_pickers_have_room_for_their_labels(filled_store):
    at = page()
    # The run label and the hardware chips are long: each picker gets the whole width...
    assert _column_share(at.main, "cost_run") == 1.0
    assert _column_share(at.main, "cost_options") == 1.0
    # ...and the three short ones at least a quarter each (a variant like distill:3+int8@ort).
    for key in ("cost_variant", "cost_owned", "cost_pricing"):
        share = _column_share(at.main, key)
        assert share is not None and share >= 0.25, (key, share)


def test_cost_chart_titles_fit_half_the_page(filled_store):
    import json
    import re

    at = page()
    at.multiselect(key="cost_options").set_value(["g4dn.xlarge", "c7i.2xlarge", "L4 (owned)"])
    at.segmented_control(key="cost_pricing").set_value("commit_1y").run()
    assert not at.exception and not at.error, errors(at)
    titles = {}
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec)["layout"].get("title") or {}
        lines = str(title.get("text") or "").split("<br>")
        head = [line for line in lines if line.startswith("<b>")] or lines[:1]  # not the subtitle
        titles[chart.proto.id] = " ".join(re.sub(r"<[^>]+>", "", line) for line in head)
    half = [t for key, t in titles.items() if re.search("cost_(bars|cumulative|pareto)", key)]
    assert len(half) == 3, titles
    for text in half:
        assert 0 < len(text) <= 40, text
