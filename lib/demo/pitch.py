"""The demo's story as numbers: which recorded run matches the visitor's machine, the one answer
(the variant to ship for a stated target, how much faster, the monthly bill before and after at
a stated volume) and what changes from one kind of CPU to another.

Pure functions over run documents (``lib.demo.story`` loads them); the Demo page only draws.
Everything here is computed from the recorded measurements and the price catalogue: nothing is
typed in. A kind of CPU is named by what decides the speed of the techniques: bf16 in hardware
(half precision) and VNNI (int8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.errors import UserError
from lib.format import fmt_ms, fmt_times, fmt_usd, is_missing, num
from lib.measure.environment import cpu_model_and_flags, hardware_label
from lib.results.frame import BASELINE, frame_batch_sizes, to_frame

BF16_FLAGS = frozenset({"AVX512-BF16", "AMX-BF16"})
VNNI_FLAGS = frozenset({"AVX512-VNNI", "AVX-VNNI", "AMX-INT8"})

CPU_KINDS = {
    "bf16": "a CPU with bf16 and int8 in hardware (AVX512-BF16/AMX, VNNI)",
    "vnni": "a CPU with int8 (VNNI) but no bf16 in hardware",
    "avx2": "an AVX2-only CPU (no bf16, no VNNI)",
    "gpu": "a GPU",
    "unknown": "a machine whose instruction sets were not recorded",
}
SHORT_KINDS = {
    "bf16": "AVX512-BF16/AMX",
    "vnni": "AVX512-VNNI, no bf16",
    "avx2": "AVX2 only",
    "gpu": "GPU",
    "unknown": "unknown CPU",
}
# Short names for the one-sentence contrast between kinds.
CONTRAST_KINDS = {
    "bf16": "a CPU with bf16 in hardware (AVX512-BF16/AMX)",
    "vnni": "a VNNI CPU without bf16",
    "avx2": "an AVX2-only CPU (no bf16)",
    "gpu": "a GPU",
    "unknown": "an unrecorded CPU",
}
# When no demo run was recorded on the visitor's kind of machine: the closest kinds, in order.
# A VNNI-without-bf16 CPU does int8 like the bf16 kind but half like AVX2; int8 is what the
# story leads with, so the bf16 kind comes first.
NEAREST = {
    "bf16": ["vnni", "avx2"],
    "vnni": ["bf16", "avx2"],
    "avx2": ["vnni", "bf16"],
    "gpu": ["bf16", "vnni", "avx2"],
    "unknown": ["bf16", "vnni", "avx2"],
}
# The volume the money screen states unless the visitor picks another.
DEFAULT_REQUESTS_PER_DAY = 20_000_000
VOLUMES = (1_000_000, 5_000_000, 20_000_000, 100_000_000)
# "The same accuracy": within this many points of the baseline, as the Compare page's default.
MAX_LOSS_PTS = 1.0
# Rented CPU machines priced in the story ("hardware like yours"); the first is the headline.
CPU_OPTIONS = ("c7i.2xlarge", "c6i.2xlarge")


def cpu_kind(environment: dict | None) -> str:
    """The kind of machine a run measured on, from its recorded environment."""
    env = environment or {}
    if env.get("device") in ("cuda", "mps"):
        return "gpu"
    flags = set(env.get("cpu_flags") or [])
    if not flags:
        return "unknown"
    if flags & BF16_FLAGS:
        return "bf16"
    if flags & VNNI_FLAGS:
        return "vnni"
    return "avx2" if "AVX2" in flags else "unknown"


def this_machine_kind() -> str:
    """The visitor's kind of machine (this CPU's flags; the demo never needs a GPU)."""
    _, flags = cpu_model_and_flags()
    return cpu_kind({"cpu_flags": flags, "device": "cpu"})


def volume_text(requests_per_day: float) -> str:
    """1,000,000 -> '1M', 20,000,000 -> '20M'."""
    if requests_per_day >= 1e6:
        return f"{requests_per_day / 1e6:g}M"
    return f"{requests_per_day / 1e3:g}k" if requests_per_day >= 1e3 else f"{requests_per_day:g}"


def _ok_count(doc: dict) -> int:
    return sum(
        1 for r in doc.get("results") or [] if isinstance(r, dict) and r.get("status") == "ok"
    )


@dataclass
class StoryRuns:
    """The run the story is told from, and how it relates to the visitor's machine."""

    primary: dict
    kind: str  # the kind of machine the primary run measured on
    here: str  # the visitor's kind
    matched: bool  # the primary run was recorded on a machine like the visitor's
    same_kind: list[dict] = field(default_factory=list)  # other runs of the primary's kind
    other_kinds: list[dict] = field(default_factory=list)

    @property
    def note(self) -> str:
        where = describe_run(self.primary)
        if self.matched:
            return f"Recorded on {where} ({SHORT_KINDS[self.kind]}), a CPU like this one."
        return (
            f"No demo run was recorded on {CPU_KINDS[self.here]} like this one; showing the "
            f"closest, recorded on {where} ({CPU_KINDS[self.kind]})."
        )


