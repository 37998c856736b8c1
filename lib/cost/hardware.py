"""Where a variant can run and how fast: the hardware options of a price catalogue (cloud
instances, owned cards with their share of a server, CPU servers) and each variant's throughput
on each, measured where a run measured that hardware, else projected (``lib.cost.projection``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lib.cost.catalog import Catalog
from lib.cost.formulas import PRICINGS, CostAssumptions
from lib.cost.projection import (
    Measurement,
    Projection,
    cpu_matches,
    hardware_key,
    pick_batch,
    project_cpu,
    project_gpu,
)
from lib.errors import UserError
from lib.format import num_or_none

# Estimates for power we have no figures for (documented in docs/cost.md):
IDLE_SHARE_OF_TDP = 0.15  # a GPU idles at roughly 10-20% of its board power
CPU_W_PER_VCPU = (1.5, 5.0)  # (idle, max) W per vCPU of a cloud instance's host CPUs


@dataclass
class HardwareOption:
    """A place to run a variant: a cloud instance or owned hardware, with its prices and power."""

    name: str
    kind: str  # "cloud" or "owned"
    hourly: dict[str, float | None]  # pricing -> $/h (cloud only)
    capex_usd: float | None
    idle_w: float | None
    max_w: float | None
    vcpus: float | None
    accelerator_model: str | None
    accelerator_count: int
    cpu_match: str | None
    provider: str
    region: str
    price_source: str
    price_date: str
    price_estimate: str
    cpu: str = ""  # the host CPU in words (tells Arm from x86 when threads_per_core is blank)
    threads_per_core: float | None = None  # catalogue column; None: derived (lib.cost.goodput)


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def hardware_options(catalog: Catalog) -> list[HardwareOption]:
    """Cloud instances, then owned cards (with their server share) and CPU servers."""
    peaks = catalog.peaks.set_index("accelerator_model")
    options = []
    for _, r in catalog.cloud.iterrows():
        od = float(r["on_demand_usd_per_hour"])
        hourly: dict[str, float | None] = {"on_demand": od}
        for pricing in PRICINGS[1:]:
            m = num_or_none(r[f"{pricing}_multiplier"])
            hourly[pricing] = od * m if m else None
        model = _text(r["accelerator_model"]) or None
        count = int(num_or_none(r["accelerator_count"]) or 0)
        vcpus = float(r["vcpus"])
        idle_w: float | None
        max_w: float | None
        idle_w, max_w = vcpus * CPU_W_PER_VCPU[0], vcpus * CPU_W_PER_VCPU[1]
        if model:
            tdp = num_or_none(peaks.loc[model, "tdp_w"]) if model in peaks.index else None
            idle_w, max_w = (
                (idle_w + count * IDLE_SHARE_OF_TDP * tdp, max_w + count * tdp)
                if tdp
                else (None, None)
            )
        options.append(
            HardwareOption(
                name=r["instance"],
                kind="cloud",
                hourly=hourly,
                capex_usd=None,
                idle_w=idle_w,
                max_w=max_w,
                vcpus=vcpus,
                accelerator_model=model,
                accelerator_count=count,
                cpu_match=_text(r["cpu_match"]) or None,
                provider=r["provider"],
                region=_text(r["region"]),
                price_source=r["price_source"],
                price_date=r["price_date"].isoformat(),
                price_estimate=_text(r["estimate"]),
                cpu=_text(r["cpu"]),
                threads_per_core=num_or_none(r.get("threads_per_core")),
            )
        )
    hosts = catalog.hardware.set_index("name")
    for _, r in catalog.hardware.iterrows():
        if r["kind"] == "server":
            continue  # a chassis is part of an accelerator option, not an option of its own
        capex, idle_w, max_w = float(r["purchase_usd"]), float(r["idle_w"]), float(r["max_w"])
        source, dates, estimate = r["price_source"], [r["price_date"]], _text(r["estimate"])
        host = _text(r["host"])
        if host:  # a card needs a server: add its share of the chassis price and power
            h, share = hosts.loc[host], float(r["per_host"])
            capex += float(h["purchase_usd"]) / share
            idle_w += float(h["idle_w"]) / share
            max_w += float(h["max_w"]) / share
            source += f" + 1/{share:g} of {host} ({h['price_source']})"
            dates.append(h["price_date"])
            estimate = "; ".join(x for x in (estimate, f"{host}: {_text(h['estimate'])}") if x)
        is_card = r["kind"] == "accelerator"
        options.append(
            HardwareOption(
                name=f"{r['name']} (owned)",
                kind="owned",
                hourly={},
                capex_usd=capex,
                idle_w=idle_w,
                max_w=max_w,
                vcpus=num_or_none(r["vcpus"]),
                accelerator_model=_text(r["accelerator_model"]) if is_card else None,
                accelerator_count=1 if is_card else 0,
                cpu_match=_text(r["cpu_match"]) or None,
                provider="owned",
                region="",
                price_source=source,
                price_date=min(dates).isoformat(),
                price_estimate=estimate,
                cpu=_text(r["cpu"]),
            )
        )
    return options


# --- throughput per option ----------------------------------------------------------------------


@dataclass
class Throughput:
    """Throughput for one variant on one option, measured or projected, with its story."""

    throughput_per_s: float
    batch_size: int
    latency_ms: float | None
    meets_latency_target: bool
    source: str  # "measured" or "projected"
    assumptions: str
    projection: dict[str, Any] | None = None
    measurement: Measurement | None = None


def _from_projection(p: Projection) -> Throughput:
    return Throughput(
        throughput_per_s=p.throughput_per_s,
        batch_size=p.batch_size,
        latency_ms=p.latency_ms,
        meets_latency_target=p.meets_latency_target,
        source="projected",
        assumptions=p.summary(),
        projection=p.to_dict(),
    )


def throughput_on(
    option: HardwareOption, runs: list[Measurement], a: CostAssumptions, catalog: Catalog
) -> Throughput:
    """Measured where a run on that hardware exists, else projected. UserError when neither."""
    cpus = [m for m in runs if not m.is_gpu and m.throughput_per_s]
    gpus = [m for m in runs if m.is_gpu and m.throughput_per_s]
    target = a.latency_target_ms
    if option.accelerator_model:
        key = hardware_key(option.accelerator_model)
        same = [m for m in gpus if hardware_key(m.hardware_name) == key]
        if same:
            m = max(same, key=lambda x: max(x.throughput_per_s.values()))
            b, tput, lat, meets = pick_batch(m.throughput_per_s, m.latency_ms, target)
            n = max(option.accelerator_count, 1)
            note = f"measured on {m.hardware_name} (run {m.run_id}) at batch {b}"
            if n > 1:
                note += f"; x{n} GPUs, one model copy each"
            return Throughput(
                tput * n, b, lat, meets, "measured" if n == 1 else "projected", note, measurement=m
            )
        flops = next((m.flops_per_item for m in runs if m.flops_per_item), None)
        ref = next((m for m in runs if m.flops_per_item), runs[0])
        peaks = catalog.peaks.set_index("accelerator_model")
        if option.accelerator_model not in peaks.index:
            raise UserError(f"{option.accelerator_model} is not in the hardware peaks table.")
        p = project_gpu(
            flops,
            ref.precision,
            peaks.loc[option.accelerator_model].to_dict()
            | {"accelerator_model": option.accelerator_model},
            n_layers=ref.num_layers,
            params=ref.params,
            latency_target_ms=target,
            replicas=max(option.accelerator_count, 1),
        )
        return _from_projection(p)
    if not option.vcpus:
        raise UserError(f"{option.name} has no vCPU count: CPU throughput cannot be projected.")
    if not cpus:
        raise UserError("No CPU measurement of this variant to scale to a CPU machine.")
    same_cpu = [
        m for m in cpus if option.cpu_match and cpu_matches(m.hardware_name, option.cpu_match)
    ]
    base = same_cpu[0] if same_cpu else cpus[0]
    if same_cpu and base.threads == option.vcpus:
        b, tput, lat, meets = pick_batch(base.throughput_per_s, base.latency_ms, target)
        return Throughput(
            tput,
            b,
            lat,
            meets,
            "measured",
            f"measured on {base.hardware_name}, {base.threads} threads (run {base.run_id})",
            measurement=base,
        )
    p = project_cpu(
        base, option.vcpus, option.name, latency_target_ms=target, same_cpu=bool(same_cpu)
    )
    t = _from_projection(p)
    t.measurement = base if same_cpu else None
    return t
