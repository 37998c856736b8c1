"""Argument helpers shared by the commands: list types, ``--store``, the model and data flags,
the run-spec flags, progress on stderr and a JSON document written to ``--out`` or printed.

Imports no command (and nothing heavy), so any command can use it without a cycle.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lib.errors import UserError

if TYPE_CHECKING:
    from lib.spec import LoadTestSpec, RunSpec

STORE_HELP = "SQLAlchemy URL of the store (default: SQLite in ~/.leanbench)"


def int_list(text: str) -> list[int]:
    """``"1,32"`` -> ``[1, 32]``; an argparse type (bad input is a one-line argument error)."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a comma-separated list of whole numbers"
        ) from None


def str_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [x.strip() for x in text.split(",") if x.strip()]


def add_store_argument(parser: argparse.ArgumentParser, documented: bool = True) -> None:
    """``--store URL``; ``documented=False`` leaves it without help text."""
    parser.add_argument("--store", help=STORE_HELP if documented else None)


def add_model_and_data_arguments(
    parser: argparse.ArgumentParser, dataset: str = "rotten-tomatoes"
) -> None:
    """``--model``, ``--dataset`` (default ``dataset``), ``--text-column``, ``--label-column``."""
    p = parser
    p.add_argument(
        "--model", default="minilm-l6", help="minilm-l6, a local folder or a Hugging Face id"
    )
    p.add_argument(
        "--dataset", default=dataset, help="rotten-tomatoes, bbc-news, tweets or a CSV/JSONL file"
    )
    p.add_argument("--text-column", help="text column of a CSV/JSONL dataset")
    p.add_argument("--label-column", help="label column of a CSV/JSONL dataset")


def fraction_progress(quiet: bool) -> Callable[[float, str], None]:
    """A ``progress(fraction, message)`` that prints "[ 42%] message" to stderr, or nothing."""

    def progress(fraction: float, message: str) -> None:
        if not quiet:
            print(f"[{100 * fraction:3.0f}%] {message}", file=sys.stderr, flush=True)

    return progress


