"""``python -m lib sweep``: a matrix of runs on a Ray cluster, every result in the shared store.

    python -m lib sweep --spec sweep.json --ray-address auto --store postgresql://... --out out.json
    python -m lib sweep --models minilm-l6,/models/mpnet --datasets rotten-tomatoes,tweets \
        --variants fp32,half,int8 --targets c7i,c6g --ray-address ray://head:10001 --store ...

One run per (model, dataset, target machine kind); each on a node started with
``ray start --labels leanbench.hardware=<kind>``, holding it whole. ``--spec`` takes a sweep spec
(``lib.sweep.spec.SweepSpec`` JSON) or a run spec (swept over ``--targets``). Without
``--ray-address`` Ray is started on this machine and the runs go one at a time. The outcome
(every run with its id, target, node and status) goes to ``--out`` or stdout; progress to
stderr. Exit code 0 when every run is done, 1 when some failed, 2 for bad input.
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
    load_test_from_args,
    spec_from_args,
    str_list,
)
from lib.cli.base import Command
from lib.errors import UserError


class SweepCommand(Command):
    name = "sweep"
    help = "run a matrix of models x datasets x machine kinds on a Ray cluster"
    description = (
        "One run per (model, dataset, machine kind), each on a Ray node labelled "
        "leanbench.hardware=<kind>, all results in the store. --spec takes a sweep spec or a "
        "run spec; or give the matrix as flags."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("the matrix")
        g.add_argument("--models", type=str_list, help="comma-separated models (else --model)")
        g.add_argument(
            "--datasets", type=str_list, help="comma-separated datasets (else --dataset)"
        )
        g.add_argument(
            "--targets",
            type=str_list,
            help="comma-separated machine kinds: node labels leanbench.hardware=<kind> (or a "
            "GPU's accelerator type); none: this machine",
        )
        c = parser.add_argument_group("the cluster")
        c.add_argument(
            "--ray-address",
            help="auto, HOST:6379 or ray://HOST:10001; none: start Ray on this machine",
        )
        c.add_argument(
            "--retries",
            type=int,
            help="attempts on another node of the same kind when a node dies (default 2)",
        )
        c.add_argument(
            "--force", action="store_true", help="measure again runs the store already has"
        )
        add_spec_arguments(parser)
        add_load_test_arguments(parser)
        add_store_argument(parser)
        parser.add_argument("--out", help="write the sweep's outcome JSON here")
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def run(self, args: argparse.Namespace) -> int:
        from lib.store import Store
        from lib.sweep.dispatch import run_sweep

        sweep = sweep_from_args(args)
        store = Store(args.store)

        def say(message: str) -> None:
            if not args.quiet:
                print(message, file=sys.stderr, flush=True)

        outcome = run_sweep(sweep, store, args.ray_address, force=args.force, on_event=say)
        text = json.dumps(outcome, indent=2, default=str)
        if args.out:
            Path(args.out).write_text(text)
            say(f"sweep {outcome['sweep_id']}: outcome written to {args.out}")
        else:
            print(text)
        return 0 if outcome["status"] == "done" else 1


def sweep_from_args(args: argparse.Namespace):
    """The ``SweepSpec`` the flags describe (``--spec`` file or the matrix flags)."""
    from lib.spec import DatasetSpec, RunSpec
    from lib.sweep.spec import SweepSpec

    if args.retries is not None and args.retries < 0:
        raise UserError(f"--retries cannot be negative (got {args.retries}).")
    if args.spec:
        path = Path(args.spec)
        if not path.exists():
            raise UserError(f"Spec file not found: {path}")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} is not valid JSON: {exc}") from None
        if isinstance(data, dict) and {"models", "datasets", "targets"} & set(data):
            sweep = SweepSpec.from_dict(data)
        else:
            sweep = SweepSpec.from_run(RunSpec.from_dict(data), [])
        if args.targets:
            sweep.targets = args.targets
        if args.retries is not None:
            sweep.retries = args.retries
        load_test = load_test_from_args(args)
        if load_test is not None:
            sweep.load_test = load_test
        return SweepSpec.from_dict(sweep.to_dict())  # checked again, with the overrides
    template = spec_from_args(args)
    datasets = [
        DatasetSpec(
            source,
            text_column=args.text_column,
            label_column=args.label_column,
            train_limit=args.train_limit,
            eval_limit=args.eval_limit,
        )
        for source in (args.datasets or [args.dataset])
    ]
    return SweepSpec(
        models=args.models or [args.model],
        datasets=datasets,
        variants=list(template.variants),
        targets=args.targets or [],
        adapt=template.adapt,
        measure=template.measure,
        load_test=template.load_test,
        name=args.name,
        retries=2 if args.retries is None else args.retries,
    )
