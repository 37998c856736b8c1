"""The sweep spec: JSON round-trip, one run per (model, dataset, machine kind), idempotent keys,
and bad input as one line (exit code 2 on the CLI)."""

from __future__ import annotations

import json

import pytest

from lib.cli.main import main
from lib.errors import UserError
from lib.spec import DatasetSpec, MeasureSpec, RunSpec
from lib.sweep.identity import source_identity
from lib.sweep.spec import LOCAL_TARGET, SweepSpec, expand, from_page, run_key, sweep_id


def matrix(**kw) -> SweepSpec:
    base = dict(
        models=["minilm-l6", "/models/mpnet"],
        datasets=["rotten-tomatoes", "tweets"],
        variants=["fp32", "half", "int8"],
        targets=["c7i", "l4"],
        measure=MeasureSpec(batch_sizes=[1, 32]),
    )
    return SweepSpec(**{**base, **kw})


def test_round_trip_and_expansion():
    sweep = matrix(name="team")
    again = SweepSpec.from_json(sweep.to_json())
    assert again == sweep
    runs = expand(sweep)
    assert len(runs) == 2 * 2 * 2
    assert [(r.model, r.dataset.source, r.target) for r in runs[:3]] == [
        ("minilm-l6", "rotten-tomatoes", "c7i"),
        ("minilm-l6", "rotten-tomatoes", "l4"),
        ("minilm-l6", "tweets", "c7i"),
    ]
    first = runs[0].spec
    assert isinstance(first, RunSpec) and first.variants == ["fp32", "half", "int8"]
    assert first.measure.batch_sizes == [1, 32]
    assert first.name == "team: minilm-l6 on rotten-tomatoes @ c7i"
    assert runs[-1].spec.name == "team: mpnet on tweets @ l4"


def test_datasets_as_names_or_objects_and_no_targets_means_this_machine():
    sweep = SweepSpec.from_dict(
        {
            "models": ["minilm-l6"],
            "datasets": [
                "tweets",
                {"source": "/d/x.csv", "text_column": "t", "label_column": "y", "eval_limit": 90},
            ],
            "variants": ["fp32"],
        }
    )
    assert sweep.datasets[1] == DatasetSpec("/d/x.csv", "t", "y", eval_limit=90)
    assert sweep.machine_kinds == [LOCAL_TARGET]
    assert {r.target for r in expand(sweep)} == {LOCAL_TARGET}


def test_keys_are_stable_and_change_with_what_is_measured():
    a, b = expand(matrix()), expand(matrix())
    assert run_key(a[0].spec, "c7i") == run_key(b[0].spec, "c7i")
    assert run_key(a[0].spec, "c7i") != run_key(a[0].spec, "l4")
    other = expand(matrix(measure=MeasureSpec(batch_sizes=[1])))[0].spec
    assert run_key(other, "c7i") != run_key(a[0].spec, "c7i")
    renamed = expand(matrix(name="another name"))[0].spec  # the name is not what is measured
    assert run_key(renamed, "c7i") == run_key(a[0].spec, "c7i")
    assert run_key(a[0].spec, "c7i", {"model": "dir:1"}) != run_key(
        a[0].spec, "c7i", {"model": "dir:2"}
    )
    keys = [run_key(r.spec, r.target) for r in a]
    assert sweep_id(keys) == sweep_id(list(reversed(keys))) != sweep_id(keys, "named")


def test_identity_is_content_not_path(tmp_path):
    one, two = tmp_path / "a.csv", tmp_path / "b.csv"
    one.write_text("t,y\nx,1\n")
    two.write_text("t,y\nx,1\n")
    assert source_identity(str(one)) == source_identity(str(two))
    two.write_text("t,y\nx,2\n")
    assert source_identity(str(one)) != source_identity(str(two))
    assert source_identity("minilm-l6") == "builtin:minilm-l6"
    assert source_identity("org/some-model") == "hub:org/some-model"


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"targets": ["c7i", "c7i"]}, "listed twice"),
        ({"targets": ["not a label!"]}, "not a node label value"),
        ({"models": []}, "at least one model"),
        ({"datasets": []}, "at least one dataset"),
        ({"variants": ["int9"]}, "int9"),
        ({"retries": -1}, "Retries"),
    ],
)
def test_bad_sweeps_say_what_is_wrong(kw, message):
    with pytest.raises(UserError, match=message):
        matrix(**kw)


def test_unknown_keys_are_refused():
    with pytest.raises(UserError, match="Unknown key"):
        SweepSpec.from_dict({"models": ["minilm-l6"], "machines": ["c7i"]})


def test_from_page_keeps_the_drafts_file_columns():
    draft = RunSpec(dataset=DatasetSpec("/d/own.csv", "text", "label", eval_limit=80))
    sweep = from_page(draft, "minilm-l6\n/models/b", ["/d/own.csv", "tweets"], "c7i, l4")
    assert sweep.models == ["minilm-l6", "/models/b"]
    assert sweep.datasets[0].text_column == "text"
    assert sweep.datasets[1] == DatasetSpec("tweets", eval_limit=80)
    assert sweep.targets == ["c7i", "l4"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--targets", "c7i,bad label"], "not a node label value"),
        (["--spec", "/no/such/file.json"], "Spec file not found"),
        (["--variants", "fp32,nope"], "nope"),
        (["--targets", "a,b"], "Without --ray-address"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(argv, message, capsys, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # as a fresh CLI process is
    assert main(["sweep", "--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err


def test_cli_spec_file_may_be_a_run_spec(tmp_path):
    from lib.cli.main import build_parser
    from lib.cli.sweep import sweep_from_args

    path = tmp_path / "run.json"
    path.write_text(json.dumps(RunSpec(variants=["fp32", "int8"]).to_dict()))
    args = build_parser().parse_args(["sweep", "--spec", str(path), "--targets", "c7i,c6g"])
    sweep = sweep_from_args(args)
    assert sweep.targets == ["c7i", "c6g"] and sweep.variants == ["fp32", "int8"]
    args = build_parser().parse_args(
        ["sweep", "--models", "minilm-l6,/m/b", "--datasets", "tweets,bbc-news", "--variants",
         "fp32,half", "--targets", "c7i", "--batch-sizes", "1,8", "--eval-limit", "300"]
    )  # fmt: skip
    sweep = sweep_from_args(args)
    assert sweep.models == ["minilm-l6", "/m/b"] and sweep.measure.batch_sizes == [1, 8]
    assert [d.eval_limit for d in sweep.datasets] == [300, 300]
