"""The shape of Leanbench's results: what a run document and each variant result hold.

Every reader of results (store, Results, Compare, Cost, report, demo, CLI) goes through these
types, so an old JSON file or store row is interpreted in one place; the runner builds its
results with them too, so what is written and what is read are the same schema.

- ``RunDocument``: one run as ``python -m lib run --out`` / ``show`` writes it (``run_id``,
  ``name``, ``status``, ``message``, ``created_at``, ``spec``, ``environment``, ``baseline``,
  ``results``). ``spec``, ``environment`` and ``baseline`` stay plain dicts.
- ``VariantResult``: one variant's measurement (or its failure), with ``latency_ms`` and
  ``latency_by_seq_len_ms`` as ``{batch or length: Latency}`` and ``speedup_paired`` as
  ``{batch: PairedSpeedup}``. Map keys are strings, as in JSON.

Reading is tolerant: ``from_dict`` keeps unknown keys in ``extra``, gives missing keys a default
(``None``, an empty container, ``status`` "ok", ``variant`` "?") and reads loose numbers with
``lib.format.num_or_none``. Writing is exact: ``to_dict`` emits the keys that were present (read,
passed to the constructor or assigned since) plus any container filled in place, in the order
read, so a file round-trips to an equal dict and a key absent from an old file stays absent.
Use ``has``/``get``/``set``/``update`` for dict-like access (extra keys included); note that
``dataclasses.replace`` marks every field as present.

``load_runs`` and ``load_results`` read whatever a caller was handed (a results JSON file, a run
document, a list of either, a list of result dicts) and raise ``UserError`` on anything else.
No torch, no pandas here: pages import this to open instantly.

One cohesive module a little over 500 lines: every record type and its reading rules sit
together so that the shape of a result is read in one place.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from lib.errors import UserError
from lib.format import num_or_none

BASELINE = "fp32"  # the variant every other is compared against
WRITTEN_BY = "as written by 'python -m lib run --out'"


class Status:
    """Run and result statuses as stored."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    OK = "ok"  # a variant result that was measured


FINISHED = (Status.DONE, Status.FAILED, Status.INTERRUPTED)  # a run that will not change again


# ------------------------------------------------------------------ reading loose values
class _Unset:
    """A field nobody gave: it gets its default and ``to_dict`` leaves its key out."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; anything else unchanged."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def _float(value: Any) -> float | None:
    return num_or_none(_plain(value))


def _int(value: Any) -> int | float | None:
    """An int where the number is whole (a float stays a float: nothing is truncated)."""
    value = _plain(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    x = num_or_none(value)
    return int(x) if x is not None and x.is_integer() else x


def _bool(value: Any) -> bool | None:
    value = _plain(value)
    return value if isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def _any(value: Any) -> Any:
    return value


def _floats(value: Any) -> list[float | None] | None:
    return [_float(x) for x in value] if isinstance(value, list | tuple) else None


def _strs(value: Any) -> list[str] | None:
    return [str(x) for x in value] if isinstance(value, list | tuple) else None


def _float_map(value: Any) -> dict[str, float | None]:
    return {str(k): _float(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _object(value: Any) -> dict[str, Any] | None:
    """A JSON object as it is (a dict), anything else as None."""
    return (
        value if isinstance(value, dict) else (dict(value) if isinstance(value, Mapping) else None)
    )


def _records(cls: type[Record]) -> Callable[[Any], dict[str, Any]]:
    def read(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            return {}
        return {str(k): cls.parse(v) for k, v in value.items()}

    return read


def _spec(coerce: Callable[[Any], Any], default: Any = None, factory: Callable | None = None):
    """A field read with ``coerce``; ``default``/``factory`` is what it holds when not given."""
    return field(default=UNSET, metadata={"coerce": coerce, "default": default, "factory": factory})


def _out(value: Any) -> Any:
    """A value as plain JSON types (fresh containers, records as their dicts)."""
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _out(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_out(v) for v in value]
    return value


_FIELDS: dict[type, dict[str, Any]] = {}


def _fields(cls: type) -> dict[str, Any]:
    """``{name: dataclass field}`` of a record's JSON keys (``extra`` is not one)."""
    if cls not in _FIELDS:
        _FIELDS[cls] = {f.name: f for f in fields(cls) if f.name != "extra"}
    return _FIELDS[cls]


