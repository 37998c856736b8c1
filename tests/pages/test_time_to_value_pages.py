"""Issue 18 on the pages: the learning curve on Model & data and Results (where one is saved for
the run's model and dataset), and the one-off cost and payback on Cost."""

from __future__ import annotations

from lib.results import curve as rc
from lib.results import long_docs as rl
from lib.training.curve import Point
from tests.helpers.results import sample
from tests.helpers.runs import cost_result
from tests.pages.test_pages import app, errors, stored_run

ENV = {"device": "cpu", "cpu_model": "Intel(R) Xeon(R) Platinum 8488C", "threads": 2}


def _saved_curve(model: str = "minilm-l6", dataset: str = "rotten-tomatoes") -> dict:
    points = [
        Point(n, 0, c, 200, 30.0, 10, 1.0, 0.4, True, [], ENV) for n, c in ((50, 120), (500, 170))
    ]
    doc = rc.curve_document(points, 0.8, ENV)
    doc.update(model=model, dataset=dataset, eval={"n_eval": 200})
    rc.save_curve(doc)
    return doc


def _saved_long_docs(model: str = "minilm-l6", dataset: str = "rotten-tomatoes") -> None:
    strategy = {
        "strategy": "truncate:128",
        "kind": "truncate",
        "max_tokens": 128,
        "accuracy": 0.9,
        "accuracy_ci": [0.85, 0.94],
        "n_eval": 200,
        "latency_ms_p50": 9.0,
        "latency_ms_p90": 11.0,
        "latency_ms_mean": 10.0,
        "docs_per_s": 100.0,
        "windows_per_doc": 1.0,
        "tokens_per_doc": 128.0,
        "share_longer": 0.0,
        "changes_nothing": True,
        "predictions": [],
        "agreement_with_first": 1.0,
        "by_length": [
            {
                "from": 1,
                "to": 128,
                "documents": 200,
                "median_tokens": 30.0,
                "accuracy": 0.9,
                "latency_ms_mean": 10.0,
                "docs_per_s": 100.0,
            }
        ],
    }
    result = {
        "model": model,
        "dataset": dataset,
        "model_max_length": 512,
        "environment": ENV,
        "token_lengths": {
            "n": 200,
            "p50": 30.0,
            "p90": 50.0,
            "max": 71,
            "share_longer_than": {"128": 0.0, "512": 0.0},
        },
        "strategies": [strategy],
        "changes_nothing": True,
        "measured_as": "one document per call",
    }
    rl.save_long_docs(rl.price(result))


def test_model_data_shows_the_saved_curve_for_the_chosen_model_and_data():
    doc = _saved_curve()
    at = app("pages/model_data.py")
    assert not at.error, errors(at)
    assert any("How many labels are enough" in s.value for s in at.subheader)
    assert any(doc["sentence"] == s.value for s in at.success)
    assert at.button(key="md_curve_go") is not None


def test_results_shows_the_curve_and_long_documents_saved_for_the_runs_model():
    _saved_curve()
    _saved_long_docs()
    _, run_id = stored_run(results=[r for r in sample() if r.get("status", "ok") == "ok"])
    at = app("pages/results.py", results_run_id=run_id)
    assert not at.error, errors(at)
    assert any(s.value == "Time to value" for s in at.subheader)
    assert any("changes nothing" in c.value for c in at.caption)  # short texts, said so
    assert any("truncate:128" in m.value for m in at.markdown)


def test_cost_says_what_distill_cost_once_and_when_it_pays_back(monkeypatch, tmp_path):
    from lib.store import Store

    store = Store()
    run_id = store.create_run({"model": {"source": "minilm-l6"}, "dataset": {"source": "sst2"}})
    store.update_run(
        run_id,
        status="done",
        environment=ENV,
        hardware="8488C (2 threads)",
        extra={"adapted": True, "adapt_seconds": 200.0},
    )
    store.add_result(run_id, 0, cost_result("fp32", "fp32", 0.86, 40.0, 80.0))
    distilled = cost_result("distill:3", "fp32", 0.85, 80.0, 160.0)
    distilled["notes"] = {"distill_seconds": 180.0, "cached": True}
    store.add_result(run_id, 1, distilled)
    at = app("pages/cost.py", cost_variant="distill:3")
    assert not at.error, errors(at)
    said = [m.value for m in at.markdown if "to train once" in m.value]
    assert said and said[0].startswith("distill:3 cost $0.0")
    assert any("One-off cost and payback" in e.label for e in at.expander)
