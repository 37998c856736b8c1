"""The one spec type that flows from page or CLI to runner to store.

Plain dataclasses that validate in ``__post_init__`` and round-trip through JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from lib.errors import UserError

BUILTIN_MODEL = "minilm-l6"
BUILTIN_DATASETS = ("rotten-tomatoes", "bbc-news", "tweets")


@dataclass
class ModelSpec:
    """Which model: the built-in ``minilm-l6``, a local folder in Hugging Face format, or a hub id."""

    source: str = BUILTIN_MODEL

    def __post_init__(self) -> None:
        _text_or_none("model source", self.source)
        self.source = (self.source or "").strip()
        if not self.source:
            raise UserError("No model given: use 'minilm-l6', a local folder or a Hugging Face id.")


@dataclass
class DatasetSpec:
    """Which data: a built-in name or a CSV/JSONL file with a text and a label column."""

    source: str = "rotten-tomatoes"
    text_column: str | None = None
    label_column: str | None = None
    train_limit: int = 4000
    eval_limit: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        for what, value in (
            ("dataset source", self.source),
            ("text column", self.text_column),
            ("label column", self.label_column),
        ):
            _text_or_none(what, value)
        self.source = (self.source or "").strip()
        if not self.source:
            raise UserError("No dataset given: pick a built-in dataset or upload a CSV/JSONL file.")
        if self.source not in BUILTIN_DATASETS and not (self.text_column and self.label_column):
            raise UserError(
                f"Dataset file '{self.source}' needs a text column and a label column "
                "(--text-column and --label-column on the CLI)."
            )
        _positive("eval limit", self.eval_limit)
        _positive("train limit", self.train_limit)


@dataclass
class AdaptSpec:
    """Fine-tuning a new classification head when the model's head does not fit the labels."""

    epochs: float = 1.0
    max_length: int = 64
    batch_size: int = 16
    learning_rate: float = 5e-5

    def __post_init__(self) -> None:
        if self.epochs <= 0:
            raise UserError(f"Adaptation epochs must be above 0 (got {self.epochs}).")
        _positive("adaptation max length", self.max_length)
        _positive("adaptation batch size", self.batch_size)
        if not 0 < self.learning_rate < 1:
            raise UserError(f"Learning rate must be between 0 and 1 (got {self.learning_rate}).")


@dataclass
class MeasureSpec:
    """How each variant is measured."""

    batch_sizes: list[int] = field(default_factory=lambda: [1, 32])
    seq_len: int = 128
    # Extra sequence lengths timed at the smallest batch size: the latency-vs-length sweep.
    sweep_seq_lens: list[int] = field(default_factory=list)
    warmup: int = 2
    min_repeats: int = 5
    min_seconds: float = 2.0
    # Rounds of variant-then-fp32 timing in the variant's process, for a speed-up that machine
    # drift cannot bend (lib.measure.stats.paired_speedup); 0 skips them.
    paired_rounds: int = 5
    threads: int | None = None  # None: all the cores this process may use
    device: str = "cpu"  # cpu, cuda, mps or auto
    eval_batch_size: int = 32
    energy: bool = False
    energy_seconds: float = 5.0  # length of the separate energy pass
    country: str = "USA"  # ISO-3 code for codecarbon's offline carbon intensity
    variant_timeout_s: float = 1800.0

    def __post_init__(self) -> None:
        if not self.batch_sizes:
            raise UserError("Give at least one batch size (e.g. 1,32).")
        for b in self.batch_sizes:
            if not isinstance(b, int) or b <= 0:
                raise UserError(f"Batch sizes must be whole numbers above 0 (got {b}).")
        self.batch_sizes = sorted(set(self.batch_sizes))
        _positive("sequence length", self.seq_len)
        if self.seq_len > 512:
            raise UserError(
                f"Sequence length {self.seq_len} is above 512, the most BERT models take."
            )
        for n in self.sweep_seq_lens:
            if not isinstance(n, int) or isinstance(n, bool) or not 0 < n <= 512:
                raise UserError(
                    f"Sweep sequence lengths must be whole numbers from 1 to 512 (got {n})."
                )
        self.sweep_seq_lens = sorted(set(self.sweep_seq_lens) - {self.seq_len})
        if self.warmup < 0:
            raise UserError(f"Warm-up passes cannot be negative (got {self.warmup}).")
        _positive("minimum repeats", self.min_repeats)
        if self.min_seconds < 0:
            raise UserError(f"Minimum seconds cannot be negative (got {self.min_seconds}).")
        if (
            not isinstance(self.paired_rounds, int)
            or isinstance(self.paired_rounds, bool)
            or not 0 <= self.paired_rounds <= 50
        ):
            raise UserError(
                f"Paired rounds must be a whole number from 0 to 50 (got {self.paired_rounds})."
            )
        if self.threads is not None:
            _positive("threads", self.threads)
        if self.device not in ("cpu", "cuda", "mps", "auto"):
            raise UserError(f"Device must be cpu, cuda, mps or auto (got '{self.device}').")
        _positive("eval batch size", self.eval_batch_size)
        if self.energy_seconds <= 0:
            raise UserError(f"The energy pass must last more than 0 s (got {self.energy_seconds}).")
        self.country = (self.country or "").strip().upper()
        if len(self.country) != 3 or not self.country.isalpha():
            raise UserError(
                f"Country must be a 3-letter ISO code such as USA or DEU (got '{self.country}')."
            )