def describe_run(doc: dict) -> str:
    env = doc.get("environment") or {}
    extra = doc.get("baseline") or {}
    hardware = extra.get("recorded_on") or (hardware_label(env) if env else "unknown hardware")
    date = extra.get("recorded_at") or str(env.get("date") or doc.get("created_at") or "")[:10]
    return f"{hardware}, {date}" if date else str(hardware)


def story_runs(docs: list[dict], here: str) -> StoryRuns | None:
    """The run that tells the story on the visitor's kind of machine: among the runs recorded
    on that kind (else the nearest kind), the one with the most finished variants (ties: the
    newest). None when no run has a finished variant."""
    usable = [d for d in docs if _ok_count(d) > 0]
    if not usable:
        return None
    by_kind: dict[str, list[dict]] = {}
    for d in usable:
        by_kind.setdefault(cpu_kind(d.get("environment")), []).append(d)
    order = [here, *NEAREST.get(here, []), *sorted(by_kind)]
    kind = next(k for k in order if k in by_kind)
    runs = sorted(
        by_kind[kind],
        key=lambda d: (_ok_count(d), str((d.get("environment") or {}).get("date") or "")),
        reverse=True,
    )
    others = [d for k, ds in by_kind.items() if k != kind for d in ds]
    return StoryRuns(runs[0], kind, here, kind == here, runs[1:], others)


# ------------------------------------------------------------------ the answer
@dataclass
class Pitch:
    """The one answer of the demo's first screen, with every number it rests on."""

    target: str
    baseline: str = BASELINE
    variant: str | None = None
    accuracy_base: float | None = None
    accuracy_pick: float | None = None
    delta_pts: float | None = None
    significant: bool = False
    speedup: float | None = None
    speedup_batch: int | None = None
    goodput_ratio: float | None = None
    slo: str | None = None
    option: str | None = None
    instances_before: int | None = None
    instances_after: int | None = None
    monthly_before: float | None = None
    monthly_after: float | None = None
    cost_basis: str | None = None
    projected: bool = False  # the machine priced was not the one measured: an estimate
    price_source: str | None = None
    price_date: str | None = None
    requests_per_day: float = DEFAULT_REQUESTS_PER_DAY
    frontier: list[str] = field(default_factory=list)
    reason: str | None = None  # why there is no pick, when there is none

    @property
    def headline(self) -> str:
        """'Same accuracy, 5.1x faster, $261 instead of $782 a month.'"""
        if self.variant is None:
            return self.reason or "No variant keeps the accuracy: the original is the answer."
        parts = [_upper_first(self.accuracy_words)]
        if self.speedup is not None:
            parts.append(f"{fmt_times(self.speedup)} faster")
        if self.saves:
            parts.append(
                f"{dollars(self.monthly_after)} instead of {dollars(self.monthly_before)} a month"
            )
        return ", ".join(parts) + "."

    @property
    def accuracy_words(self) -> str:
        if self.delta_pts is None:
            return "accuracy not measured"
        if abs(self.delta_pts) < 0.05:
            return "the same accuracy"
        word = "gains" if self.delta_pts > 0 else "loses"
        sig = "significant" if self.significant else "not significant"
        same = "the same accuracy" if not self.significant else "nearly the same accuracy"
        return f"{same} ({word} {abs(self.delta_pts):.1f} points, {sig})"

    @property
    def saves(self) -> bool:
        """The pick's monthly bill is lower than the baseline's at this volume."""
        return (
            self.monthly_before is not None
            and self.monthly_after is not None
            and self.monthly_after < self.monthly_before
        )

    @property
    def saving_share(self) -> float | None:
        if not self.monthly_before or self.monthly_after is None:
            return None
        return 1 - self.monthly_after / self.monthly_before