def _empty(f) -> Any:
    factory = f.metadata["factory"]
    return factory() if factory else f.metadata["default"]


# ------------------------------------------------------------------ the base record
@dataclass(kw_only=True)
class Record:
    """A JSON object with typed fields that remembers which of its keys were present."""

    extra: dict[str, Any] = field(default_factory=dict)  # keys this schema does not know

    WHAT: ClassVar[str] = "A record"
    _raw: ClassVar[Any] = UNSET  # set on an instance read from a non-object (kept as it was)
    _order: ClassVar[tuple[str, ...]] = ()  # key order of the dict it was read from

    def __setattr__(self, name: str, value: Any) -> None:
        f = _fields(type(self)).get(name)
        if f is None:
            object.__setattr__(self, name, value)
            return
        given = self.__dict__.setdefault("_given", {})
        if value is UNSET:
            given.pop(name, None)
            value = _empty(f)
        else:
            value = f.metadata["coerce"](value)
            given[name] = None
        object.__setattr__(self, name, value)

    # --- reading
    @classmethod
    def from_dict(cls, data: Any):
        """Read a JSON object: known keys typed, unknown ones kept in ``extra``."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise UserError(f"{cls.WHAT} must be a JSON object, not {_kind(data)}.")
        known = _fields(cls)
        obj = cls(
            **{k: v for k, v in data.items() if k in known},
            extra={k: v for k, v in data.items() if k not in known},
        )
        object.__setattr__(obj, "_order", tuple(data))
        return obj

    @classmethod
    def parse(cls, value: Any):
        """Like ``from_dict`` but never fails: a non-object is kept as it was (and written back
        unchanged), e.g. a latency stored as a bare number in an old file."""
        if isinstance(value, cls | Mapping):
            return cls.from_dict(value)
        obj = cls()
        object.__setattr__(obj, "_raw", value)
        return obj

    # --- dict-like access
    def has(self, key: str) -> bool:
        """Was ``key`` present (given, read or assigned; or an extra key)?"""
        f = _fields(type(self)).get(key)
        if f is None:
            return key in self.extra
        return key in self.__dict__.get("_given", {}) or getattr(self, key) != _empty(f)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a present key (a field or an extra key), else ``default``."""
        if key in _fields(type(self)):
            return getattr(self, key) if self.has(key) else default
        return self.extra.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Assign a field, or an extra key when the schema has no such field."""
        if key in _fields(type(self)):
            setattr(self, key, value)
        else:
            self.extra[key] = value

    def update(self, values: Mapping[str, Any]) -> None:
        for k, v in values.items():
            self.set(k, v)

    def keys(self) -> list[str]:
        """The keys ``to_dict`` emits, in its order."""
        known = _fields(type(self))
        given = self.__dict__.get("_given", {})
        filled = (n for n in known if n not in given and self.has(n))
        order = dict.fromkeys([*self._order, *given, *filled, *self.extra])
        return [k for k in order if (self.has(k) if k in known else k in self.extra)]

    # --- writing
    def to_dict(self) -> Any:
        """The JSON object: exactly the keys present, extra keys included, in the order read."""
        if self._raw is not UNSET:
            return _out(self._raw)
        known = _fields(type(self))
        return {k: _out(getattr(self, k) if k in known else self.extra[k]) for k in self.keys()}


def _kind(value: Any) -> str:
    """What a JSON value is, in words: "a list", "a number", ..."""
    kinds = {
        list: "a list",
        tuple: "a list",
        str: "a string",
        type(None): "null",
        bool: "a boolean",
    }
    kinds.update({int: "a number", float: "a number", dict: "an object"})
    return kinds.get(type(value), type(value).__name__)


def _message(where: Any, text: str) -> str:
    """``text`` after the file it is about, or on its own as a sentence."""
    return f"{where}: {text}" if where else text[0].upper() + text[1:]


# ------------------------------------------------------------------ the schema
@dataclass(kw_only=True)
class Latency(Record):
    """Timing of one shape (batch size or sequence length), in ms."""

    WHAT: ClassVar[str] = "A latency"

    p50: float | None = _spec(_float)
    p90: float | None = _spec(_float)
    p99: float | None = _spec(_float)
    mean: float | None = _spec(_float)
    std: float | None = _spec(_float)
    cv: float | None = _spec(_float)  # std / mean
    n: int | None = _spec(_int)  # samples
    unstable: bool | None = _spec(_bool)  # lib.measure.stats.stability
    window_spread: float | None = _spec(_float)
    stability_note: str | None = _spec(_str)

    @classmethod
    def parse(cls, value: Any) -> Latency:
        obj = super().parse(value)
        if obj._raw is not UNSET and _float(value) is not None:
            obj.p50 = value  # an old file's bare number is its median
        return obj


@dataclass(kw_only=True)
class PairedSpeedup(Record):
    """Speed-up over fp32 from rounds in which the two took turns (``stats.paired_speedup``)."""

    WHAT: ClassVar[str] = "A paired speed-up"

    speedup: float | None = _spec(_float)  # above 1: the variant is faster
    ci: list[float | None] | None = _spec(_floats)  # 95% interval [low, high]
    rounds: int | None = _spec(_int)
    ratios: list[float | None] | None = _spec(_floats)
    baseline_ms: float | None = _spec(_float)
    variant_ms: float | None = _spec(_float)


@dataclass(kw_only=True)
class VariantResult(Record):
    """One variant of a run: measured (``status`` "ok") or failed with its ``error``.

    Fields in the order the runner writes them; those after ``speedup_paired`` are present only
    when they apply (energy when measured, the accuracy test and expectations once the baseline
    is known, ``error`` on a failure, ``load_test`` when the run load-tested its variants)."""

    WHAT: ClassVar[str] = "A variant result"

    variant: str = _spec(_str, default="?")
    status: str = _spec(_str, default=Status.OK)
    steps: list[str] = _spec(_strs, factory=list)
    runtime: str | None = _spec(_str)
    precision: str | None = _spec(_str)
    device: str | None = _spec(_str)
    threads: int | None = _spec(_int)
    accuracy: float | None = _spec(_float)  # a fraction, 0-1
    macro_f1: float | None = _spec(_float)
    n_eval: int | None = _spec(_int)
    latency_ms: dict[str, Latency] = _spec(_records(Latency), factory=dict)  # by batch size
    throughput_per_s: dict[str, float | None] = _spec(_float_map, factory=dict)
    seq_len: int | None = _spec(_int)
    latency_by_seq_len_ms: dict[str, Latency] = _spec(_records(Latency), factory=dict)
    sweep_batch_size: int | None = _spec(_int)  # the batch the length sweep timed at
    size_mb: float | None = _spec(_float)
    params: int | None = _spec(_int)
    flops_per_item: float | None = _spec(_float)
    num_layers: int | None = _spec(_int)
    peak_memory_mb: float | None = _spec(_float)
    build_seconds: float | None = _spec(_float)
    notes: Any = _spec(_any, factory=dict)  # {what: value} from the steps and the runtime
    predictions: list[int] | None = _spec(_any)  # left out of run documents unless asked
    unstable: bool | None = _spec(_bool)  # any batch size's timing was unstable
    speedup_paired: dict[str, PairedSpeedup] = _spec(_records(PairedSpeedup), factory=dict)
    # energy (lib.measure.energy), at energy_batch_size
    energy_j_per_1k: float | None = _spec(_float)
    energy_method: str | None = _spec(_str)
    energy_measured: bool | None = _spec(_bool)
    carbon_intensity_g_per_kwh: float | None = _spec(_float)
    co2_g_per_1k: float | None = _spec(_float)
    energy_batch_size: int | None = _spec(_int)
    energy_details: Any = _spec(_any)
    gpu_peak_memory_mb: float | None = _spec(_float)
    # a failure
    error: str | None = _spec(_str)
    error_detail: str | None = _spec(_str)  # the traceback's tail
    wall_seconds: float | None = _spec(_float)
    # against the baseline (the runner, once fp32 is measured)
    agreement: float | None = _spec(_float)  # fraction of predictions equal to fp32's
    accuracy_ci: list[float | None] | None = _spec(_floats)  # 95% interval [low, high]
    accuracy_noise_points: float | None = _spec(_float)
    p_value_vs_baseline: float | None = _spec(_float)  # McNemar
    significant_vs_baseline: bool | None = _spec(_bool)
    only_baseline_right: int | None = _spec(_int)
    only_variant_right: int | None = _spec(_int)
    expectations: Any = _spec(_any, factory=list)  # lib.measure.expectations, as dicts
    speedup_vs_baseline: float | None = _spec(_float)
    expectation_check: Any = _spec(_any)
    # serving under load (lib.serving.variant.load_test): goodput at the SLO, LoadGen's three
    # scenarios, the latency breakdown, the simulation; absent unless the run asked for it
    load_test: dict[str, Any] | None = _spec(_object)

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def latency(self, batch_size: int | str) -> Latency | None:
        """The timing at one batch size, or None when it was not timed there."""
        return self.latency_ms.get(str(batch_size))


def _created_at(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else _str(value)


def _results(value: Any) -> list[VariantResult]:
    """Result entries that are not objects are dropped, as every reader always did."""
    if not isinstance(value, list | tuple):
        raise UserError(f"A run document's 'results' must be a list, not {_kind(value)}.")
    return [VariantResult.from_dict(r) for r in value if isinstance(r, Mapping | VariantResult)]


def _dict(value: Any) -> dict:
    return dict(value) if isinstance(value, Mapping) else {}


@dataclass(kw_only=True)
class RunDocument(Record):
    """One run: what was asked (``spec``), where it ran (``environment``), the baseline's facts
    (``baseline``: adaptation, eval size, labels; demo labels) and each variant's result."""

    WHAT: ClassVar[str] = "A run document"

    run_id: str | None = _spec(_str)
    name: str = _spec(_str, default="")
    status: str | None = _spec(_str)
    message: str | None = _spec(_str)
    created_at: str | None = _spec(_created_at)  # ISO 8601
    spec: dict[str, Any] = _spec(_dict, factory=dict)
    environment: dict[str, Any] = _spec(_dict, factory=dict)
    baseline: dict[str, Any] = _spec(_dict, factory=dict)
    results: list[VariantResult] = _spec(_results, factory=list)

    @classmethod
    def from_dict(cls, data: Any, source: str | Path | None = None) -> RunDocument:
        """Read a run document; ``source`` (a file name) starts the error message when given."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise UserError(
                _message(
                    source,
                    f"a run document must be a JSON object with a 'results' list ({WRITTEN_BY}), "
                    f"not {_kind(data)}.",
                )
            )
        if not isinstance(data.get("results"), list | tuple):
            got = "it has none" if "results" not in data else f"got {_kind(data['results'])}"
            raise UserError(
                _message(
                    source, f"not a run document: it needs a 'results' list ({WRITTEN_BY}); {got}."
                )
            )
        return super().from_dict(data)

    def result(self, variant: str) -> VariantResult | None:
        """The first result of ``variant``, or None."""
        return next((r for r in self.results if r.variant == variant), None)

    @classmethod
    def load_json(cls, path: str | Path) -> RunDocument:
        """One run document from a JSON file (UserError: missing, not JSON, not a document)."""
        data = read_json(path)
        if isinstance(data, list):
            raise UserError(f"{path}: holds {len(data)} run documents, not one.")
        return cls.from_dict(data, source=path)

    def save_json(self, path: str | Path) -> Path:
        """Write the document as the CLI does (indented JSON); returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        return path