# ------------------------------------------------------------------ the load test (issue 12)
TOKENIZERS = ("fast", "slow")
# LoadGen reports latency at these percentiles only, so an SLO can be checked against its own
# figures at no other.
PERCENTILES = (50.0, 90.0, 95.0, 97.0, 99.0, 99.9)
# MLPerf Inference's rule for a result that counts: every scenario runs at least 600 s.
MLPERF_MIN_SECONDS = 600.0
# LoadGen runs in a load test besides the Server points: SingleStream and Offline.
_FIXED_RUNS = 2
# The time-out allows this many times the runs' planned length (a run also waits for its
# minimum query count, and a slow variant overshoots), plus a fixed allowance for the warm-up,
# tokenizing the texts and the simulation.
_BUDGET_FACTOR = 3.0
_BUDGET_EXTRA_S = 120.0


@dataclass
class LoadTestSpec:
    """A load test of one variant.

    The defaults fit a load test in about two minutes per variant on two CPU cores: 10 s points
    and at most 8 Server points, enough for the bisection to bracket goodput within 5% of peak
    throughput. 10 s, not 5: at the 100-200 QPS a small encoder reaches there, a 5 s point's p99
    is its sixth-worst latency, and one slow second moved bf16's measured goodput from 169 to
    103 QPS between two runs (10 s points: 156, within 9% of the simulation). ``mlperf_minimum`` runs every scenario for
    MLPerf's own 600 s instead (about 100 minutes per variant).
    """

    slo_ms: float = 100.0  # the latency bound at ``percentile``
    percentile: float = 99.0
    tokenizer: str = "fast"  # "fast": the Rust tokenizer; "slow": the Python one
    max_batch: int = 32
    max_delay_ms: float = 5.0  # how long the oldest request may wait for a batch to fill
    max_length: int | None = None  # truncation; None: the model's maximum
    point_seconds: float = 10.0  # the length of each LoadGen run (min_duration_ms)
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

    @property
    def planned_s(self) -> float:
        """The LoadGen runs' planned length: SingleStream, Offline and every Server point."""
        return (_FIXED_RUNS + self.max_points) * self.duration_s

    @property
    def time_budget_s(self) -> float:
        """What a variant's time-out is extended by when it is load-tested."""
        return _BUDGET_FACTOR * self.planned_s + _BUDGET_EXTRA_S

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadTestSpec:
        if not isinstance(data, dict):
            raise UserError("The load test settings must be a JSON object.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"Unknown load test setting(s): {', '.join(unknown)}.")
        return cls(**data)


@dataclass
class RunSpec:
    """A whole benchmark: one model on one dataset, several variants, one way of measuring."""

    model: ModelSpec = field(default_factory=ModelSpec)
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    variants: list[str] = field(default_factory=lambda: ["fp32", "half", "int8"])
    adapt: AdaptSpec = field(default_factory=AdaptSpec)
    measure: MeasureSpec = field(default_factory=MeasureSpec)
    name: str = ""
    load_test: LoadTestSpec | None = None  # None: no load test (issue 12)

    def __post_init__(self) -> None:
        from lib.techniques.grammar import parse_variant  # the syntax alone: no torch

        if isinstance(self.load_test, dict):
            self.load_test = LoadTestSpec.from_dict(self.load_test)
        if self.load_test is not None and not isinstance(self.load_test, LoadTestSpec):
            raise UserError("'load_test' in run spec must be an object or null.")
        _text_or_none("run name", self.name)
        if not isinstance(self.variants, list | tuple) or not all(
            isinstance(v, str) for v in self.variants
        ):
            raise UserError("'variants' in run spec must be a list of variant names.")
        self.variants = [v.strip() for v in self.variants if v and v.strip()]
        if not self.variants:
            raise UserError("Pick at least one variant (e.g. fp32,half,int8).")
        seen = set()
        for v in self.variants:
            parse_variant(v)  # raises UserError naming the bad step
            if v in seen:
                raise UserError(f"Variant '{v}' is listed twice.")
            seen.add(v)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        if not isinstance(data, dict):
            raise UserError("A run spec must be a JSON object.")
        parts = {
            "model": ModelSpec,
            "dataset": DatasetSpec,
            "adapt": AdaptSpec,
            "measure": MeasureSpec,
        }
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in parts:
                kwargs[key] = build_part(parts[key], value, key)
            elif key == "load_test":  # absent from specs older than issue 12: no load test
                kwargs[key] = None if value is None else LoadTestSpec.from_dict(value)
            elif key in ("variants", "name"):
                kwargs[key] = value
            else:
                raise UserError(f"Unknown key '{key}' in run spec.")
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"Run spec is not valid JSON: {exc}") from None
        return cls.from_dict(data)