def _speedup(row: pd.Series, batch: int) -> float | None:
    v = num(row.get(f"speedup_vs_fp32_b{batch}"))
    return None if is_missing(v) else float(v)


def _monthly(table: pd.DataFrame, variant: str, option: str) -> pd.Series | None:
    rows = table[(table["variant"] == variant) & (table["option"] == option)]
    if rows.empty:
        return None
    r = rows.iloc[0]
    if r.get("applicable") is False or is_missing(num(r.get("monthly_usd"))):
        return None
    return r


def pitch(
    doc: dict,
    requests_per_day: float = DEFAULT_REQUESTS_PER_DAY,
    max_loss_pts: float = MAX_LOSS_PTS,
    options: tuple[str, ...] = CPU_OPTIONS,
    catalog=None,
) -> Pitch:
    """The variant to ship from one run: among the variants within ``max_loss_pts`` of the
    baseline's accuracy, the one whose monthly bill on the headline CPU machine is lowest at
    ``requests_per_day`` (ties: the faster at the largest batch measured, then the more
    accurate), with its speed-up and the bill before and after."""
    from lib.compare.frame import catalog_for
    from lib.cost.catalog import load_catalog
    from lib.cost.formulas import CostAssumptions
    from lib.cost.table import cost_table

    target = f"accuracy within {max_loss_pts:g} point of {BASELINE}"
    frame = to_frame([r for r in doc.get("results") or [] if isinstance(r, dict)])
    ok = frame[frame["status"] == "ok"] if not frame.empty else frame
    p = Pitch(target=target, requests_per_day=requests_per_day)
    base = ok[ok["variant"] == BASELINE] if not ok.empty else ok
    if base.empty:
        p.reason = f"The {BASELINE} baseline did not finish in this run: nothing to compare with."
        return p
    b = base.iloc[0]
    sizes = frame_batch_sizes(frame)
    batch = sizes[-1] if sizes else None
    p.speedup_batch = batch
    p.accuracy_base = None if is_missing(num(b["accuracy"])) else float(b["accuracy"])

    try:
        catalog = catalog_for(catalog or load_catalog(), list(options))
        table = cost_table(doc, catalog, CostAssumptions(requests_per_day=requests_per_day))
    except Exception:  # noqa: BLE001 - the story still tells speed and accuracy without prices
        table = None
    option = options[0]
    keepers = ok[
        (ok["variant"] != BASELINE) & (ok["accuracy_delta_pts"].fillna(-math.inf) >= -max_loss_pts)
    ]
    candidates = []
    for _, r in keepers.iterrows():
        cost = _monthly(table, r["variant"], option) if table is not None else None
        monthly = float(cost["monthly_usd"]) if cost is not None else math.inf
        speed = _speedup(r, batch) if batch else None
        if speed is not None and speed < 1.05:
            continue  # keeps the accuracy but is no faster: not an answer
        candidates.append((monthly, -(speed or 0.0), -(num(r["accuracy"]) or 0.0), r, cost))
    if not candidates:
        p.reason = (
            f"No optimised variant in this run is faster than {BASELINE} while keeping accuracy "
            f"within {max_loss_pts:g} point of it: the original is the answer here."
        )
        return p
    candidates.sort(key=lambda c: c[:3])
    _, _, _, r, cost = candidates[0]
    p.variant = str(r["variant"])
    p.accuracy_pick = None if is_missing(num(r["accuracy"])) else float(r["accuracy"])
    delta = num(r["accuracy_delta_pts"])
    p.delta_pts = None if is_missing(delta) else float(delta)
    pv = num(r.get("p_value_vs_baseline"))
    p.significant = not is_missing(pv) and pv < 0.05
    p.speedup = _speedup(r, batch) if batch else None
    base_cost = _monthly(table, BASELINE, option) if table is not None else None
    if cost is not None and base_cost is not None:
        p.option = option
        p.monthly_before = float(base_cost["monthly_usd"])
        p.monthly_after = float(cost["monthly_usd"])
        p.instances_before = _int(base_cost.get("instances_needed"))
        p.instances_after = _int(cost.get("instances_needed"))
        p.cost_basis = str(cost.get("basis_label") or cost.get("basis") or "")
        p.projected = str(cost.get("throughput_source") or "") != "measured"
        p.price_source = _text(cost.get("price_source"))
        p.price_date = _text(cost.get("price_date"))
        bg, cg = num(base_cost.get("goodput_qps")), num(cost.get("goodput_qps"))
        if cost.get("basis") == "goodput" and not is_missing(bg) and not is_missing(cg) and bg > 0:
            p.goodput_ratio = float(cg / bg)
            pct = num(cost.get("slo_percentile"))
            slo = num(cost.get("slo_ms"))
            if not is_missing(slo):
                p.slo = f"p{pct:g} ≤ {slo:g} ms" if not is_missing(pct) else f"≤ {slo:g} ms"
    return p