# ------------------------------------------------------------------ loading what a caller has
def read_json(path: str | Path) -> Any:
    """The JSON in a file, with a UserError that names it when missing or broken."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"Results file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}).") from None


def load_runs(source: Any) -> list[RunDocument]:
    """Run documents from a results JSON file (path), a document (dict or RunDocument) or a list
    of them."""
    if isinstance(source, str | Path):
        return _runs(read_json(source), source)
    return _runs(source, None)


def load_results(source: Any) -> list[VariantResult]:
    """Variant results from a results JSON file, a run document, a list of run documents or a
    list of result dicts (or VariantResults), in order."""
    where = source if isinstance(source, str | Path) else None
    data = read_json(source) if where else source
    if isinstance(data, list | tuple):
        documents = [_is_document(x) for x in data]
        if not any(documents):
            return [VariantResult.from_dict(r) for r in data]
        if not all(documents):
            raise UserError(
                _message(
                    where,
                    "a list of results must hold either run documents (each with a 'results' "
                    "list) or variant results, not both.",
                )
            )
    return [r for doc in _runs(data, where) for r in doc.results]


def _runs(data: Any, where: str | Path | None) -> list[RunDocument]:
    items = data if isinstance(data, list | tuple) else [data]
    return [RunDocument.from_dict(doc, source=where) for doc in items]


def _is_document(value: Any) -> bool:
    return isinstance(value, RunDocument) or (isinstance(value, Mapping) and "results" in value)
