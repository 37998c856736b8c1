"""A sweep's progress per node: done, failed, lost (the node died mid-run), what runs now."""

from __future__ import annotations

from lib.sweep.progress import counts_line, node_progress, runs_frame


def row(position, target, status, history, run_id=None, node_id=None):
    return {"position": position, "key": f"k{position}", "model": "minilm-l6",
            "dataset": "/data/reviews.csv", "target": target, "status": status,
            "run_id": run_id, "node_id": node_id, "attempts": len(history),
            "message": "", "history": history}  # fmt: skip


def test_per_node_counts_and_the_run_in_progress():
    rows = [
        row(0, "c7i", "done", [
            {"run_id": "r0", "node_id": "aaaaaaaa1", "status": "lost", "reason": "NodeDiedError"},
            {"run_id": "r1", "node_id": "bbbbbbbb1", "status": "done"},
        ], "r1", "bbbbbbbb1"),
        row(1, "c7i", "running", [{"run_id": "r2", "node_id": "bbbbbbbb1", "status": "running"}],
            "r2", "bbbbbbbb1"),
        row(2, "l4", "failed", [{"run_id": "r3", "node_id": "cccccccc1", "status": "failed"}],
            "r3", "cccccccc1"),
        row(3, "l4", "pending", []),
    ]  # fmt: skip
    runs = {"r2": {"progress": 0.5, "message": "int8: latency", "environment": {}}}
    nodes = node_progress(rows, runs).set_index("Node")
    assert nodes.loc["aaaaaaaa", "Lost"] == 1
    assert nodes.loc["bbbbbbbb", "Done"] == 1 and nodes.loc["bbbbbbbb", "Progress"] == 0.5
    assert nodes.loc["bbbbbbbb", "Now"] == "minilm-l6 on reviews.csv"
    assert nodes.loc["cccccccc", "Failed"] == 1
    assert nodes.loc["(waiting)", "Now"] == "1 run waiting for a free node"
    table = runs_frame(rows, runs)
    assert list(table["Status"]) == ["done", "running", "failed", "pending"]
    assert table["Message"][1] == "int8: latency"
    assert counts_line({"done": 1, "running": 1, "failed": 1, "pending": 1}) == (
        "4 runs: 1 done, 1 failed, 1 running, 1 pending"
    )
