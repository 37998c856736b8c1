"""The Sweep page and Compare's machine pivot, driven headless with AppTest (no cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.store import Store
from tests.sweep.helpers import sweep_doc

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path, monkeypatch) -> Store:
    url = f"sqlite:///{tmp_path}/s.db"
    monkeypatch.setenv("LEANBENCH_STORE", url)
    monkeypatch.setenv("LEANBENCH_DEMO_DIR", str(tmp_path / "no-demo"))
    return Store(url)


def put(store: Store, doc: dict) -> str:
    run_id = store.create_run(doc["spec"], status="running", name=doc["name"])
    store.update_run(run_id, status="done", environment=doc["environment"], hardware="x")
    for i, r in enumerate(doc["results"]):
        store.add_result(run_id, i, r)
    return run_id


def test_sweep_page_shows_progress_per_node(store):
    run_a = put(store, sweep_doc("a", "c7i", {"fp32": 10.0, "int8": 5.0}))
    store.open_sweep("sw1", {"models": ["minilm-l6"]}, name="team sweep", driver="h:1")
    planned = [
        {"position": 0, "key": "k1", "model": "minilm-l6", "dataset": "tweets", "target": "c7i"},
        {"position": 1, "key": "k2", "model": "minilm-l6", "dataset": "tweets", "target": "l4"},
    ]
    store.add_sweep_runs("sw1", planned)
    history = [{"attempt": 1, "run_id": run_a, "node_id": "abcdef123456", "status": "done"}]
    store.update_sweep_run("sw1", "k1", status="done", run_id=run_a, node_id="abcdef123456",
                           attempts=1, history=history)  # fmt: skip
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/sweep.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    text = " ".join(m.value for m in at.markdown)
    assert "2 runs: 1 done, 0 failed, 0 running, 1 pending" in text
    nodes = at.dataframe[0].value
    assert list(nodes["Machine kind"]) == ["c7i", "l4"] and list(nodes["Done"]) == [1, 0]
    assert nodes["Node"][1] == "(waiting)"
    assert any(b.label.startswith("Start the sweep (1 runs)") for b in at.button)


def test_compare_pivots_by_machine_and_warns_when_the_winner_changes(store):
    put(store, sweep_doc("a", "c7i", {"fp32": 10.0, "half": 8.0, "int8": 5.0}))
    put(store, sweep_doc("b", "l4", {"fp32": 4.0, "half": 1.0, "int8": 3.0}))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="cmp_runs").set_value([r["id"] for r in store.list_runs()]).run()
    assert not at.exception, at.exception
    assert "Across machines" in [s.value for s in at.subheader]
    assert any("the winner changes with the machine" in w.value for w in at.warning)
