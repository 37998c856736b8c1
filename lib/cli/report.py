"""``python -m lib report``: a shareable HTML report of stored runs, and CSV / JSON exports.

    python -m lib report --run ID [--run ID2 ...] --out report.html [--csv out.csv] [--json out.json]

Wired into ``lib/cli.py`` through ``add_report_parser``; also runs on its own as
``python -m lib.cli.report ...``. Bad input: one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib.errors import UserError


def _options(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def add_report_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``report`` sub-command; its handler is ``cmd_report``."""
    p = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report (and CSV / JSON) of stored runs",
        description="Compare stored runs and write a report that opens offline in a browser.",
    )
    p.add_argument(
        "--run", action="append", required=True, metavar="ID", help="a run id (repeat for more)"
    )
    p.add_argument("--out", help="write the HTML report here, e.g. report.html")
    p.add_argument("--csv", help="also write the comparison as CSV here")
    p.add_argument("--json", help="also write runs, comparison and recommendation as JSON here")
    p.add_argument("--store", help="SQLAlchemy URL of the store (default: SQLite in ~/.leanbench)")
    p.add_argument("--title", help="the report's title")
    p.add_argument("--max-p95-ms", type=float, help="target: maximum p95 latency (ms)")
    p.add_argument("--min-accuracy", type=float, help="target: minimum accuracy in %% (e.g. 85)")
    p.add_argument("--max-usd-per-million", type=float, help="target: maximum $ per 1M requests")
    p.add_argument("--batch-size", type=int, default=1, help="batch size for latency (default 1)")
    p.add_argument(
        "--options",
        type=_options,
        help="hardware to price on, comma-separated (default: c7i.2xlarge,g4dn.xlarge,"
        "g6.xlarge,L4 (owned)); 'none' for no cost",
    )
    p.add_argument("--utilisation", type=float, help="average utilisation, 0 < U <= 1")
    p.add_argument("--requests-per-day", type=float, help="requests per day")
    p.set_defaults(func=cmd_report)
    return p


def _targets(args: argparse.Namespace):
    from lib.compare.model import Targets

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
    from lib.cost.model import CostAssumptions

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


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report and exports. Bad input: one line on stderr, return 2."""
    from lib.compare import model as compare
    from lib.report import html as report
    from lib.store import Store

    try:
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
            if args.csv:
                _write(args.csv, report.export_csv(df))
                written.append(args.csv)
            if args.json:
                rec = compare.recommend(df, targets)
                _write(args.json, report.export_json(docs, df, rec, targets, a.to_dict()))
                written.append(args.json)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {', '.join(written)}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    from lib.cli.main import _Parser

    parser = _Parser(prog="python -m lib")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_report_parser(sub)
    args = parser.parse_args(["report", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