def dollars(x: float | None) -> str:
    """A monthly bill in whole dollars ($782); small bills keep their cents."""
    if x is not None and x < 0:
        return "-" + dollars(-x)
    return fmt_usd(x) if x is None or x < 100 else f"${x:,.0f}"


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _int(value: Any) -> int | None:
    v = num(value)
    return None if is_missing(v) else int(v)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def money_sentence(p: Pitch) -> str | None:
    """'At 20M requests a day on c7i.2xlarge: 1 machine ($261 a month) instead of 3 ($782).'"""
    if p.monthly_before is None or p.monthly_after is None or p.option is None:
        return None

    def machines(n: int | None) -> str:
        return "" if n is None else f"{n} machine{'s' if n != 1 else ''} "

    if not p.saves:
        return (
            f"At {volume_text(p.requests_per_day)} requests a day, {machines(p.instances_before)}"
            f"on {p.option} ({dollars(p.monthly_before)} a month"
            f"{', projected' if p.projected else ''}) serves {p.baseline} as well: "
            "the saving shows at a higher volume."
        )
    text = (
        f"At {volume_text(p.requests_per_day)} requests a day on {p.option}"
        f"{' (projected from this run)' if p.projected else ''}: "
        f"{machines(p.instances_after)}({dollars(p.monthly_after)} a month) instead of "
        f"{machines(p.instances_before)}({dollars(p.monthly_before)}) for {p.baseline}"
    )
    if p.saving_share is not None and p.saving_share > 0:
        text += f", {p.saving_share:.0%} less"
    return text + "."


def payback_line(doc: dict, p: Pitch, catalog=None) -> tuple[str, str] | None:
    """What the pick cost to build once and how soon the saving in ``money_sentence`` repays it:
    ("distill:3+... cost $0.01 to train once and saves $521 a month on c7i.2xlarge: pays back in
    under a minute.", where that one-off comes from). Priced on the machine that built it
    (``lib.cost.payback``); None without a pick or its bills."""
    from lib.cost import payback as pb
    from lib.cost.catalog import load_catalog

    if not p.variant or p.monthly_before is None or p.monthly_after is None or not p.option:
        return None
    builds = pb.one_offs(doc)
    if p.variant not in builds:
        return None
    build, env = builds[p.variant]
    try:
        rate = pb.machine_rate(env, catalog or load_catalog())
    except UserError:  # a machine the catalogue cannot price (an Apple GPU): no sentence
        return None
    usd = pb.one_off_usd(build.seconds, rate)
    saving = p.monthly_before - p.monthly_after
    row = {
        "variant": p.variant,
        "option": p.option,
        "one_off_usd": usd,
        "one_off_parts": build.describe(),
        "monthly_saving_usd": saving,
        "payback_months": pb.payback_months(usd, saving),
    }
    detail = (
        f"One-off: {build.describe()} on {build.built_on}, priced at {rate.caption()}."
        if build.seconds > 0
        else ""
    )
    return pb.payback_sentence(row, p.baseline), detail


