"""One-off cost and payback: what a variant cost to build once, and how soon a lower serving bill
repays it ("distill:3 cost $0.04 to train once and saves $420 a month: pays back in 3 minutes").

**One-off seconds** (``one_off``) are the training and calibration a variant's build recorded in
its result's notes; they survive the build cache (a cached build copies the notes of the build
that trained it, so its seconds are those of that first build, on this machine's cache):

- the baseline (``fp32``): adapting a new head, the run's ``baseline.adapt_seconds`` (zero when
  the model's own head fits). Every variant starts from that baseline, so it is the baseline's
  one-off cost and is not counted again in any variant's;
- ``distill:N``: ``distill_seconds`` (the teacher's pass over the training examples included);
- ``prune-structured:P``: ``importance_seconds`` + ``recovery_seconds`` (the recovery training);
- ``student:NAME``: ``student_train_seconds``;
- static int8 (``@ort-static``, OpenVINO int8): ``calibration_seconds``.

Steps that neither train nor calibrate (half, dynamic int8, pruning without recovery, ONNX
export, compiling) cost seconds of conversion that are redone wherever the model is deployed;
they are not counted. A chain sums its steps.

**Where it ran**: what the build recorded (``built_on`` in a trained variant's notes, and
``adapt_built_on`` in the run's baseline facts: ``lib.measure.environment.machine_facts`` of the
machine that trained it, kept by the build cache, so a cached build names the machine of its
first build, a sweep's bundle the node that built it); a result from before that record is taken
to have been built where it was measured. ``machine_rate`` prices an hour of it from the
price catalogue: a GPU as the cheapest catalogue instance with that GPU (its share of the
instance where the instance has several), a CPU as its threads' share of the catalogue instance
with that CPU (the cheapest per vCPU), or, when no instance has it, of the cheapest x86 (or Arm)
instance per vCPU, labelled as the estimate it is. The user may pick a cloud instance instead.
Every rate carries the catalogue row's source and date.

**Payback** per variant and hardware option: ``one_off_usd`` = seconds / 3600 x the rate;
``monthly_saving_usd`` = the baseline's monthly bill minus the variant's on that option at the
user's volume (``lib.cost.table``'s ``monthly_usd``: the fleet for the busiest hour, 730 h);
``payback_months`` = one-off / saving, ``inf`` ("never") when the variant saves nothing or costs
more to serve, NaN for the baseline and for a variant that could not be costed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from lib.cost.catalog import Catalog
from lib.cost.formulas import HOURS_PER_MONTH
from lib.cost.projection import hardware_key
from lib.errors import UserError
from lib.format import fmt_usd, num, num_or_none
from lib.schema import BASELINE, Status

# note key -> the step it measures, in the order a chain's parts are listed
ONE_OFF_NOTES = (
    ("distill_seconds", "distillation"),
    ("importance_seconds", "pruning: head and neuron importance"),
    ("recovery_seconds", "pruning: recovery training"),
    ("student_train_seconds", "student training"),
    ("calibration_seconds", "static int8 calibration"),
)
ADAPTATION = "adapting the baseline's head"


# ------------------------------------------------------------------ one-off seconds
@dataclass
class OneOff:
    """What one variant cost to build once, in seconds, and where."""

    variant: str
    seconds: float
    parts: dict[str, float]  # step -> seconds
    built_on: str  # the machine, in words
    cached: bool  # the build reused a cached result: its seconds are the first build's

    def describe(self) -> str:
        """ "distillation 181 s" or "nothing to train or calibrate"."""
        if not self.parts:
            return "nothing to train or calibrate"
        return " + ".join(f"{name} {secs:,.0f} s" for name, secs in self.parts.items())


def machine_label(env: dict) -> str:
    """The machine of an environment in words: a GPU's name, or the CPU model and its threads."""
    env = env or {}
    if str(env.get("device") or "cpu") in ("cuda", "mps") and env.get("gpu_name"):
        return str(env["gpu_name"])
    threads = env.get("threads") or env.get("cores")
    cpu = env.get("cpu_model") or "CPU"
    return f"{cpu} ({threads} threads)" if threads else str(cpu)


def built_on(result: dict, doc: dict | None = None) -> dict:
    """The environment of the machine that trained or calibrated ``result``: its recorded
    ``built_on`` (the baseline's ``adapt_built_on``), else the run's own environment."""
    doc = doc or {}
    if str(result.get("variant") or "") == BASELINE:
        recorded = (doc.get("baseline") or {}).get("adapt_built_on")
    else:
        notes = result.get("notes") if isinstance(result.get("notes"), dict) else {}
        recorded = (notes or {}).get("built_on")
    if isinstance(recorded, dict) and (recorded.get("cpu_model") or recorded.get("gpu_name")):
        return dict(recorded)
    return dict(doc.get("environment") or {})


