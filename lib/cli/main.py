"""The command line: everything a page can do, headless.

    python -m lib run --model minilm-l6 --dataset rotten-tomatoes --variants fp32,half,int8 \
        --eval-limit 500 --batch-sizes 1,32 --seq-len 128 --out results.json

Bad input: one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lib.errors import UserError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a comma-separated list of whole numbers"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m lib", description="Leanbench: what smaller or faster models cost and buy."
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="benchmark a model's variants")
    r.add_argument(
        "--spec", help="a run spec JSON file (flags below override nothing; use one or the other)"
    )
    r.add_argument(
        "--model", default="minilm-l6", help="minilm-l6, a local folder or a Hugging Face id"
    )
    r.add_argument(
        "--dataset",
        default="rotten-tomatoes",
        help="rotten-tomatoes, bbc-news, tweets or a CSV/JSONL file",
    )
    r.add_argument("--text-column", help="text column of a CSV/JSONL dataset")
    r.add_argument("--label-column", help="label column of a CSV/JSONL dataset")
    r.add_argument(
        "--variants", default="fp32,half,int8", help="comma-separated variants, e.g. fp32,half,int8"
    )
    r.add_argument("--train-limit", type=int, default=4000)
    r.add_argument("--eval-limit", type=int, default=1000)
    r.add_argument("--epochs", type=float, default=1.0, help="adaptation epochs")
    r.add_argument("--batch-sizes", type=_int_list, default=[1, 32])
    r.add_argument("--seq-len", type=int, default=128)
    r.add_argument(
        "--sweep-seq-lens",
        type=_int_list,
        default=[],
        help="also time these sequence lengths at the smallest batch size, e.g. 32,64,256",
    )
    r.add_argument("--min-repeats", type=int, default=5)
    r.add_argument("--min-seconds", type=float, default=2.0)
    r.add_argument("--warmup", type=int, default=2)
    r.add_argument(
        "--paired-rounds",
        type=int,
        default=5,
        help="rounds of interleaved variant/fp32 timing behind each speed-up (0: none)",
    )
    r.add_argument("--threads", type=int)
    r.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    r.add_argument(
        "--energy", action="store_true", help="also measure energy (codecarbon, offline)"
    )
    r.add_argument("--country", default="USA", help="ISO-3 country for carbon intensity (energy)")
    r.add_argument("--name", default="")
    r.add_argument("--store", help="SQLAlchemy URL of the store (default: SQLite in ~/.leanbench)")
    r.add_argument("--out", help="write the results JSON here")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    w = sub.add_parser("worker", help=argparse.SUPPRESS)
    w.add_argument("run_id")
    w.add_argument("--store")

    s = sub.add_parser("show", help="print a stored run as JSON")
    s.add_argument("run_id")
    s.add_argument("--store")

    ls = sub.add_parser("runs", help="list stored runs")
    ls.add_argument("--store")

    for hook in _extension_parsers():
        hook(sub)
    return p


def _extension_parsers():
    """Subcommands that live beside the core (cost, report): each module adds its own."""
    hooks = []
    try:
        from lib.cli.cost import add_cost_parser

        hooks.append(add_cost_parser)
    except ImportError:
        pass
    try:
        from lib.cli.report import add_report_parser

        hooks.append(add_report_parser)
    except ImportError:
        pass
    return hooks


def spec_from_args(args: argparse.Namespace):
    from lib.spec import AdaptSpec, DatasetSpec, MeasureSpec, ModelSpec, RunSpec

    if args.spec:
        path = Path(args.spec)
        if not path.exists():
            raise UserError(f"Spec file not found: {path}")
        return RunSpec.from_json(path.read_text())
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
    )


def cmd_run(args: argparse.Namespace) -> int:
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

    def waiting():
        return print("another run is using this device; waiting in the queue...", file=sys.stderr)

    try:
        with jobs.device_lock(jobs.lock_device_name(spec.measure.device), on_wait=waiting):
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


def cmd_show(args: argparse.Namespace) -> int:
    from lib.store import Store

    print(json.dumps(Store(args.store).run_document(args.run_id), indent=2, default=str))
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from lib.store import Store

    for r in Store(args.store).list_runs():
        print(
            f"{r['id']}  {r['created_at']:%Y-%m-%d %H:%M}  {r['status']:<11} {r['hardware'] or '':<40} {r['message']}"
        )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from lib.execution import jobs
    from lib.store import Store

    return jobs.run_worker(args.run_id, Store(args.store))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"run": cmd_run, "worker": cmd_worker, "show": cmd_show, "runs": cmd_runs}
    handler = handlers.get(args.command) or args.func
    try:
        return handler(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; results measured so far are in the store", file=sys.stderr)
        return 130
