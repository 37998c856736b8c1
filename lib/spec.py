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


@dataclass
class RunSpec:
    """A whole benchmark: one model on one dataset, several variants, one way of measuring."""

    model: ModelSpec = field(default_factory=ModelSpec)
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    variants: list[str] = field(default_factory=lambda: ["fp32", "half", "int8"])
    adapt: AdaptSpec = field(default_factory=AdaptSpec)
    measure: MeasureSpec = field(default_factory=MeasureSpec)
    name: str = ""

    def __post_init__(self) -> None:
        from lib.techniques.grammar import parse_variant  # the syntax alone: no torch

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
                kwargs[key] = _build(parts[key], value, key)
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


def _build(kind: type, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise UserError(f"'{where}' in run spec must be an object.")
    known = {f.name for f in fields(kind)}
    unknown = set(value) - known
    if unknown:
        raise UserError(f"Unknown key(s) {sorted(unknown)} in '{where}' of run spec.")
    try:
        return kind(**value)
    except TypeError as exc:
        raise UserError(f"Bad '{where}' in run spec: {exc}") from None


def _positive(what: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise UserError(f"The {what} must be a whole number above 0 (got {value}).")


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
    ]