def one_off(result: dict, doc: dict | None = None) -> OneOff:
    """The one-off seconds of one result (a ``VariantResult`` dict) of run document ``doc``."""
    doc = doc or {}
    variant = str(result.get("variant") or "")
    notes = result.get("notes") if isinstance(result.get("notes"), dict) else {}
    assert isinstance(notes, dict)
    parts: dict[str, float] = {}
    if variant == BASELINE:
        secs = num_or_none((doc.get("baseline") or {}).get("adapt_seconds"))
        if secs:
            parts[ADAPTATION] = secs
    else:
        for key, name in ONE_OFF_NOTES:
            value = notes.get(key)
            if key == "calibration_seconds" and value is None:
                value = result.get("calibration_seconds")
            secs = num_or_none(value)
            if secs:
                parts[name] = secs
    base = doc.get("baseline") or {}
    return OneOff(
        variant=variant,
        seconds=float(sum(parts.values())),
        parts=parts,
        built_on=machine_label(built_on(result, doc)),
        cached=bool(base.get("adapt_cached")) if variant == BASELINE else bool(notes.get("cached")),
    )


def one_offs(docs: dict | list[dict]) -> dict[str, tuple[OneOff, dict]]:
    """variant -> (its one-off, the environment it was built in), from the first run document
    that measured it."""
    out: dict[str, tuple[OneOff, dict]] = {}
    for doc in [docs] if isinstance(docs, dict) else list(docs):
        for r in doc.get("results") or []:
            if not isinstance(r, dict) or r.get("status", Status.OK) != Status.OK:
                continue
            name = str(r.get("variant") or "")
            if name and name not in out:
                out[name] = (one_off(r, doc), built_on(r, doc))
    return out


# ------------------------------------------------------------------ what an hour of it costs
@dataclass(frozen=True)
class MachineRate:
    """An hour of the machine that built a variant (or of the cloud instance the user picked)."""

    hourly_usd: float
    option: str  # the catalogue instance the price comes from
    label: str  # what is priced, in words
    price_source: str
    price_date: str
    estimate: str  # why the figure is an estimate; "" when it is the instance's own price
    picked: bool = False  # the user chose the instance

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def caption(self) -> str:
        """ "2 vCPUs at c6i.xlarge's rate ($0.0850/h; skypilot-catalog v7 aws, 2025-05)"."""
        text = (
            f"{self.label} ({fmt_usd(self.hourly_usd)}/h; {self.price_source}, {self.price_date})"
        )
        return text + (f"; estimate: {self.estimate}" if self.estimate else "")


def _is_arm(text: str) -> bool:
    t = str(text or "").lower()
    return any(k in t for k in ("arm", "graviton", "neoverse", "ampere", "apple"))


def _cloud_rows(catalog: Catalog) -> pd.DataFrame:
    df = catalog.cloud.copy()
    df["accelerator_count"] = pd.to_numeric(df.get("accelerator_count"), errors="coerce").fillna(0)
    df["on_demand_usd_per_hour"] = pd.to_numeric(df["on_demand_usd_per_hour"], errors="coerce")
    df["vcpus"] = pd.to_numeric(df["vcpus"], errors="coerce")
    return df


