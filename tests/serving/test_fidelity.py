"""The simulation against the stored LoadGen measurements (docs/measurements): for every variant
of the default run, the goodput it projects from the fitted service curve is within the issue's
tolerance of the goodput LoadGen measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.serving.simulate import ServiceCurve, simulated_goodput
from lib.serving.variant import SIMULATION_TOLERANCE

MEASUREMENTS = Path(__file__).resolve().parents[2] / "docs" / "measurements"

# The 1000 rotten-tomatoes eval texts' lengths in MiniLM tokens (the documents predate storing
# them in ``simulation.lengths``): how many texts have 5, 6, ..., 67 tokens.
_FIRST_LENGTH = 5
_LENGTH_COUNTS = [
    3, 4, 12, 12, 15, 13, 21, 21, 16, 27, 25, 31, 30, 34, 29, 35, 38, 39, 35, 32, 26, 30, 30,
    42, 33, 20, 35, 26, 23, 24, 25, 15, 20, 23, 19, 18, 11, 10, 16, 13, 7, 13, 12, 5, 5, 5, 5,
    2, 6, 2, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1,
]  # fmt: skip
LENGTHS = [_FIRST_LENGTH + i for i, n in enumerate(_LENGTH_COUNTS) for _ in range(n)]


def _stored_load_tests():
    seen = set()
    for path in sorted(MEASUREMENTS.glob("*load-test*.json")):
        for result in json.loads(path.read_text())["results"]:
            lt = result.get("load_test")
            if not lt or not lt.get("goodput_qps"):
                continue
            # A rerun's document repeats results it did not measure again.
            key = (result["variant"], lt["spec"]["tokenizer"], lt["goodput_qps"])
            if key not in seen:
                seen.add(key)
                yield pytest.param(lt, id=f"{result['variant']}-{lt['spec']['tokenizer']}")


@pytest.mark.parametrize("lt", list(_stored_load_tests()))
def test_simulated_goodput_is_within_tolerance_of_the_measured(lt):
    spec = lt["spec"]
    lengths = lt["simulation"].get("lengths") or LENGTHS
    simulated = simulated_goodput(
        ServiceCurve.from_dict(lt["simulation"]["service_curve"]),
        lengths,
        slo_ms=lt["slo_ms"],
        percentile=lt["percentile"],
        max_batch=lt["batcher"]["max_batch"],
        max_delay_ms=lt["batcher"]["max_delay_ms"],
        duration_s=spec["point_seconds"],
        min_queries=spec["min_queries"],
        seed=spec["seed"],
    )
    error = simulated.goodput_qps / lt["goodput_qps"] - 1
    assert abs(error) <= SIMULATION_TOLERANCE, f"simulated {simulated.goodput_qps:.0f} QPS"
