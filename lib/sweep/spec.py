"""The sweep spec: models x datasets x variants x target machine kinds x measurement settings.

Plain dataclasses that validate in ``__post_init__`` and round-trip through JSON, like
``lib.spec.RunSpec``. ``expand`` turns a sweep into one ``RunSpec`` per (model, dataset,
machine kind): the variants of a run are measured together on one machine (speed-ups and paired
rounds need their fp32 beside them). Each planned run has an idempotent key (``run_key``): a
hash of its run spec, the machine kind and what its model and data files hold, so a re-submitted
sweep skips what is already measured. Imports no torch.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from lib.errors import UserError
from lib.spec import (
    BUILTIN_DATASETS,
    BUILTIN_MODEL,
    AdaptSpec,
    DatasetSpec,
    LoadTestSpec,
    MeasureSpec,
    ModelSpec,
    RunSpec,
    build_part,
)

# The node label a machine kind is given: `ray start --labels leanbench.hardware=c7i`.
LABEL_KEY = "leanbench.hardware"
# The machine kind of a sweep given no targets: the one machine it runs on.
LOCAL_TARGET = "local"
MAX_RETRIES = 10
# Ray label values follow Kubernetes': at most 63 characters, letters and digits at both ends,
# '-', '_' and '.' between.
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
KEY_VERSION = 1


@dataclass
class SweepSpec:
    """A matrix of runs: every model on every dataset on every target machine kind."""

    models: list[str] = field(default_factory=lambda: [BUILTIN_MODEL])
    datasets: list[DatasetSpec] = field(default_factory=lambda: [DatasetSpec()])
    variants: list[str] = field(default_factory=lambda: ["fp32", "half", "int8"])
    targets: list[str] = field(default_factory=list)  # empty: this machine ("local")
    adapt: AdaptSpec = field(default_factory=AdaptSpec)
    measure: MeasureSpec = field(default_factory=MeasureSpec)
    load_test: LoadTestSpec | None = None
    name: str = ""
    retries: int = 2  # attempts on another node of the same kind after a node dies

    def __post_init__(self) -> None:
        self.models = _names("model", self.models)
        if not self.datasets:
            raise UserError("A sweep needs at least one dataset.")
        self.datasets = [_dataset(d) for d in self.datasets]
        sources = [d.source for d in self.datasets]
        if len(set(sources)) != len(sources):
            raise UserError(f"A dataset is listed twice in the sweep: {', '.join(sources)}.")
        self.targets = [_target(t) for t in _names("target", self.targets, allow_empty=True)]
        if isinstance(self.load_test, dict):
            self.load_test = LoadTestSpec.from_dict(self.load_test)
        if (
            isinstance(self.retries, bool)
            or not isinstance(self.retries, int)
            or not 0 <= self.retries <= MAX_RETRIES
        ):
            raise UserError(
                f"Retries must be a whole number from 0 to {MAX_RETRIES} (got {self.retries})."
            )
        self.name = str(self.name or "").strip()
        # The variants are checked the way a run checks them (the grammar alone: no torch).
        RunSpec(variants=list(self.variants))
        self.variants = [v.strip() for v in self.variants if v and v.strip()]

    @property
    def machine_kinds(self) -> list[str]:
        """The targets, or the one machine the sweep runs on when none is given."""
        return self.targets or [LOCAL_TARGET]

    # ---------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepSpec:
        """A sweep from JSON. ``datasets`` items may be names ("rotten-tomatoes") or objects
        (a file with its columns); ``UserError`` for an unknown key or a bad value."""
        if not isinstance(data, dict):
            raise UserError("A sweep spec must be a JSON object.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"Unknown key(s) in sweep spec: {', '.join(unknown)}.")
        kwargs: dict[str, Any] = dict(data)
        for key in ("models", "variants", "targets"):
            if key in kwargs and not isinstance(kwargs[key], list):
                raise UserError(f"'{key}' in the sweep spec must be a list.")
        if "datasets" in kwargs:
            if not isinstance(kwargs["datasets"], list):
                raise UserError("'datasets' in the sweep spec must be a list.")
            kwargs["datasets"] = [_dataset(d) for d in kwargs["datasets"]]
        for key, kind in (("adapt", AdaptSpec), ("measure", MeasureSpec)):
            if key in kwargs:
                kwargs[key] = _part(kind, kwargs[key], key)
        if kwargs.get("load_test") is not None:
            kwargs["load_test"] = LoadTestSpec.from_dict(kwargs["load_test"])
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> SweepSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"Sweep spec is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_run(cls, run: RunSpec, targets: list[str], retries: int = 2) -> SweepSpec:
        """The sweep of one run spec over ``targets``."""
        return cls(
            models=[run.model.source],
            datasets=[run.dataset],
            variants=list(run.variants),
            targets=list(targets),
            adapt=run.adapt,
            measure=run.measure,
            load_test=run.load_test,
            name=run.name,
            retries=retries,
        )


@dataclass
class PlannedRun:
    """One run of a sweep: a model on a dataset on one machine kind, with its run spec."""

    position: int
    model: str
    dataset: DatasetSpec
    target: str
    spec: RunSpec
    key: str = ""  # set by ``with_keys``

    @property
    def pair(self) -> tuple[str, str]:
        """(model, dataset): runs of one pair share one adapted baseline and trained variants."""
        return self.model, self.dataset.source

    def row(self) -> dict[str, Any]:
        """The store's ``sweep_runs`` columns of this run."""
        return {
            "position": self.position,
            "key": self.key,
            "model": self.model,
            "dataset": self.dataset.source,
            "target": self.target,
        }


