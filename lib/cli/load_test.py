"""``python -m lib load-test``: load-test the variants of a stored run, after the fact.

    python -m lib load-test --run RUN_ID [--store URL] [--variants fp32,int8] \
        [--slo-ms 100] [--tokenizer fast|slow] [--max-batch 32] [--max-delay-ms 5] \
        [--point-seconds 10] [--max-points 8] [--mlperf-minimum]

Each measured variant of the run is rebuilt from its stored spec (trained steps from the build
cache, as ``run`` builds them), in its own process, and load-tested; its stored result gets
``load_test`` (added, or replaced) and keeps everything else. A variant whose load test fails
keeps its result as it was; the command then exits 1.
"""

from __future__ import annotations

import argparse
import sys

from lib.cli.args import (
    add_load_test_arguments,
    add_store_argument,
    load_test_from_args,
    str_list,
)
from lib.cli.base import Command


class LoadTestCommand(Command):
    name = "load-test"
    help = "load-test the variants of a stored run: goodput at a latency SLO (MLPerf LoadGen)"
    description = (
        "Serve each measured variant of a stored run under MLPerf LoadGen (SingleStream, Offline, "
        "Server at rising QPS) and store its goodput at the SLO in the run's results."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--run", required=True, metavar="RUN_ID", help="the stored run")
        add_store_argument(parser)
        parser.add_argument(
            "--variants",
            type=str_list,
            help="comma-separated variants of the run to load-test (default: all it measured)",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        add_load_test_arguments(parser, switch=False)

    def run(self, args: argparse.Namespace) -> int:
        from tqdm import tqdm

        from lib.errors import UserError
        from lib.execution import jobs, runner
        from lib.spec import RunSpec
        from lib.store import Store

        load_test = load_test_from_args(args)
        if load_test is None:  # never: this command has no --load-test switch
            raise UserError("No load test settings.")
        store = Store(args.store)
        run = store.get_run(args.run)
        if run is None:
            raise UserError(f"No run with id '{args.run}' in the store.")
        device = RunSpec.from_dict(run["spec"]).measure.device
        bars: list = []  # made at the first progress: a refused input prints one line only

        def progress(stage: str, message: str, fraction: float | None) -> None:
            if args.quiet:
                return
            if not bars:
                bars.append(
                    tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {elapsed} {postfix}")
                )
            bar = bars[0]
            if fraction is not None:
                bar.n = round(fraction * 100)
            bar.set_postfix_str(message[:70])
            bar.refresh()

        def waiting() -> None:
            print("another run is using this device; waiting in the queue...", file=sys.stderr)

        try:
            with jobs.device_lock(jobs.lock_device_name(device), on_wait=waiting):
                outcomes = runner.load_test_stored(
                    args.run, store, load_test, variants=args.variants, progress=progress
                )
        finally:
            for bar in bars:
                bar.close()
        results = {r.variant: r for r in store.variant_results(args.run)}
        for variant, error in outcomes.items():
            if error is not None:
                print(f"variant {variant}: load test failed: {error}", file=sys.stderr)
                continue
            print(summary_line(variant, results[variant].load_test or {}))
        return 1 if any(e is not None for e in outcomes.values()) else 0


def summary_line(variant: str, lt: dict) -> str:
    """One variant's load test in a line: goodput at the SLO, SingleStream p90, Offline QPS."""
    p = f"p{lt.get('percentile', 99):g}"
    single = lt.get("single_stream") or {}
    offline = lt.get("offline") or {}
    return (
        f"{variant}: goodput {lt.get('goodput_qps')} QPS at {p} <= {lt.get('slo_ms')} ms "
        f"(simulated {lt.get('simulated_goodput_qps')}) · SingleStream p90 "
        f"{single.get('p90_ms')} ms · Offline {offline.get('qps')} QPS"
    )
