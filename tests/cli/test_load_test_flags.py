"""The load test on the command line: ``run --load-test`` and its flags, and ``load-test`` for a
stored run (issue 12). Bad input: one line and exit code 2. The whole flow on a tiny model is in
``tests/execution/test_load_test.py``."""

from __future__ import annotations

import json

import pytest

from lib.cli.args import spec_from_args
from lib.cli.main import build_parser, main
from lib.spec import LoadTestSpec, RunSpec
from lib.store import Store


def spec_of(*flags: str) -> RunSpec:
    return spec_from_args(build_parser().parse_args(["run", *flags]))


def test_no_load_test_unless_asked():
    assert spec_of().load_test is None


def test_load_test_flags_make_the_spec():
    spec = spec_of(
        "--load-test",
        "--slo-ms", "50",
        "--tokenizer", "slow",
        "--max-batch", "16",
        "--max-delay-ms", "2.5",
        "--point-seconds", "3",
        "--max-points", "5",
        "--min-queries", "40",
        "--percentile", "90",
    )  # fmt: skip
    assert spec.load_test == LoadTestSpec(
        slo_ms=50,
        tokenizer="slow",
        max_batch=16,
        max_delay_ms=2.5,
        point_seconds=3,
        max_points=5,
        min_queries=40,
        percentile=90,
    )
    assert spec_of("--load-test").load_test == LoadTestSpec()  # slo 100 ms, the defaults
    assert spec_of("--load-test", "--mlperf-minimum").load_test.mlperf_minimum is True
    # The spec round-trips with it, as the store keeps it.
    assert RunSpec.from_json(spec.to_json()) == spec


def test_load_test_applies_to_a_spec_file(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(RunSpec(variants=["fp32"]).to_json())
    assert spec_of("--spec", str(path)).load_test is None
    spec = spec_of("--spec", str(path), "--load-test", "--slo-ms", "30")
    assert spec.variants == ["fp32"] and spec.load_test == LoadTestSpec(slo_ms=30)


def one_line_exit_2(capsys, argv: list[str], fragment: str) -> None:
    with pytest.raises(SystemExit) as exc:  # argparse's own errors exit from the parser
        raise SystemExit(main(argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err, err


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--load-test", "--slo-ms", "0"], "slo_ms must be above 0"),
        (["--load-test", "--max-points", "0"], "max_points must be at least 1"),
        (["--load-test", "--max-batch", "0"], "max_batch must be at least 1"),
        (["--load-test", "--max-delay-ms", "-1"], "max_delay_ms cannot be negative"),
        (["--load-test", "--point-seconds", "-2"], "point_seconds must be above 0"),
        (["--load-test", "--percentile", "98"], "not one LoadGen reports"),
        (["--load-test", "--tokenizer", "rust"], "argument --tokenizer"),
        (["--load-test", "--slo-ms", "fast"], "argument --slo-ms"),
        (["--slo-ms", "50", "--max-batch", "8"], "--slo-ms, --max-batch: load-test settings"),
    ],
)
def test_bad_load_test_flags_exit_2_with_one_line(capsys, flags, fragment):
    one_line_exit_2(capsys, ["run", "--quiet", *flags], fragment)


def test_load_test_of_an_unknown_run_exits_2_with_one_line(capsys):
    one_line_exit_2(capsys, ["load-test", "--run", "nope"], "No run with id 'nope' in the store.")


def test_load_test_of_a_stored_run_checks_its_input(capsys, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    run_id = store.create_run(RunSpec(variants=["fp32", "int8"]).to_dict(), status="done")
    store.add_result(run_id, 0, {"variant": "fp32", "status": "ok"})
    store.add_result(run_id, 1, {"variant": "int8", "status": "failed", "error": "boom"})
    base = ["load-test", "--run", run_id, "--store", store.url, "--quiet"]
    one_line_exit_2(capsys, [*base, "--variants", "int8"], "no measured variant 'int8'")
    one_line_exit_2(capsys, [*base, "--slo-ms", "-3"], "slo_ms must be above 0")
    running = store.create_run(RunSpec().to_dict(), status="running")
    one_line_exit_2(
        capsys, ["load-test", "--run", running, "--store", store.url], "is still running"
    )
    assert store.results_for(run_id)[1] == {"variant": "int8", "status": "failed", "error": "boom"}


def test_help_documents_the_flags(capsys):
    for command in ("run", "load-test"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        for flag in ("--slo-ms", "--tokenizer", "--max-batch", "--max-delay-ms", "--point-seconds"):
            assert flag in out, (command, flag)
        assert "--max-points" in out and "--mlperf-minimum" in out
    with pytest.raises(SystemExit):
        main(["load-test", "--help"])
    out = capsys.readouterr().out
    assert "--run RUN_ID" in out and "--variants" in out and "--load-test" not in out


def test_the_spec_s_load_test_is_json(tmp_path):
    spec = spec_of("--load-test", "--slo-ms", "75")
    assert json.loads(spec.to_json())["load_test"]["slo_ms"] == 75.0