def expand(sweep: SweepSpec) -> list[PlannedRun]:
    """One planned run per (model, dataset, machine kind), in that order."""
    out: list[PlannedRun] = []
    for model in sweep.models:
        for dataset in sweep.datasets:
            for target in sweep.machine_kinds:
                spec = RunSpec(
                    model=ModelSpec(model),
                    dataset=DatasetSpec(**asdict(dataset)),
                    variants=list(sweep.variants),
                    adapt=AdaptSpec(**asdict(sweep.adapt)),
                    measure=MeasureSpec(**asdict(sweep.measure)),
                    name=run_name(sweep.name, model, dataset.source, target),
                    load_test=None
                    if sweep.load_test is None
                    else LoadTestSpec.from_dict(sweep.load_test.to_dict()),
                )
                out.append(PlannedRun(len(out), model, dataset, target, spec))
    return out


def run_name(sweep_name: str, model: str, dataset: str, target: str) -> str:
    """ "<model> on <dataset> @ <target>" (file names, not paths), after the sweep's name."""
    model_name = model if model == BUILTIN_MODEL else Path(model).name or model
    data_name = dataset if dataset in BUILTIN_DATASETS else Path(dataset).name
    text = f"{model_name} on {data_name} @ {target}"
    return f"{sweep_name}: {text}" if sweep_name else text


def run_key(spec: RunSpec, target: str, identities: dict[str, str] | None = None) -> str:
    """The idempotent key of a planned run: its run spec (less its name), the machine kind and
    ``identities`` (what the model folder and data file hold, ``lib.sweep.identity``)."""
    data = spec.to_dict()
    data.pop("name", None)
    payload = {"run": data, "target": target, "ids": identities or {}, "v": KEY_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def sweep_id(keys: list[str], name: str = "") -> str:
    """The sweep's id: the same runs (and name) give the same id, so a re-submission finds it."""
    payload = json.dumps({"keys": sorted(keys), "name": name}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


# ------------------------------------------------------------------ checks
def _names(what: str, values: Any, allow_empty: bool = False) -> list[str]:
    if isinstance(values, str):
        values = [values]
    out = [str(v).strip() for v in values or [] if str(v).strip()]
    if not out and not allow_empty:
        raise UserError(f"A sweep needs at least one {what}.")
    dupes = sorted({v for v in out if out.count(v) > 1})
    if dupes:
        raise UserError(f"{what.capitalize()} listed twice in the sweep: {', '.join(dupes)}.")
    return out


def _target(value: str) -> str:
    if not _LABEL_VALUE.match(value):
        raise UserError(
            f"Target '{value}' is not a node label value: up to 63 letters, digits, '-', '_' "
            "or '.', starting and ending with a letter or digit (e.g. c7i, l4, gpu-box)."
        )
    return value


def _dataset(value: Any) -> DatasetSpec:
    if isinstance(value, DatasetSpec):
        return value
    if isinstance(value, str):
        return DatasetSpec(value)
    return _part(DatasetSpec, value, "datasets")


def _part(kind: type, value: Any, where: str) -> Any:
    return build_part(kind, value, where, "the sweep spec")


def from_page(
    template: RunSpec,
    models: str,
    datasets: list[str],
    targets: str,
    retries: int = 2,
) -> SweepSpec:
    """The sweep the Sweep page describes: the draft run (``template``: variants, measurement,
    adaptation) over the models (one per line or comma), the datasets picked (the draft's own
    file keeps its columns) and the machine kinds typed (comma-separated)."""
    own = template.dataset
    chosen = []
    for source in datasets:
        if source == own.source:
            chosen.append(DatasetSpec(**asdict(own)))
        else:
            chosen.append(
                DatasetSpec(
                    source,
                    train_limit=own.train_limit,
                    eval_limit=own.eval_limit,
                    seed=own.seed,
                )
            )
    sweep = SweepSpec.from_run(template, split_list(targets), retries)
    sweep.models = _names("model", split_list(models))
    sweep.datasets = chosen
    return SweepSpec.from_dict(sweep.to_dict())  # checked as a whole


def split_list(text: str) -> list[str]:
    """ "a, b\\nc" -> ["a", "b", "c"]."""
    return [t.strip() for t in str(text or "").replace("\n", ",").split(",") if t.strip()]
