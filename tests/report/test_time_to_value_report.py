"""The HTML report shows one-off costs and payback, and the learning curve saved for a run's
model and dataset (issue 18)."""

from __future__ import annotations

import json

from lib.paths import REPO_DATA
from lib.report.html import build_report
from lib.results import curve as rc
from lib.training.curve import Point


def test_report_has_payback_and_the_saved_curve():
    doc = json.loads((REPO_DATA / "demo" / "cpu-techniques-and-runtimes.json").read_text())
    doc["results"] = [r for r in doc["results"] if r["variant"] in ("fp32", "distill:3")]
    env = {"device": "cpu", "cpu_model": "AMD EPYC", "threads": 2}
    points = [
        Point(n, 0, c, 1000, 60.0, 20, 1.0, 0.4, True, [], env) for n, c in ((50, 600), (500, 790))
    ]
    curve = rc.curve_document(points, 0.8, env)
    curve.update(model="minilm-l6", dataset="rotten-tomatoes", eval={"n_eval": 1000})
    rc.save_curve(curve)
    page = build_report([doc], options=["c7i.2xlarge"])
    assert "One-off cost and payback" in page
    assert "to train once" in page  # in the recommendation
    assert "How many labels are enough (minilm-l6 on rotten-tomatoes)" in page
    assert "No subset reached the 80.0% target" in page
