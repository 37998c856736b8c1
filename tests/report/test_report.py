"""The shareable report: self-contained HTML with the charts' data, escaped user strings, no
network; the ``report`` command writes it (and CSV / JSON) and says no in one line on bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lib import compare as cmp
from lib.cli.main import main as cli_main
from lib.cli.report import main
from lib.report.html import build_report, export_csv, export_json
from lib.store import Store
from tests.helpers.runs import GPU_ENV, make_doc, result

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report_html() -> str:
    gpu = make_doc(
        "r2",
        env=GPU_ENV,
        results=[
            result("fp32", "fp32", 0.861, 5, 20, 90.0),
            result("int8", "int8", 0.857, 4.2, 18, 23.0, p=0.5),
        ],
    )
    return build_report(
        [make_doc(name=EVIL), gpu], targets=cmp.Targets(max_p95_ms=20, min_accuracy=0.85)
    )


def test_report_is_self_contained_and_offline(report_html):
    assert report_html.startswith("<!DOCTYPE html>")
    assert '<script src="http' not in report_html and "<script src='http" not in report_html
    assert "cdn.plot.ly" not in report_html.split("<main>")[1][:2000]
    # plotly.js is inlined exactly once, every chart after it reuses it
    assert report_html.count("Plotly.newPlot") >= 4
    assert len(report_html) > 1_000_000


def test_report_escapes_user_strings(report_html):
    assert EVIL not in report_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report_html


def test_report_has_every_section_and_the_charts_data(report_html):
    for heading in (
        "Recommendation",
        "The numbers it rests on",
        "Charts",
        "Against each run",
        "Setup",
        "Environment",
        "Assumptions",
        "Cost assumptions",
        "Prices used",
    ):
        assert heading in report_html, heading
    assert "Pareto frontier" in report_html
    assert "Accuracy vs p95 latency at batch 1" in report_html
    assert "Accuracy vs $ per 1M inferences" in report_html
    assert "NVIDIA H100 80GB HBM3" in report_html
    assert "interpolated between the measured p90 and p99" in report_html
    assert "skypilot-catalog" in report_html  # the price source is named
    # the charts carry the numbers (plotly stores the arrays packed; hover texts are plain):
    # int8's p95 at batch 1 on the CPU run, 13 ms p50 -> 15.7 ms p95
    assert "int8 on AMD EPYC 9B14 (2 threads)" in report_html
    assert "p95 15.7 ms" in report_html
    assert '"bdata"' in report_html or "15.74" in report_html
    assert "meets your target" in report_html


def test_report_needs_a_run():
    from lib.errors import UserError

    with pytest.raises(UserError):
        build_report([])


def test_exports_are_flat_and_valid():
    docs = [make_doc()]
    df = cmp.compare_frame(docs, 1, ["c7i.2xlarge"])
    csv = export_csv(df)
    frame = pd.read_csv(__import__("io").StringIO(csv))
    assert {"variant", "accuracy", "p95_ms", "usd_per_million", "p50_ms_b32"} <= set(frame.columns)
    rec = cmp.recommend(df, cmp.Targets())
    doc = json.loads(export_json(docs, df, rec))
    assert doc["recommendation"]["sentence"] == rec.sentence
    assert doc["runs"][0]["run_id"] == "r1"
    assert len(doc["comparison"]) == len(df)


def test_json_export_is_strict_json_with_an_infinite_figure():
    docs = [make_doc()]
    df = cmp.compare_frame(docs, 1, ["c7i.2xlarge"])
    rec = cmp.Recommendation("Ship it", numbers={"payback_months": float("inf"), "x": float("nan")})
    text = export_json(docs, df, rec)
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))
    assert doc["recommendation"]["numbers"] == {"payback_months": None, "x": None}


# ------------------------------------------------------------------ the command
@pytest.fixture
def stored(tmp_path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path}/s.db"
    store = Store(url)
    doc = make_doc(name=EVIL)
    run_id = store.create_run(doc["spec"], status="running", name=EVIL)
    store.update_run(run_id, status="done", environment=doc["environment"], hardware="EPYC")
    for i, r in enumerate(doc["results"]):
        store.add_result(run_id, i, r)
    return url, run_id


def run_cli(*argv: str) -> int:
    return cli_main(list(argv))


def test_cli_writes_report_csv_and_json(stored, tmp_path, capsys):
    url, run_id = stored
    out, csv, js = tmp_path / "r.html", tmp_path / "r.csv", tmp_path / "r.json"
    code = run_cli(
        "report",
        "--run",
        run_id,
        "--store",
        url,
        "--out",
        str(out),
        "--csv",
        str(csv),
        "--json",
        str(js),
        "--max-p95-ms",
        "20",
        "--min-accuracy",
        "85",
        "--options",
        "c7i.2xlarge,g4dn.xlarge",
    )
    assert code == 0, capsys.readouterr().err
    text = out.read_text()
    assert "Recommendation" in text and EVIL not in text
    assert "int8" in pd.read_csv(csv)["variant"].tolist()
    assert json.loads(js.read_text())["targets"]["min_accuracy"] == pytest.approx(0.85)


def test_cli_unknown_run_is_exit_2_with_one_line(stored, tmp_path, capsys):
    url, _ = stored
    code = run_cli("report", "--run", "nope", "--store", url, "--out", str(tmp_path / "x.html"))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: No run with id 'nope'") and err.count("\n") == 1
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "Say where to write"),
        (["--out", "/no/such/folder/r.html"], "Folder not found"),
        (["--out", "r.html", "--min-accuracy", "120"], "percentage"),
        (["--out", "r.html", "--options", "nope"], "Unknown hardware"),
    ],
)
def test_cli_bad_input_is_exit_2(stored, capsys, extra, message, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    url, run_id = stored
    assert run_cli("report", "--run", run_id, "--store", url, *extra) == 2
    assert message in capsys.readouterr().err


def test_standalone_main(stored, tmp_path):
    url, run_id = stored
    out = tmp_path / "r.html"
    assert main(["--run", run_id, "--store", url, "--out", str(out), "--options", "none"]) == 0
    assert "Accuracy vs p95 latency" in out.read_text()


def test_report_judges_a_load_tested_variant_under_load():
    from tests.compare.test_compare import _served_doc

    docs = [_served_doc()]
    page = build_report(
        docs, targets=cmp.Targets(max_p95_ms=100, min_accuracy=0.85), options=["c7i.2xlarge"]
    )
    assert (
        "int8@ort meets p99 ≤ 100 ms up to 350 requests/s under load (measured with LoadGen), "
        "at $0.14 per 1M on c7i.2xlarge"
    ) in page
    # the target, the numbers, the tables and the assumptions say which latency was used
    assert "p99 ≤ 100 ms under load where load-tested, else p95 ≤ 100 ms at batch 1" in page
    assert "Goodput (MLPerf LoadGen)" in page and "350 requests/s at p99 ≤ 100 ms" in page
    assert "p95 per batch (estimate, not judged)" in page
    assert "p99 under load (ms)" in page and "Goodput under load (req/s)" in page
    assert "Latency limit checked against request p99 under load" in page
    assert "for fp32, int8@ort; against the per-batch p95 estimate at batch 1 for the rest" in page
    assert "measured with MLPerf LoadGen (Server scenario" in page
    # the CSV carries the latency under load
    df = cmp.add_load_latency(cmp.compare_frame(docs, 1, ["c7i.2xlarge"]), docs, 100.0)
    frame = pd.read_csv(__import__("io").StringIO(export_csv(df)))
    assert {"load_tested", "load_p99_ms", "load_goodput_qps", "latency_basis"} <= set(frame.columns)
    assert {"applicable", "cost_reason", "priced_as"} <= set(frame.columns)


def test_report_without_load_tests_reads_as_before(report_html):
    assert "under load" not in report_html.split("<h2>Charts</h2>")[0]
    assert "p95 ≤ 20 ms at batch 1, accuracy ≥ 85.0%" in report_html