def build_part(kind: type, value: Any, where: str, document: str = "run spec") -> Any:
    """The dataclass ``kind`` from the JSON object at ``where`` of ``document``; a UserError
    naming the place for anything else (not an object, unknown keys, a value of the wrong kind)."""
    if isinstance(value, kind):
        return value
    if not isinstance(value, dict):
        raise UserError(f"'{where}' in {document} must be an object.")
    known = {f.name for f in fields(kind)}
    unknown = set(value) - known
    if unknown:
        raise UserError(f"Unknown key(s) {sorted(unknown)} in '{where}' of {document}.")
    try:
        return kind(**value)
    except (TypeError, AttributeError) as exc:  # a value of the wrong kind (a list for a number)
        raise UserError(f"Bad '{where}' in {document}: {exc}") from None


def _text_or_none(what: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise UserError(f"The {what} must be text, not {value!r}.")


def _positive(what: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise UserError(f"The {what} must be a whole number above 0 (got {value}).")


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


# ------------------------------------------------------------------ specs for people (pages)
def default_spec_dict() -> dict[str, Any]:
    """The default run as a plain dict (built without importing torch: RunSpec's check of the
    variants imports the technique registry)."""
    variants = next(f for f in fields(RunSpec) if f.name == "variants").default_factory
    if not callable(variants):  # dataclasses.MISSING: RunSpec.variants lost its default
        raise TypeError("RunSpec.variants has no default_factory")
    return {
        "model": asdict(ModelSpec()),
        "dataset": asdict(DatasetSpec()),
        "variants": list(variants()),
        "adapt": asdict(AdaptSpec()),
        "measure": asdict(MeasureSpec()),
        "name": "",
        "load_test": None,
    }


def parse_int_list(text: str, what: str = "Batch sizes") -> list[int]:
    """'1, 8,32' -> [1, 8, 32]; a UserError names the bad item."""
    items = [t.strip() for t in str(text).replace(";", ",").split(",") if t.strip()]
    if not items:
        raise UserError(f"{what}: give at least one whole number, e.g. 1, 32.")
    out = []
    for item in items:
        try:
            out.append(int(item))
        except ValueError:
            raise UserError(
                f"{what} must be whole numbers separated by commas; '{item}' is not one."
            ) from None
    return out


def spec_lines(spec: dict[str, Any], upload_name: str | None = None) -> list[tuple[str, str]]:
    """A spec dict as (label, value) lines for people; ``upload_name`` is what an uploaded
    dataset file was called (it is stored under a content hash)."""
    m, d, ms = spec.get("model", {}), spec.get("dataset", {}), spec.get("measure", {})
    source = d.get("source", "")
    if source in BUILTIN_DATASETS:
        data = source
    else:
        data = (
            f"{upload_name or Path(str(source)).name} "
            f"(text: {d.get('text_column')}, label: {d.get('label_column')})"
        )
    threads = ms.get("threads") or "all cores"
    return [
        ("Model", str(m.get("source", ""))),
        ("Dataset", data),
        (
            "Examples",
            f"train on up to {d.get('train_limit')}, evaluate on up to {d.get('eval_limit')} "
            f"(seed {d.get('seed')})",
        ),
        ("Variants", ", ".join(spec.get("variants", []))),
        (
            "Timing",
            f"batch sizes {', '.join(map(str, ms.get('batch_sizes', [])))} · "
            f"{ms.get('seq_len')} tokens · at least {ms.get('min_repeats')} repeats and "
            f"{ms.get('min_seconds')} s · threads: {threads} · device: {ms.get('device')}",
        ),
        (
            "Speed-ups",
            f"{ms['paired_rounds']} rounds taking turns with fp32"
            if ms.get("paired_rounds")
            else "fp32 p50 ÷ variant p50 (no paired rounds)",
        ),
        ("Energy", f"on ({ms.get('country')})" if ms.get("energy") else "off"),
        *_load_test_lines(spec.get("load_test")),
    ]


def _load_test_lines(load_test: Any) -> list[tuple[str, str]]:
    """The load test's line, only when the spec asks for one (older specs have no key)."""
    if not isinstance(load_test, dict):
        return []
    lt = {**LoadTestSpec().to_dict(), **load_test}
    length = "MLPerf's 600 s" if lt["mlperf_minimum"] else f"{lt['point_seconds']:g} s"
    return [
        (
            "Load test",
            f"goodput at p{lt['percentile']:g} ≤ {lt['slo_ms']:g} ms · {lt['tokenizer']} "
            f"tokenizer · batches up to {lt['max_batch']}, waiting up to "
            f"{lt['max_delay_ms']:g} ms · {length} per LoadGen run, "
            f"up to {lt['max_points']} Server points",
        )
    ]