def write_document(doc: dict, out: str | None, what: str) -> None:
    """``doc`` as JSON to the file ``out`` (saying so on stderr), or to stdout."""
    text = json.dumps(doc, indent=1, default=str)
    if out:
        Path(out).write_text(text)
        print(f"{what} written to {out}", file=sys.stderr)
    else:
        print(text)


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags ``spec_from_args`` turns into a ``RunSpec`` (``--spec FILE`` or the rest)."""
    p = parser
    p.add_argument(
        "--spec", help="a run spec JSON file (flags below override nothing; use one or the other)"
    )
    add_model_and_data_arguments(p)
    p.add_argument(
        "--variants", default="fp32,half,int8", help="comma-separated variants, e.g. fp32,half,int8"
    )
    p.add_argument("--train-limit", type=int, default=4000)
    p.add_argument("--eval-limit", type=int, default=1000)
    p.add_argument("--epochs", type=float, default=1.0, help="adaptation epochs")
    p.add_argument("--batch-sizes", type=int_list, default=[1, 32])
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument(
        "--sweep-seq-lens",
        type=int_list,
        default=[],
        help="also time these sequence lengths at the smallest batch size, e.g. 32,64,256",
    )
    p.add_argument("--min-repeats", type=int, default=5)
    p.add_argument("--min-seconds", type=float, default=2.0)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument(
        "--paired-rounds",
        type=int,
        default=5,
        help="rounds of interleaved variant/fp32 timing behind each speed-up (0: none)",
    )
    p.add_argument("--threads", type=int)
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    p.add_argument(
        "--energy", action="store_true", help="also measure energy (codecarbon, offline)"
    )
    p.add_argument("--country", default="USA", help="ISO-3 country for carbon intensity (energy)")
    p.add_argument("--name", default="")


# The load test's flags, by argparse dest: each is the LoadTestSpec field of that name. Defaults are None here, LoadTestSpec's own when a
# flag is not given (the SLO's is 100 ms), so building the parser imports nothing.
LOAD_TEST_FLAGS = (
    "slo_ms",
    "percentile",
    "tokenizer",
    "max_batch",
    "max_delay_ms",
    "max_length",
    "point_seconds",
    "min_queries",
    "max_points",
    "mlperf_minimum",
)


def add_load_test_arguments(parser: argparse.ArgumentParser, switch: bool = True) -> None:
    """The load test's flags (``load_test_from_args``); ``switch`` adds ``--load-test`` that
    turns it on (``run``), without it the command always load-tests (``load-test``)."""
    g = parser.add_argument_group("load test (MLPerf LoadGen: goodput at a latency SLO)")
    if switch:
        g.add_argument(
            "--load-test",
            action="store_true",
            help="also load-test each variant: SingleStream, Offline and Server at rising QPS, "
            "goodput under --slo-ms",
        )
    g.add_argument("--slo-ms", type=float, help="the latency SLO in ms (default 100)")
    g.add_argument(
        "--percentile",
        type=float,
        help="the SLO's percentile: 50, 90, 95, 97, 99 (default) or 99.9",
    )
    g.add_argument(
        "--tokenizer",
        choices=("fast", "slow"),
        help="tokenize with the fast Rust tokenizer (default) or the slow Python one",
    )
    g.add_argument("--max-batch", type=int, help="the dynamic batcher's largest batch (default 32)")
    g.add_argument(
        "--max-delay-ms",
        type=float,
        help="how long the oldest request waits for a batch to fill (default 5)",
    )
    g.add_argument("--max-length", type=int, help="truncate queries at this many tokens")
    g.add_argument(
        "--point-seconds", type=float, help="length of each LoadGen run in s (default 10)"
    )
    g.add_argument("--min-queries", type=int, help="queries each LoadGen run issues at least (100)")
    g.add_argument(
        "--max-points", type=int, help="Server QPS points the goodput search may run (default 8)"
    )
    g.add_argument(
        "--mlperf-minimum",
        action="store_true",
        default=None,
        help="run every scenario for MLPerf's 600 s (about 100 min per variant)",
    )


def load_test_from_args(args: argparse.Namespace) -> LoadTestSpec | None:
    """The ``LoadTestSpec`` of the load-test flags; None when ``--load-test`` exists and is off
    (a load-test setting without it is a ``UserError``). ``UserError`` for a bad setting."""
    from lib.spec import LoadTestSpec

    given = {f: getattr(args, f) for f in LOAD_TEST_FLAGS if getattr(args, f, None) is not None}
    if hasattr(args, "load_test") and not args.load_test:
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise UserError(f"{flags}: load-test settings; add --load-test to run the load test.")
        return None
    return LoadTestSpec(**given)


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """The ``RunSpec`` the flags of ``add_spec_arguments`` describe; ``UserError`` if invalid.
    With ``add_load_test_arguments`` too, ``--load-test`` sets its ``load_test`` (over a
    ``--spec`` file's as well)."""
    from lib.spec import AdaptSpec, DatasetSpec, MeasureSpec, ModelSpec, RunSpec

    load_test = load_test_from_args(args) if hasattr(args, "load_test") else None
    if args.spec:
        path = Path(args.spec)
        if not path.exists():
            raise UserError(f"Spec file not found: {path}")
        spec = RunSpec.from_json(path.read_text())
        if load_test is not None:
            spec.load_test = load_test
        return spec
    return RunSpec(
        model=ModelSpec(args.model),
        dataset=DatasetSpec(
            args.dataset,
            text_column=args.text_column,
            label_column=args.label_column,
            train_limit=args.train_limit,
            eval_limit=args.eval_limit,
        ),
        variants=args.variants.split(","),
        adapt=AdaptSpec(epochs=args.epochs),
        measure=MeasureSpec(
            batch_sizes=args.batch_sizes,
            seq_len=args.seq_len,
            sweep_seq_lens=args.sweep_seq_lens,
            warmup=args.warmup,
            min_repeats=args.min_repeats,
            min_seconds=args.min_seconds,
            paired_rounds=args.paired_rounds,
            threads=args.threads,
            device=args.device,
            energy=args.energy,
            country=args.country,
        ),
        name=args.name,
        load_test=load_test,
    )
