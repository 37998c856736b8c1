"""What a load test asks for: the SLO, the batcher's policy and how long LoadGen runs.

Kept free of heavy imports, so that a run spec can embed it and parse it cheaply.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from lib.errors import UserError

TOKENIZERS = ("fast", "slow")
# LoadGen reports latency at these percentiles only, so an SLO can be checked against its own
# figures at no other.
PERCENTILES = (50.0, 90.0, 95.0, 97.0, 99.0, 99.9)
# MLPerf Inference's rule for a result that counts: every scenario runs at least 600 s.
MLPERF_MIN_SECONDS = 600.0


@dataclass
class LoadTestSpec:
    """A load test of one variant.

    The defaults fit a load test in about a minute per variant on two CPU cores: 5 s points,
    long enough for LoadGen's statistics at the query rates a small encoder reaches there
    (hundreds of queries per point), and at most 8 Server points, enough for the bisection to
    bracket goodput within 5% of peak throughput. ``mlperf_minimum`` runs every scenario for
    MLPerf's own 600 s instead (about 100 minutes per variant).
    """

    slo_ms: float = 100.0  # the latency bound at ``percentile``
    percentile: float = 99.0
    tokenizer: str = "fast"  # "fast": the Rust tokenizer; "slow": the Python one
    max_batch: int = 32
    max_delay_ms: float = 5.0  # how long the oldest request may wait for a batch to fill
    max_length: int | None = None  # truncation; None: the model's maximum
    point_seconds: float = 5.0  # the length of each LoadGen run (min_duration_ms)
    min_queries: int = 100  # each run also issues at least this many queries
    max_points: int = 8  # Server points the goodput search may spend
    tolerance: float = 0.05  # stop when the bracket is this narrow, relative to its top
    mlperf_minimum: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        self.slo_ms = _positive_number("slo_ms", self.slo_ms)
        self.percentile = float(_number("percentile", self.percentile))
        if self.percentile not in PERCENTILES:
            allowed = ", ".join(f"{p:g}" for p in PERCENTILES)
            raise UserError(
                f"percentile {self.percentile:g} is not one LoadGen reports: use one of {allowed}."
            )
        if self.tokenizer not in TOKENIZERS:
            raise UserError(
                f"tokenizer must be 'fast' (Rust) or 'slow' (Python), not {self.tokenizer!r}."
            )
        self.max_batch = _integer("max_batch", self.max_batch)
        if self.max_batch < 1:
            raise UserError(
                f"max_batch must be at least 1 (1 turns batching off), not {self.max_batch}."
            )
        self.max_delay_ms = float(_number("max_delay_ms", self.max_delay_ms))
        if self.max_delay_ms < 0:
            raise UserError(f"max_delay_ms cannot be negative, got {self.max_delay_ms:g}.")
        if self.max_length is not None:
            self.max_length = _integer("max_length", self.max_length)
            if self.max_length < 2:
                raise UserError(f"max_length must be at least 2 tokens, not {self.max_length}.")
        self.point_seconds = _positive_number("point_seconds", self.point_seconds)
        self.min_queries = _integer("min_queries", self.min_queries)
        if self.min_queries < 1:
            raise UserError(f"min_queries must be at least 1, not {self.min_queries}.")
        self.max_points = _integer("max_points", self.max_points)
        if self.max_points < 1:
            raise UserError(f"max_points must be at least 1, not {self.max_points}.")
        self.tolerance = _positive_number("tolerance", self.tolerance)
        if self.tolerance >= 1:
            raise UserError(f"tolerance is a fraction below 1, not {self.tolerance:g}.")
        if not isinstance(self.mlperf_minimum, bool):
            raise UserError(f"mlperf_minimum must be true or false, not {self.mlperf_minimum!r}.")
        self.seed = _integer("seed", self.seed)

    @property
    def duration_s(self) -> float:
        """How long each LoadGen run lasts at least."""
        return MLPERF_MIN_SECONDS if self.mlperf_minimum else self.point_seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadTestSpec:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"Unknown load test setting(s): {', '.join(unknown)}.")
        return cls(**data)


def _number(name: str, value: Any) -> float | int:
    # bool is an int to Python, but "slo_ms: true" is a mistake, not 1 ms.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{name} must be a number, not {value!r}.")
    if value != value or value in (float("inf"), float("-inf")):
        raise UserError(f"{name} must be a finite number, not {value!r}.")
    return value


def _positive_number(name: str, value: Any) -> float:
    value = float(_number(name, value))
    if value <= 0:
        raise UserError(f"{name} must be above 0, not {value:g}.")
    return value


def _integer(name: str, value: Any) -> int:
    value = _number(name, value)
    if int(value) != value:
        raise UserError(f"{name} must be a whole number, not {value!r}.")
    return int(value)