# ------------------------------------------------------------------ what changes with the CPU
def _variant_speedup(doc: dict, variant: str) -> tuple[float, int] | None:
    frame = to_frame([r for r in doc.get("results") or [] if isinstance(r, dict)])
    if frame.empty:
        return None
    rows = frame[(frame["variant"] == variant) & (frame["status"] == "ok")]
    sizes = frame_batch_sizes(frame)
    if rows.empty or not sizes:
        return None
    s = _speedup(rows.iloc[0], sizes[-1])
    return (s, sizes[-1]) if s is not None else None


def hardware_contrast(docs: list[dict], variant: str = "half") -> str | None:
    """One sentence on how ``variant``'s speed changes from one kind of CPU to another, from
    the recorded runs (None unless two kinds measured it), e.g. "On an AVX2-only CPU half ran
    5.9x slower than fp32; on a CPU with bf16 in hardware 3.3x faster: measure on your
    hardware."."""
    seen: dict[str, tuple[float, int, str]] = {}
    for d in docs:
        kind = cpu_kind(d.get("environment"))
        s = _variant_speedup(d, variant)
        if s is not None and kind not in seen and kind != "unknown":
            seen[kind] = (*s, describe_run(d))
    if len(seen) < 2:
        return None
    parts, batches = [], set()
    for kind, (speed, batch, _) in sorted(seen.items(), key=lambda kv: kv[1][0]):
        how = (
            f"{fmt_times(speed)} faster than {BASELINE}"
            if speed >= 1.05
            else (
                f"{fmt_times(1 / speed)} slower than {BASELINE}"
                if speed <= 1 / 1.05
                else f"about as fast as {BASELINE}"
            )
        )
        parts.append(f"{how} on {CONTRAST_KINDS[kind]}")
        batches.add(batch)
    at = f" (batch {batches.pop()})" if len(batches) == 1 else ""
    return f"{variant} depends on the chip{at}: " + ", ".join(parts) + ": measure on your hardware."


# ------------------------------------------------------------------ the trade-off, in one line
def batch_sizes(doc: dict) -> list[int]:
    """The batch sizes a run measured, smallest first."""
    return frame_batch_sizes(to_frame([r for r in doc.get("results") or [] if isinstance(r, dict)]))


def fastest(doc: dict) -> tuple[str, float] | None:
    """The variant with the lowest median time per batch at the largest batch, and that time."""
    frame = to_frame([r for r in doc.get("results") or [] if isinstance(r, dict)])
    sizes = frame_batch_sizes(frame)
    if frame.empty or not sizes:
        return None
    col = f"p50_ms_b{sizes[-1]}"
    ok = frame[(frame["status"] == "ok") & frame[col].notna()]
    if ok.empty:
        return None
    r = ok.sort_values(col).iloc[0]
    return str(r["variant"]), float(r[col])


