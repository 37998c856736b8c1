"""lib.schema: every results file and store written so far reads back through one typed schema."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

import pytest

from lib import schema
from lib.errors import UserError
from lib.paths import REPO_DATA
from lib.results import frame as rf
from lib.schema import (
    BASELINE,
    Latency,
    PairedSpeedup,
    RunDocument,
    Status,
    VariantResult,
    load_results,
    load_runs,
)
from lib.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_DOC = FIXTURES / "run-969b95f.json"
FIXTURE_STORE = FIXTURES / "store-969b95f.db"
FIXTURE_RUN = "56b609f5f031"
DOCUMENTS = sorted((REPO_DATA / "demo").glob("*.json")) + [FIXTURE_DOC]


@pytest.fixture
def old_store(tmp_path) -> Store:
    """A copy of the store main wrote at 969b95f (the fixture itself is never opened)."""
    copy = tmp_path / "store.db"
    shutil.copyfile(FIXTURE_STORE, copy)
    return Store(f"sqlite:///{copy}")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_recorded_document_round_trips(path):
    raw = json.loads(path.read_text())
    doc = RunDocument.from_dict(raw)
    assert doc.to_dict() == raw
    assert list(doc.to_dict()) == list(raw)  # key order kept too
    assert [list(r.to_dict()) for r in doc.results] == [list(r) for r in raw["results"]]
    assert RunDocument.load_json(path).to_dict() == raw
    # nothing in them is unknown to the schema
    assert not doc.extra and not any(r.extra for r in doc.results)
    assert all(not lat.extra for r in doc.results for lat in r.latency_ms.values())


def test_typed_fields_read_from_the_fixture():
    doc = RunDocument.load_json(FIXTURE_DOC)
    assert doc.run_id == FIXTURE_RUN and doc.status == Status.DONE
    assert [r.variant for r in doc.results] == [
        "fp32",
        "int8",
        "half",
        "prune-structured:30",
        "int8@ort",
        "int8:torchao",
    ]
    fp32, int8 = doc.result(BASELINE), doc.result("int8")
    assert fp32.ok and isinstance(fp32.latency("1"), Latency) and fp32.latency(1).p50 > 0
    assert isinstance(fp32.latency(1).n, int) and isinstance(fp32.params, int)
    assert isinstance(int8.speedup_paired["1"], PairedSpeedup)
    assert int8.speedup_paired["1"].speedup > 0 and len(int8.speedup_paired["1"].ci) == 2
    assert fp32.speedup_paired == {} and fp32.has("speedup_paired")
    failed = doc.result("int8:torchao")
    assert not failed.ok and failed.status == Status.FAILED and failed.error
    assert not failed.has("accuracy") and failed.accuracy is None and failed.latency_ms == {}
    assert set(failed.to_dict()) == {"variant", "status", "error", "wall_seconds"}


def test_the_old_store_opens_and_every_run_reads(old_store):
    runs = old_store.list_runs()
    assert {r["id"] for r in runs} == {FIXTURE_RUN, "demo-6618d06fd62e", "demo-742b59ced281"}
    for run in runs:
        doc = old_store.run_document(run["id"])
        typed = RunDocument.from_dict(doc)
        assert typed.to_dict() == doc
        assert old_store.load_run(run["id"]) == typed
        frame = rf.to_frame(doc["results"])
        assert len(frame) == len(doc["results"]) and (frame["variant"] == BASELINE).any()
        assert rf.to_frame(typed.results).equals(frame)  # typed results give the same frame
        assert not rf.to_long(doc["results"]).empty
        assert all("predictions" not in r for r in doc["results"])
    with_preds = old_store.run_document(FIXTURE_RUN, with_predictions=True)
    assert all(r.get("predictions") for r in with_preds["results"] if r["status"] == "ok")


def test_the_old_store_gives_the_recorded_document(old_store):
    recorded = json.loads(FIXTURE_DOC.read_text())
    doc = old_store.run_document(FIXTURE_RUN)
    for key, value in recorded.items():
        if key == "created_at":  # the same moment, however the date is written
            assert _moment(doc[key]) == _moment(value)
        else:
            assert doc[key] == value, key


def _moment(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_missing_keys_stay_missing_and_unknown_keys_are_kept():
    raw = {
        "variant": "int8",
        "legacy_field": {"a": 1},
        "latency_ms": {"1": {"p50": "3.5", "p90": None, "new_stat": 2}, "8": 40},
        "accuracy": "0.91",
        "unstable": "maybe",
        "sweep_batch_size": None,
    }
    r = VariantResult.from_dict(raw)
    assert r.status == Status.OK and not r.has("status")  # the default, not written back
    assert r.accuracy == pytest.approx(0.91) and r.unstable is None
    assert r.latency(1).p50 == 3.5 and r.latency(1).extra == {"new_stat": 2}
    assert r.latency(8).p50 == 40  # an old bare number is the median
    out = r.to_dict()
    assert list(out) == list(raw)
    assert out["legacy_field"] == {"a": 1} and out["sweep_batch_size"] is None
    assert out["latency_ms"] == {"1": {"p50": 3.5, "p90": None, "new_stat": 2}, "8": 40}
    assert "status" not in out and "steps" not in out and "notes" not in out


def test_built_results_write_what_was_given_and_assigned():
    r = VariantResult(variant="fp32", status=Status.OK, sweep_batch_size=None)
    r.latency_ms["1"] = Latency(p50=2.0)  # filled in place: written too
    r.agreement = 1.0
    r.update({"p_value_vs_baseline": 1, "brand_new": True})
    assert r.to_dict() == {
        "variant": "fp32",
        "status": "ok",
        "sweep_batch_size": None,
        "agreement": 1.0,
        "p_value_vs_baseline": 1.0,
        "latency_ms": {"1": {"p50": 2.0}},
        "brand_new": True,
    }
    assert r.get("brand_new") is True and r.get("accuracy", "none") == "none"
    r.agreement = schema.UNSET
    assert "agreement" not in r.to_dict()


def test_numpy_values_become_plain_numbers():
    np = pytest.importorskip("numpy")
    r = VariantResult.from_dict(
        {"accuracy": np.float64(0.5), "n_eval": np.int64(4), "unstable": np.bool_(True)}
    )
    assert type(r.accuracy) is float and type(r.n_eval) is int and r.unstable is True
    assert json.dumps(r.to_dict())


def test_nan_and_inf_are_missing():
    r = VariantResult.from_dict({"accuracy": math.nan, "speedup_vs_baseline": math.inf})
    assert r.accuracy is None and r.speedup_vs_baseline is None


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ([1, 2], "must be a JSON object.*not a list"),
        ("fp32", "must be a JSON object.*not a string"),
        ({"run_id": "x"}, "needs a 'results' list.*it has none"),
        ({"results": {"fp32": {}}}, "needs a 'results' list.*got an object"),
        ({"results": None}, "needs a 'results' list.*got null"),
    ],
)
def test_bad_documents_are_user_errors(bad, fragment):
    with pytest.raises(UserError, match=fragment):
        RunDocument.from_dict(bad)
    with pytest.raises(UserError, match=f"x.json: .*{fragment}"):
        RunDocument.from_dict(bad, source="x.json")


def test_a_result_that_is_not_an_object_is_a_user_error():
    with pytest.raises(UserError, match="A variant result must be a JSON object, not a list"):
        VariantResult.from_dict(["fp32"])
    # inside a document, entries that are not objects are skipped (as every reader did)
    assert [
        r.variant for r in RunDocument.from_dict({"results": [None, {"variant": "a"}]}).results
    ] == ["a"]


def test_load_results_and_runs_take_what_callers_have(tmp_path):
    raw = json.loads(FIXTURE_DOC.read_text())
    n = len(raw["results"])
    assert len(load_results(FIXTURE_DOC)) == n
    assert len(load_results(str(FIXTURE_DOC))) == n
    assert len(load_results(raw)) == n
    assert len(load_results([raw, raw])) == 2 * n
    assert len(load_results(raw["results"])) == n
    assert len(load_results(RunDocument.from_dict(raw).results)) == n
    assert load_results([]) == []
    two = tmp_path / "two.json"
    two.write_text(json.dumps([raw, raw]))
    assert [d.run_id for d in load_runs(two)] == [FIXTURE_RUN, FIXTURE_RUN]
    with pytest.raises(UserError, match="holds 2 run documents"):
        RunDocument.load_json(two)
    with pytest.raises(UserError, match="not both"):
        load_results([raw, raw["results"][0]])
    with pytest.raises(UserError, match="Results file not found"):
        load_results(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(UserError, match="broken.json: not valid JSON"):
        load_runs(broken)
    with pytest.raises(UserError, match="some.json: not a run document"):
        (tmp_path / "some.json").write_text('{"a": 1}')
        load_runs(tmp_path / "some.json")


def test_save_json_writes_what_load_json_reads(tmp_path):
    doc = RunDocument.load_json(FIXTURE_DOC)
    path = doc.save_json(tmp_path / "out.json")
    assert json.loads(path.read_text()) == json.loads(FIXTURE_DOC.read_text())
    assert RunDocument.load_json(path) == doc


def test_schema_imports_no_torch_or_pandas():
    import subprocess
    import sys

    code = "import sys, lib.schema; print('torch' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_baseline_is_defined_once():
    from lib.results import advice

    assert rf.BASELINE is schema.BASELINE and advice.BASELINE_CHAIN is schema.BASELINE


def test_a_load_test_round_trips_and_old_results_have_none():
    load_test = {
        "slo_ms": 100.0,
        "goodput_qps": 812.5,
        "server_points": [{"target_qps": 800.0, "p99_ms": 61.2, "valid": True}],
        "breakdown_ms": {"queue": 1.0, "tokenize": 0.4, "model": 3.1},
        "note": None,
    }
    raw = {"variant": "int8", "status": "ok", "load_test": load_test, "accuracy": 0.9}
    r = VariantResult.from_dict(raw)
    assert r.load_test == load_test and r.has("load_test")
    assert r.to_dict() == raw and list(r.to_dict()) == list(raw)
    old = VariantResult.from_dict({"variant": "fp32", "accuracy": 0.9})
    assert old.load_test is None and "load_test" not in old.to_dict()
    assert VariantResult.from_dict({"load_test": "garbage"}).load_test is None
    built = VariantResult(variant="fp32")
    built.load_test = load_test
    assert built.to_dict() == {"variant": "fp32", "load_test": load_test}
