"""The CLI refuses a dataset too small to evaluate on, with the Model & data page's message
(issue 13): exit code 2, one line, the interval it would give and what to do."""

from __future__ import annotations

from tests.cli.test_cli import cli


def test_two_usable_rows_exit_2_with_the_interval(tmp_path):
    path = tmp_path / "stars.csv"
    path.write_text("words,stars\ngreat film,5\nawful film,1\n")
    out = cli(
        "run", "--quiet", "--dataset", str(path), "--text-column", "words",
        "--label-column", "stars", timeout=180,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "at least 50 evaluation examples" in lines[0] and "No example would be left" in lines[0]
    assert "250 labelled rows" in lines[0]


def test_a_low_eval_limit_exits_2(tmp_path):
    out = cli("run", "--quiet", "--eval-limit", "20", timeout=180)
    assert out.returncode == 2, out.stderr
    assert "Raise the evaluation examples to at least 50" in out.stderr