def _date(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def machine_rate(env: dict, catalog: Catalog, option: str | None = None) -> MachineRate:
    """What an hour of the machine in ``env`` costs, from the catalogue; ``option``: price an
    hour of that cloud instance instead (the build time measured here, at its rate)."""
    df = _cloud_rows(catalog)
    here = machine_label(env)
    if option:
        row = df[df["instance"] == option]
        if row.empty:
            names = ", ".join(df["instance"].head(8))
            raise UserError(
                f"Unknown cloud instance '{option}' to price the one-off cost on; the catalogue "
                f"has e.g. {names}."
            )
        r = row.iloc[0]
        return MachineRate(
            float(r["on_demand_usd_per_hour"]),
            option,
            f"{option} (picked)",
            str(r["price_source"]),
            _date(r["price_date"]),
            f"the build time measured on {here}, priced at {option}'s hourly rate: on {option} "
            "the build would take a different time",
            picked=True,
        )
    device = str((env or {}).get("device") or "cpu")
    if device == "cuda":
        return _gpu_rate(df, env, here)
    if device != "cpu":
        raise UserError(
            f"No catalogue instance prices {here}: pick a cloud instance to price the one-off "
            "cost on."
        )
    return _cpu_rate(df, env, here)


def _gpu_rate(df: pd.DataFrame, env: dict, here: str) -> MachineRate:
    key = hardware_key(str(env.get("gpu_name") or ""))
    gpus = df[df["accelerator_count"] > 0].copy()
    gpus = gpus[[hardware_key(str(m or "")) == key for m in gpus["accelerator_model"]]]
    if gpus.empty:
        raise UserError(
            f"No catalogue instance has the GPU that built it ({here}): pick a cloud instance "
            "to price the one-off cost on."
        )
    gpus["per_gpu"] = gpus["on_demand_usd_per_hour"] / gpus["accelerator_count"]
    r = gpus.sort_values(["accelerator_count", "per_gpu"]).iloc[0]
    count = int(r["accelerator_count"])
    label = f"one {r['accelerator_model']} of {r['instance']}" if count > 1 else str(r["instance"])
    return MachineRate(
        float(r["per_gpu"]),
        str(r["instance"]),
        label,
        str(r["price_source"]),
        _date(r["price_date"]),
        f"{here} priced as the catalogue's cheapest instance with that GPU"
        + (f" (1/{count} of its price)" if count > 1 else ""),
    )


def _cpu_rate(df: pd.DataFrame, env: dict, here: str) -> MachineRate:
    from lib.cost.projection import cpu_matches

    threads = int(num_or_none(env.get("threads")) or num_or_none(env.get("cores")) or 1)
    cpus = df[(df["accelerator_count"] == 0) & df["vcpus"].gt(0)].copy()
    if cpus.empty:
        raise UserError("The catalogue has no CPU instance to price the build on.")
    cpus["per_vcpu"] = cpus["on_demand_usd_per_hour"] / cpus["vcpus"]
    cpu_model = str(env.get("cpu_model") or "")
    same = cpus[[bool(m) and cpu_matches(cpu_model, str(m)) for m in cpus["cpu_match"].fillna("")]]
    if same.empty:
        arm = _is_arm(cpu_model)
        pool = cpus[[_is_arm(str(c)) == arm for c in cpus["cpu"].fillna("")]]
        pool = pool if not pool.empty else cpus
        r = pool.sort_values("per_vcpu").iloc[0]
        why = (
            f"no catalogue instance has this CPU ({cpu_model or 'unknown'}): its {threads} "
            f"thread(s) priced as vCPUs at the cheapest {'Arm' if arm else 'x86'} $/vCPU in the "
            f"catalogue ({r['instance']}, {fmt_usd(float(r['on_demand_usd_per_hour']))}/h for "
            f"{float(r['vcpus']):g} vCPUs)"
        )
    else:
        r = same.sort_values("per_vcpu").iloc[0]
        why = (
            f"{threads} thread(s) priced as vCPUs: {threads}/{float(r['vcpus']):g} of "
            f"{r['instance']}'s price"
        )
    return MachineRate(
        float(r["per_vcpu"]) * threads,
        str(r["instance"]),
        f"{threads} vCPUs at {r['instance']}'s rate",
        str(r["price_source"]),
        _date(r["price_date"]),
        why,
    )


def one_off_usd(seconds: float, rate: MachineRate) -> float:
    """seconds / 3600 x $/h."""
    return float(seconds) / 3600.0 * rate.hourly_usd


# ------------------------------------------------------------------ payback
def payback_months(one_off: float, monthly_saving: float) -> float:
    """Months until the saving repays the one-off: 0 with nothing to repay and a saving;
    ``inf`` when the variant saves nothing or costs more to serve; NaN when either is unknown."""
    if math.isnan(num(one_off)) or math.isnan(num(monthly_saving)):
        return math.nan
    if monthly_saving <= 0:
        return math.inf
    return max(0.0, float(one_off)) / float(monthly_saving)


def payback_text(months: float) -> str:
    """ "in 3 minutes", "in 5 hours", "in 12 days", "in 2.5 months", "at once", "never", ""."""
    m = num(months)
    if math.isnan(m):
        return ""
    if math.isinf(m):
        return "never"
    if m == 0:
        return "at once"
    minutes = m * HOURS_PER_MONTH * 60
    if minutes < 1:
        return "in under a minute"
    if minutes < 90:
        return f"in {minutes:.0f} minute{'s' if round(minutes) != 1 else ''}"
    hours = minutes / 60
    if hours < 48:
        return f"in {hours:.0f} hours"
    days = hours / 24
    if days < 60:
        return f"in {days:.0f} days"
    return f"in {m:,.1f} months"


def payback_frame(
    docs: dict | list[dict],
    table: pd.DataFrame,
    rate: MachineRate | None = None,
    catalog: Catalog | None = None,
    pricing: str = "on_demand",
    baseline: str = BASELINE,
) -> pd.DataFrame:
    """One row per variant x option of the cost ``table`` (``lib.cost.table.cost_table`` of the
    same ``docs``): its one-off seconds and $, its monthly bill and the baseline's on that
    option, the monthly saving and the payback.

    ``rate``: what an hour of building costs (default: ``machine_rate`` of the machine each
    variant was built on, from ``catalog``)."""
    from lib.cost.catalog import load_catalog

    builds = one_offs(docs)
    col = "monthly_usd" if pricing == "on_demand" else f"monthly_usd_{pricing}"
    rates: dict[str, MachineRate] = {}
    rows = []
    cat = catalog
    base_monthly = {
        r["option"]: num(r.get(col)) for _, r in table[table["variant"] == baseline].iterrows()
    }
    for _, r in table.iterrows():
        variant = str(r["variant"])
        if variant not in builds:
            continue
        build, env = builds[variant]
        if rate is not None:
            here = rate
        else:
            label = machine_label(env)
            if label not in rates:
                cat = cat or load_catalog()
                rates[label] = machine_rate(env, cat)
            here = rates[label]
        usd = one_off_usd(build.seconds, here)
        monthly = num(r.get(col))
        base = base_monthly.get(r["option"], math.nan)
        saving = base - monthly
        is_base = variant == baseline
        months = math.nan if is_base else payback_months(usd, saving)
        rows.append(
            {
                "variant": variant,
                "option": r["option"],
                "option_kind": r.get("option_kind", ""),
                "requests_per_day": r.get("requests_per_day"),
                "one_off_seconds": build.seconds,
                "one_off_parts": build.describe(),
                "one_off_cached": build.cached,
                "built_on": build.built_on,
                "one_off_usd": usd,
                "rate_usd_per_hour": here.hourly_usd,
                "rate_label": here.label,
                "rate_source": here.price_source,
                "rate_date": here.price_date,
                "rate_estimate": here.estimate,
                "monthly_usd": monthly,
                "baseline_monthly_usd": base,
                "monthly_saving_usd": math.nan if is_base else saving,
                "instances_needed": r.get("instances_needed"),
                "payback_months": months,
                "payback": "" if is_base else payback_text(months),
            }
        )
    return pd.DataFrame(rows)


def add_payback_columns(
    table: pd.DataFrame, docs: dict | list[dict], rate: MachineRate | None = None, catalog=None
) -> pd.DataFrame:
    """The cost table with ``one_off_usd``, ``monthly_saving_usd`` and ``payback_months`` on
    every row (for ``python -m lib cost --json``)."""
    pay = payback_frame(docs, table, rate, catalog)
    out = table.copy()
    for c in ("one_off_usd", "monthly_saving_usd", "payback_months"):
        out[c] = math.nan
    if pay.empty:
        return out
    keyed = pay.set_index(["variant", "option"])
    for i, r in out.iterrows():
        k = (r["variant"], r["option"])
        if k in keyed.index:
            p = keyed.loc[k]
            for c in ("one_off_usd", "monthly_saving_usd", "payback_months"):
                out.at[i, c] = p[c]
    return out


def payback_sentence(row: pd.Series | dict, baseline: str = BASELINE) -> str:
    """One sentence on a payback row: "distill:3 cost $0.04 to train once and saves $420 a
    month on c7i.2xlarge: pays back in 3 minutes." (or why it never does)."""
    r = dict(row)
    variant, option = r["variant"], r["option"]
    usd = num(r.get("one_off_usd"))
    saving = num(r.get("monthly_saving_usd"))
    months = num(r.get("payback_months"))
    if variant == baseline:
        return (
            f"{variant} cost {fmt_usd(usd)} to adapt once ({r.get('one_off_parts')}); every "
            "variant starts from it."
        )
    parts = str(r.get("one_off_parts") or "")
    verb = (
        "calibrate" if parts.startswith("static int8 calibration") and "+" not in parts else "train"
    )
    built = (
        f"cost {fmt_usd(usd)} to {verb} once" if usd > 0 else "has nothing to train or calibrate"
    )

    if math.isnan(saving):
        return f"{variant} {built}; its serving cost on {option} is unknown, so no payback."
    if saving > 0:
        return (
            f"{variant} {built} and saves {fmt_usd(saving)} a month on {option}: "
            f"pays back {payback_text(months)}."
        )
    if saving == 0:
        count = num_or_none(r.get("instances_needed"))
        same = (
            f" (both need {count:.0f} instance{'s' if count != 1 else ''})"
            if count is not None
            else ""
        )
        return (
            f"{variant} {built} and saves nothing a month on {option} at this volume{same}: it "
            "never pays back here; its saving is spare capacity until the volume grows."
        )
    return (
        f"{variant} {built} and costs {fmt_usd(-saving)} a month more to serve than {baseline} "
        f"on {option}: it never pays back."
    )