def tradeoff_sentence(df: pd.DataFrame, max_loss_pts: float = MAX_LOSS_PTS) -> str:
    """The trade-off chart's message, from the very numbers it draws (a ``compare_frame`` of one
    run at one batch size): the fastest variant at p95 that keeps accuracy within
    ``max_loss_pts`` of the baseline. Being the fastest of those, it is on the frontier."""
    ok = df[(df["status"] == "ok") & df["p95_ms"].notna()] if not df.empty else df
    if ok.empty:
        return "No variant finished with a latency measured."
    ok = ok.drop_duplicates(subset=["run_id", "variant"])
    batch = int(ok["latency_batch"].iloc[0])
    base = ok[ok["variant"] == BASELINE]
    if base.empty:
        return f"The {BASELINE} baseline was not measured in this run."
    b = base.iloc[0]
    keep = ok[
        (ok["variant"] != BASELINE) & (ok["accuracy_delta_pts"].fillna(-math.inf) >= -max_loss_pts)
    ]
    if keep.empty or keep["p95_ms"].min() >= b["p95_ms"] / 1.05:
        return (
            f"At batch {batch}, no version that keeps accuracy within {max_loss_pts:g} point of "
            f"{BASELINE} is faster than it ({fmt_ms(b['p95_ms'])} p95)."
        )
    r = keep.sort_values(["p95_ms", "accuracy"], ascending=[True, False]).iloc[0]
    delta = num(r["accuracy_delta_pts"])
    pv = num(r.get("p_value_vs_baseline"))
    sig = "significant" if not is_missing(pv) and pv < 0.05 else "not significant"
    acc = (
        "with the same accuracy"
        if is_missing(delta) or abs(delta) < 0.05
        else f"{'gaining' if delta > 0 else 'losing'} {abs(delta):.1f} points ({sig})"
    )
    return (
        f"At batch {batch}, {r['variant']} answers in {fmt_ms(r['p95_ms'])} (p95), "
        f"{fmt_times(b['p95_ms'] / r['p95_ms'])} faster than {BASELINE} "
        f"({fmt_ms(b['p95_ms'])}), {acc}: the fastest version within {max_loss_pts:g} "
        "point of the original's accuracy."
    )


def monthly_bills(
    doc: dict,
    requests_per_day: float = DEFAULT_REQUESTS_PER_DAY,
    options: tuple[str, ...] = CPU_OPTIONS,
    catalog=None,
) -> pd.DataFrame:
    """The monthly bill of every finished variant on each option at ``requests_per_day``: one
    row per (variant, option) with the machines needed and whether it is a projection. Rows a
    machine cannot serve (a CPU-only runtime on a GPU) are left out."""
    from lib.compare.frame import catalog_for
    from lib.cost.catalog import load_catalog
    from lib.cost.formulas import CostAssumptions
    from lib.cost.table import cost_table

    catalog = catalog_for(catalog or load_catalog(), list(options))
    table = cost_table(doc, catalog, CostAssumptions(requests_per_day=requests_per_day))
    keep = table[(table["applicable"] != False) & table["monthly_usd"].notna()]  # noqa: E712
    out = pd.DataFrame(
        {
            "variant": keep["variant"],
            "option": keep["option"],
            "monthly_usd": keep["monthly_usd"].astype(float),
            "instances": keep["instances_needed"],
            "projected": keep["throughput_source"].astype(str) != "measured",
            "basis": keep["basis_label"].astype(str),
            "price_source": keep["price_source"].astype(str),
            "price_date": keep["price_date"].astype(str),
        }
    )
    return out.reset_index(drop=True)


def cheapest_sentence(bills: pd.DataFrame, p: Pitch) -> str | None:
    """Where the lowest bill of all lies, when it is not the pick on the headline machine (an
    owned GPU can undercut every CPU): 'The lowest bill of all at 20M requests a day: fp32 on
    L4 (owned), $254 a month (projected).'"""
    if bills.empty:
        return None
    # On a tie the original wins: no optimisation is needed to get that bill.
    ranked = bills.assign(_bill=bills["monthly_usd"].round(2), _opt=bills["variant"] != p.baseline)
    best = ranked.sort_values(["_bill", "_opt"]).iloc[0]
    if p.monthly_after is not None and best["monthly_usd"] >= p.monthly_after - 0.5:
        return None
    text = (
        f"The lowest bill of all at {volume_text(p.requests_per_day)} requests a day: "
        f"{best['variant']} on {best['option']}, {dollars(best['monthly_usd'])} a month"
        f"{' (projected)' if best['projected'] else ''}."
    )
    if best["variant"] == p.baseline and _int(best["instances"]) == 1:
        text += " One such machine serves even the original at this volume."
    return text
