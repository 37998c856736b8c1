"""``python -m lib run``: benchmark a model's variants and print (or write) the results JSON.

    python -m lib run --model minilm-l6 --dataset rotten-tomatoes --variants fp32,half,int8 \
        --eval-limit 500 --batch-sizes 1,32 --seq-len 128 --out results.json

``--load-test`` also load-tests each variant (``--slo-ms``, ``--tokenizer``, ...: see
``lib.cli.args.add_load_test_arguments``); its results land under each result's ``load_test``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lib.cli.args import (
    add_load_test_arguments,
    add_spec_arguments,
    add_store_argument,
    spec_from_args,
)
from lib.cli.base import Command


def _waiting() -> None:
    print("another run is using this device; waiting in the queue...", file=sys.stderr)


class RunCommand(Command):
    name = "run"
    help = "benchmark a model's variants"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_spec_arguments(parser)
        add_load_test_arguments(parser)
        add_store_argument(parser)
        parser.add_argument("--out", help="write the results JSON here")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def run(self, args: argparse.Namespace) -> int:
        from tqdm import tqdm

        from lib.execution import jobs, runner
        from lib.store import Store

        spec = spec_from_args(args)
        runner.preflight(spec)
        store = Store(args.store)
        bar = (
            None
            if args.quiet
            else tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {elapsed} {postfix}")
        )

        def progress(stage: str, message: str, fraction: float | None) -> None:
            if bar is None:
                return
            if fraction is not None:
                bar.n = round(fraction * 100)
            bar.set_postfix_str(message[:70])
            bar.refresh()

        run_id = store.create_run(spec.to_dict(), status="queued", name=spec.name)
        try:
            with jobs.device_lock(jobs.lock_device_name(spec.measure.device), on_wait=_waiting):
                runner.execute(spec, store, run_id=run_id, progress=progress)
        finally:
            if bar is not None:
                bar.close()
        doc = store.run_document(run_id)
        text = json.dumps(doc, indent=2, default=str)
        if args.out:
            Path(args.out).write_text(text)
            print(f"run {run_id}: results written to {args.out}", file=sys.stderr)
        else:
            print(text)
        for r in doc["results"]:
            if r["status"] != "ok":
                print(f"variant {r['variant']} failed: {r['error']}", file=sys.stderr)
        return 0
