"""``python -m lib report``: a shareable HTML report of stored runs, and CSV / JSON exports.

    python -m lib report --run ID [--run ID2 ...] --out report.html [--csv out.csv] [--json out.json]

Also runs on its own as ``python -m lib.cli.report ...`` (the same flags, without ``report``).
Bad input: one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lib.cli import base
from lib.cli.args import add_store_argument, str_list
from lib.errors import UserError


def _targets(args: argparse.Namespace):
    from lib.compare import Targets

    acc = args.min_accuracy
    if acc is not None:
        if not 0 <= acc <= 100:
            raise UserError(f"--min-accuracy is a percentage between 0 and 100 (got {acc:g}).")
        acc = acc / 100
    return Targets(
        max_p95_ms=args.max_p95_ms,
        min_accuracy=acc,
        max_usd_per_million=args.max_usd_per_million,
        batch_size=args.batch_size,
    )


def _assumptions(args: argparse.Namespace):
    from lib.cost.formulas import CostAssumptions

    changes = {}
    if getattr(args, "utilisation", None) is not None:
        changes["utilisation"] = args.utilisation
    if getattr(args, "requests_per_day", None) is not None:
        changes["requests_per_day"] = args.requests_per_day
    return CostAssumptions(**changes) if changes else None


def _write(path: str, text: str) -> None:
    target = Path(path).expanduser()
    if not target.parent.exists():
        raise UserError(f"Folder not found for {path}: create it first.")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"Cannot write {path}: {exc.strerror or exc}.") from None


class ReportCommand(base.Command):
    name = "report"
    help = "write a self-contained HTML report (and CSV / JSON) of stored runs"
    description = "Compare stored runs and write a report that opens offline in a browser."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        p = parser
        p.add_argument(
            "--run", action="append", required=True, metavar="ID", help="a run id (repeat for more)"
        )
        p.add_argument("--out", help="write the HTML report here, e.g. report.html")
        p.add_argument("--csv", help="also write the comparison as CSV here")
        p.add_argument("--json", help="also write runs, comparison and recommendation as JSON here")
        add_store_argument(p)
        p.add_argument("--title", help="the report's title")
        p.add_argument("--max-p95-ms", type=float, help="target: maximum p95 latency (ms)")
        p.add_argument(
            "--min-accuracy", type=float, help="target: minimum accuracy in %% (e.g. 85)"
        )
        p.add_argument(
            "--max-usd-per-million", type=float, help="target: maximum $ per 1M requests"
        )
        p.add_argument(
            "--batch-size", type=int, default=1, help="batch size for latency (default 1)"
        )
        p.add_argument(
            "--options",
            type=str_list,
            help="hardware to price on, comma-separated (default: c7i.2xlarge,g4dn.xlarge,"
            "g6.xlarge,L4 (owned)); 'none' for no cost",
        )
        p.add_argument("--utilisation", type=float, help="average utilisation, 0 < U <= 1")
        p.add_argument("--requests-per-day", type=float, help="requests per day")

    def run(self, args: argparse.Namespace) -> int:
        from lib import compare
        from lib.report import html as report
        from lib.store import Store

        if not (args.out or args.csv or args.json):
            raise UserError("Say where to write: --out report.html, --csv or --json.")
        targets = _targets(args)
        options = args.options
        if options is not None and [o.lower() for o in options] == ["none"]:
            options = []
        store = Store(args.store)
        docs = [store.run_document(run_id) for run_id in dict.fromkeys(args.run)]
        a = compare.assumptions_for(targets, _assumptions(args))
        opts = list(compare.DEFAULT_OPTIONS) if options is None else options
        written = []
        if args.out:
            _write(
                args.out,
                report.build_report(docs, a, targets, opts, title=getattr(args, "title", None)),
            )
            written.append(args.out)
        if args.csv or args.json:
            df = compare.compare_frame(docs, targets.batch_size, opts, None, a)
            df = compare.add_load_latency(df, docs, targets.max_p95_ms)  # as the HTML report
            if args.csv:
                _write(args.csv, report.export_csv(df))
                written.append(args.csv)
            if args.json:
                rec = compare.recommend(df, targets)
                _write(args.json, report.export_json(docs, df, rec, targets, a.to_dict()))
                written.append(args.json)
        print(f"wrote {', '.join(written)}", file=sys.stderr)
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lib.cli.report ARGS`` is ``python -m lib report ARGS``."""
    return base.main([ReportCommand()], ["report", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
