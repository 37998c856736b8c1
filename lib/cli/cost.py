"""``python -m lib cost``: the cost table on the command line (wired into lib/cli.py)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date

import pandas as pd

from lib.cost.catalog import load_catalog, load_user_catalog, staleness_warning
from lib.cost.model import CostAssumptions, cost_table, table_records
from lib.format import format_months

TABLE_COLUMNS = [
    ("variant", "variant"),
    ("option", "hardware"),
    ("throughput_source", "source"),
    ("throughput_per_s", "inf/s"),
    ("hourly_usd", "$/h"),
    ("usd_per_million", "$/1M"),
    ("usd_per_million_commit_3y", "$/1M 3y"),
    ("usd_per_million_spot", "$/1M spot"),
    ("instances_needed", "n"),
    ("monthly_usd", "$/month"),
    ("breakeven_months", "break-even"),
    ("carbon_kg_per_million", "kgCO2/1M"),
]


def add_cost_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``cost`` sub-command; its handler is ``cmd_cost``."""
    p = subparsers.add_parser(
        "cost",
        help="cost per 1M inferences on cloud and owned hardware, from a results file",
        description="Turn measured throughput into $ per 1M inferences, monthly cost and break-even.",
    )
    d = CostAssumptions()
    p.add_argument("--results", required=True, help="results.json written by 'python -m lib run'")
    p.add_argument(
        "--catalog", help="your own catalogue CSV (cloud, hardware or peaks) or a folder of them"
    )
    p.add_argument("--requests-per-day", type=float, default=d.requests_per_day)
    p.add_argument("--utilisation", type=float, default=d.utilisation, help="0 < U <= 1")
    p.add_argument("--peak-to-average", type=float, default=d.peak_to_average)
    p.add_argument("--latency-target-ms", type=float, default=d.latency_target_ms)
    p.add_argument("--country", default=d.country, help="ISO-3 code for carbon intensity")
    p.add_argument(
        "--json", action="store_true", help="print a JSON list of rows with their inputs"
    )
    p.set_defaults(func=cmd_cost)
    return p


def _cell(value: object, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if column == "breakeven_months":
        return format_months(value)
    if isinstance(value, float):
        if column == "instances_needed":
            return f"{value:.0f}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def format_table(table: pd.DataFrame) -> str:
    """A plain-text table; the source column says measured or projected."""
    header = [label for _, label in TABLE_COLUMNS]
    lines = []
    for _, r in table.iterrows():
        lines.append([_cell(r.get(c), c) for c, _ in TABLE_COLUMNS])
    widths = [max(len(h), *(len(row[i]) for row in lines)) for i, h in enumerate(header)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(c) for c in lines)])


def cmd_cost(args: argparse.Namespace) -> int:
    """Print the cost table. Bad input: one line on stderr, return 2."""
    from lib.errors import UserError

    try:
        assumptions = CostAssumptions(
            utilisation=args.utilisation,
            requests_per_day=args.requests_per_day,
            peak_to_average=getattr(args, "peak_to_average", 3.0),
            latency_target_ms=getattr(args, "latency_target_ms", 100.0),
            country=getattr(args, "country", "USA"),
        )
        catalog = load_catalog()
        if args.catalog:
            catalog = load_user_catalog(args.catalog, catalog)
        table = cost_table(args.results, catalog, assumptions)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(table_records(table), indent=1, default=str))
        return 0
    print(format_table(table))
    print(
        "\nprojected = no run on that hardware (--json shows the assumptions); break-even is vs the cheapest cloud option, on-demand."
    )
    print(
        f"Utilisation {assumptions.utilisation:g}, {assumptions.requests_per_day:,.0f} requests/day, "
        f"peak x{assumptions.peak_to_average:g}, latency target {assumptions.latency_target_ms} ms."
    )
    warning = staleness_warning(catalog, date.today())
    if warning:
        print(f"Note: {warning}")
    return 0
