"""Comparing variants across stored runs, datasets and hardware, and deciding which to ship.

Pure functions, no UI. The unit of comparison is a *candidate*: one variant of one run, priced on
one hardware option ("int8 on c7i.2xlarge"). Without hardware options a candidate is the variant
where it was measured ("int8 on AMD EPYC 9B14 (2 threads)").

- ``frame``: runs -> one frame of candidates (labels, p95 at a batch size, $ per 1M);
  ``compare_frame`` does it all in one call.
- ``analysis``: the finished candidates, the Pareto frontier, deltas against each run's baseline.
- ``targets``: a service-level target and which candidates meet it (latency under load where a
  variant was load-tested: ``add_load_latency``).
- ``recommendation``: the one plain sentence and the numbers it rests on.
- ``charts``: accuracy vs latency / cost with the frontier, grouped bars of one metric.

Callers use the package: ``from lib import compare as cmp; cmp.compare_frame(...)``.
"""

from __future__ import annotations

from lib.compare.analysis import deltas, measured_points, ok_candidates, pareto_frontier
from lib.compare.charts import (
    BAR_METRICS,
    accuracy_cost_chart,
    accuracy_latency_chart,
    bar_metrics,
    frontier_chart,
    grouped_bars,
)
from lib.compare.frame import (
    COST_COLUMNS,
    DEFAULT_OPTIONS,
    RUN_COLUMNS,
    add_costs,
    add_latency,
    assumptions_for,
    catalog_for,
    compare_frame,
    gather,
    p95_estimate,
    run_facts,
)
from lib.compare.recommendation import INT8_AS_FP16, Recommendation, numbers_table, recommend
from lib.compare.targets import Targets, add_load_latency, apply_targets, latency_note
from lib.results.frame import BASELINE

__all__ = [
    "BAR_METRICS",
    "BASELINE",
    "COST_COLUMNS",
    "DEFAULT_OPTIONS",
    "INT8_AS_FP16",
    "RUN_COLUMNS",
    "Recommendation",
    "Targets",
    "accuracy_cost_chart",
    "accuracy_latency_chart",
    "add_costs",
    "add_load_latency",
    "add_latency",
    "apply_targets",
    "assumptions_for",
    "bar_metrics",
    "catalog_for",
    "compare_frame",
    "deltas",
    "frontier_chart",
    "gather",
    "grouped_bars",
    "latency_note",
    "measured_points",
    "numbers_table",
    "ok_candidates",
    "p95_estimate",
    "pareto_frontier",
    "recommend",
    "run_facts",
]
