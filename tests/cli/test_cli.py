"""The CLI: bad input gives exit code 2 and one line; the real built-in model runs end to end."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "lib", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def bad_file(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(
    "make_args, fragment",
    [
        (lambda t: ["--eval-limit", "0"], "eval limit"),
        (lambda t: ["--batch-sizes", "1,-4"], "Batch sizes"),
        (lambda t: ["--batch-sizes", "1,x"], "comma-separated"),
        (lambda t: ["--variants", "fp32,warp"], "Unknown step 'warp'"),
        (lambda t: ["--variants", "prune-structured:120"], "Step 'prune-structured:120'"),
        (lambda t: ["--variants", "distill:0"], "Step 'distill:0'"),
        (lambda t: ["--variants", "distill:99"], "has 6 layers"),
        (lambda t: ["--variants", "int8@warp"], "Unknown runtime '@warp'"),
        (lambda t: ["--model", str(t / "missing")], "not found"),
        (lambda t: ["--model", str(t)], "no config.json"),
        (lambda t: ["--model", "someone/some-model"], "local folder"),
        (
            lambda t: [
                "--dataset",
                bad_file(t, "a.csv", b"t,y\nx,1\n"),
                "--text-column",
                "text",
                "--label-column",
                "y",
            ],
            "no column 'text'",
        ),
        (
            lambda t: [
                "--dataset",
                bad_file(t, "b.csv", b""),
                "--text-column",
                "t",
                "--label-column",
                "y",
            ],
            "empty",
        ),
        (
            lambda t: [
                "--dataset",
                bad_file(t, "c.csv", b"t,y\n\xff,1\n"),
                "--text-column",
                "t",
                "--label-column",
                "y",
            ],
            "not UTF-8",
        ),
        (
            lambda t: [
                "--dataset",
                bad_file(t, "d.csv", b"t,y\na,1\nb,1\n"),
                "--text-column",
                "t",
                "--label-column",
                "y",
            ],
            "one class",
        ),
        (lambda t: ["--dataset", "d.csv"], "needs a text column"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, make_args, fragment):
    out = cli("run", "--quiet", *make_args(tmp_path), timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_show_unknown_run_exits_2():
    out = cli("show", "nope")
    assert out.returncode == 2 and "No run with id 'nope'" in out.stderr


@pytest.mark.slow
def test_builtin_model_end_to_end_writes_the_documented_json(tmp_path):
    out_file = tmp_path / "results.json"
    out = cli(
        "run",
        "--model", "minilm-l6",
        "--dataset", "rotten-tomatoes",
        "--variants", "fp32,int8",
        "--train-limit", "160",
        "--eval-limit", "60",
        "--batch-sizes", "1,4",
        "--seq-len", "32",
        "--min-repeats", "3",
        "--min-seconds", "0",
        "--out", str(out_file),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out_file.read_text())
    assert isinstance(doc["environment"], dict) and doc["environment"]["cpu_model"]
    assert [r["variant"] for r in doc["results"]] == ["fp32", "int8"]
    for r in doc["results"]:
        assert r["status"] == "ok", r.get("error")
        for key in ("accuracy", "macro_f1", "agreement", "size_mb", "params"):
            assert isinstance(r[key], (int, float)), key
        assert set(r["latency_ms"]) == {"1", "4"}
        assert set(r["latency_ms"]["4"]) >= {"p50", "p90", "p99"}
        assert set(r["throughput_per_s"]) == {"1", "4"}
        assert "predictions" not in r
    fp32, int8 = doc["results"]
    assert fp32["params"] > 22_000_000  # the real MiniLM, not a toy
    assert int8["size_mb"] < fp32["size_mb"] * 0.7
    # The run is in the store too.
    shown = cli("show", doc["run_id"])
    assert shown.returncode == 0 and json.loads(shown.stdout)["run_id"] == doc["run_id"]
