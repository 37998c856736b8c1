"""Run specs as a user can write them: a JSON file (``--spec``), any JSON value, a spec close to
the default with a few values changed, and the CLI's flags. Each loads or gives a UserError."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from lib.cli.args import spec_from_args
from lib.cli.main import build_parser
from lib.spec import LoadTestSpec, RunSpec, default_spec_dict
from tests.fuzz.common import FUZZ, json_values, loads_or_user_error, mutate


def _base() -> dict:
    base = default_spec_dict()
    base["load_test"] = LoadTestSpec().to_dict()
    return base


def _round_trip(spec: RunSpec | None) -> None:
    """A spec that loads is written and read back as the same spec."""
    if spec is not None:
        again = RunSpec.from_json(spec.to_json())
        assert again.to_dict() == spec.to_dict() or json.dumps(spec.to_dict()).count("NaN")


@FUZZ
@given(json_values)
def test_any_json_value_is_a_spec_or_a_user_error(value):
    _round_trip(loads_or_user_error(RunSpec.from_dict, value))


@FUZZ
@given(st.data())
def test_a_spec_near_the_default_is_a_spec_or_a_user_error(data):
    _round_trip(loads_or_user_error(RunSpec.from_dict, mutate(_base(), data)))


@FUZZ
@given(st.text(max_size=120) | st.builds(lambda d: json.dumps(d)[:-1], st.just(_base())))
def test_any_text_as_a_spec_file(text):
    loads_or_user_error(RunSpec.from_json, text)


@FUZZ
@given(st.data())
def test_spec_json_with_changed_values(data):
    text = json.dumps(mutate(_base(), data))
    _round_trip(loads_or_user_error(RunSpec.from_json, text))


FLAGS = [
    "--model",
    "--dataset",
    "--text-column",
    "--label-column",
    "--variants",
    "--train-limit",
    "--eval-limit",
    "--epochs",
    "--batch-sizes",
    "--seq-len",
    "--sweep-seq-lens",
    "--min-repeats",
    "--min-seconds",
    "--warmup",
    "--paired-rounds",
    "--threads",
    "--device",
    "--country",
    "--name",
    "--slo-ms",
    "--percentile",
    "--tokenizer",
    "--max-batch",
    "--max-delay-ms",
    "--max-length",
    "--point-seconds",
    "--min-queries",
    "--max-points",
]
values = (
    st.text(max_size=12)
    | st.integers(min_value=-(10**6), max_value=10**6).map(str)
    | st.floats(allow_nan=True).map(str)
    | st.lists(st.integers(-5, 600), max_size=4).map(lambda xs: ",".join(map(str, xs)))
    | st.sampled_from(["fp32,half", "int8@ort", "prune-unstructured:50", "a.csv", "cpu", "fast"])
)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(FLAGS), values), max_size=6), st.booleans())
def test_cli_flags_are_a_spec_or_a_one_line_error(pairs, load_test):
    argv = ["run", *[x for flag, value in pairs for x in (flag, value)]]
    argv += ["--load-test"] if load_test else []
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's one-line error (lib.cli.base.Parser), exit 2
        assert exc.code == 2
        return
    loads_or_user_error(spec_from_args, args)
