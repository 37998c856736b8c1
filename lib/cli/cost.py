"""``python -m lib cost``: the cost table on the command line, from a results file.

python -m lib cost --results results.json [--catalog my-prices.csv] [--requests-per-day 5e6]
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import date
from typing import TYPE_CHECKING, Any

from lib.cli.base import Command

if TYPE_CHECKING:
    import pandas as pd

TABLE_COLUMNS = [
    ("variant", "variant"),
    ("option", "hardware"),
    ("basis", "basis"),
    ("throughput_source", "source"),
    ("throughput_per_s", "inf/s"),
    ("goodput_qps", "goodput"),
    ("hourly_usd", "$/h"),
    ("usd_per_million", "$/1M"),
    ("usd_per_million_peak", "$/1M peak"),
    ("cost_ratio_vs_peak", "x peak"),
    ("usd_per_million_commit_3y", "$/1M 3y"),
    ("usd_per_million_spot", "$/1M spot"),
    ("instances_needed", "n"),
    ("monthly_usd", "$/month"),
    ("breakeven_months", "break-even"),
    ("carbon_kg_per_million", "kgCO2/1M"),
]

# Flag -> CostAssumptions field. Defaults are None here and CostAssumptions' own when the flag
# is not given, so building the parser needs no lib.cost import.
ASSUMPTION_FLAGS = {
    "requests_per_day": "requests_per_day",
    "utilisation": "utilisation",
    "peak_to_average": "peak_to_average",
    "latency_target_ms": "latency_target_ms",
    "country": "country",
}


def _cell(value: Any, column: str, applicable: Any = True) -> str:  # a number, a string or None
    from lib.format import format_months

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if column == "usd_per_million" and applicable is False:
        return "n/a"
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
        lines.append([_cell(r.get(c), c, r.get("applicable", True)) for c, _ in TABLE_COLUMNS])
    widths = [max(len(h), *(len(row[i]) for row in lines)) for i, h in enumerate(header)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(c) for c in lines)])


class CostCommand(Command):
    name = "cost"
    help = "cost per 1M inferences on cloud and owned hardware, from a results file"
    description = "Turn measured throughput into $ per 1M inferences, monthly cost and break-even."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        p = parser
        p.add_argument(
            "--results", required=True, help="results.json written by 'python -m lib run'"
        )
        p.add_argument(
            "--catalog",
            help="your own catalogue CSV (cloud, hardware or peaks) or a folder of them",
        )
        p.add_argument("--requests-per-day", type=float)
        p.add_argument("--utilisation", type=float, help="0 < U <= 1")
        p.add_argument("--peak-to-average", type=float)
        p.add_argument("--latency-target-ms", type=float)
        p.add_argument("--country", help="ISO-3 code for carbon intensity")
        p.add_argument(
            "--json", action="store_true", help="print a JSON list of rows with their inputs"
        )
        p.add_argument(
            "--one-off-on",
            metavar="INSTANCE",
            help="price the one-off build time (one_off_usd, payback_months) at this cloud "
            "instance's hourly rate instead of the machine that built each variant",
        )

    def run(self, args: argparse.Namespace) -> int:
        from lib.cost.catalog import load_catalog, load_user_catalog, staleness_warning
        from lib.cost.formulas import CostAssumptions
        from lib.cost.table import cost_table, table_records

        given: dict[str, Any] = {
            field: getattr(args, flag, None)
            for flag, field in ASSUMPTION_FLAGS.items()
            if getattr(args, flag, None) is not None
        }
        assumptions = CostAssumptions(**given)
        catalog = load_catalog()
        if args.catalog:
            catalog = load_user_catalog(args.catalog, catalog)
        table = cost_table(args.results, catalog, assumptions)
        if args.json:
            from lib.cost.payback import add_payback_columns, machine_rate
            from lib.schema import load_runs

            docs = [d.to_dict() for d in load_runs(args.results)]
            rate = machine_rate({}, catalog, args.one_off_on) if args.one_off_on else None
            table = add_payback_columns(table, docs, rate, catalog)
            print(json.dumps(table_records(table), indent=1, default=str))
            return 0
        print(format_table(table))
        print(
            "\nprojected = no run on that hardware (--json shows the assumptions); "
            "break-even is vs the cheapest cloud option, on-demand."
        )
        if (table["basis"] == "goodput").any():
            print(
                "basis goodput = $/1M from the load test's goodput (highest QPS meeting the "
                "SLO), no utilisation; '$/1M peak' = peak throughput (offline) x utilisation, "
                "'x peak' = their ratio."
            )
        for _, r in table[~table["applicable"].astype(bool)].iterrows():
            print(f"n/a: {r['variant']} on {r['option']}: {r['reason']}")
        print(
            f"Utilisation {assumptions.utilisation:g}, {assumptions.requests_per_day:,.0f} "
            f"requests/day, peak x{assumptions.peak_to_average:g}, "
            f"latency target {assumptions.latency_target_ms} ms."
        )
        warning = staleness_warning(catalog, date.today())
        if warning:
            print(f"Note: {warning}")
        return 0
