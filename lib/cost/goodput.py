"""Goodput on each hardware option: measured where a load test ran there, else projected by
simulating the same dynamic batcher over the service-time curve the load test measured, scaled by
the projected speed of that hardware (``docs/cost.md``, "Cost from goodput").

Goodput is the highest Poisson-arrival rate whose tail latency (p99 by default) meets the SLO,
measured with MLPerf LoadGen by ``lib.serving`` and stored in a result's ``load_test``. Costing
from it needs no utilisation guess: a machine is worth what it serves within the SLO.

- **Measured**: the load test ran on that hardware (the same GPU, or the same CPU family with as
  many threads as the instance has vCPUs). A multi-GPU instance runs one batcher per GPU.
- **CPU instances**: replicas of the measured run, counted in physical cores, not vCPUs (most
  cloud vCPUs are SMT threads: a c7i.2xlarge's 8 vCPUs are 4 cores). Each replica serves the
  measured goodput (independent Poisson streams: a random split of Poisson arrivals is Poisson).
  An instance with fewer cores than the run's threads gets one slower replica, simulated.
- **GPUs without a load test**: the service curve's model time is divided by the speed ratio
  ``throughput(target, b) / throughput(load-tested machine, b)`` at the batcher's largest batch
  ``b`` (projected by ``lib.cost.projection`` where not measured); tokenization stays on the host
  CPU and is not scaled. The simulated goodput is multiplied by the load test's own
  measured / simulated goodput (the simulation's error here), so a speed ratio of 1 reproduces the
  measurement.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lib.cost.catalog import Catalog
from lib.cost.projection import Measurement, cpu_matches, hardware_key, project_gpu
from lib.errors import UserError
from lib.format import num_or_none

if TYPE_CHECKING:
    from lib.cost.hardware import HardwareOption

GOODPUT_MEASURED = "measured (LoadGen)"
GOODPUT_REPLICAS = "projected (replicas of the measured goodput)"
GOODPUT_SIMULATED = "projected (simulated queue)"
PEAK_LABEL = "peak throughput (offline)"

# The simulation's search: finer than the measured one (points are cheap); each point at most
# this many queries, so a cost table with a dozen accelerators simulates in seconds.
SIM_MAX_QUERIES = 4000
SIM_MAX_POINTS = 16
SIM_TOLERANCE = 0.01
SIM_OFFLINE_QUERIES = 2000
_ARM = re.compile(r"graviton|neoverse|ampere|\barm\b|\baarch64\b")


@dataclass(frozen=True)
class LoadTest:
    """What the cost model reads from a result's ``load_test`` dict."""

    slo_ms: float
    percentile: float
    goodput_qps: float
    offline_qps: float | None
    curve: dict[str, Any] | None
    max_batch: int
    max_delay_ms: float
    tokenize_share: float  # of tokenize + model time, at goodput (stays on the host CPU)
    lengths: tuple[int, ...]
    duration_s: float
    min_queries: int
    seed: int
    valid: bool | None = None

    @classmethod
    def from_dict(cls, data: Any) -> LoadTest | None:
        """None when the dict is missing or has no goodput (a load test that failed)."""
        if not isinstance(data, dict):
            return None
        goodput = num_or_none(data.get("goodput_qps"))
        slo = num_or_none(data.get("slo_ms"))
        if goodput is None or goodput < 0 or not slo:
            return None
        simulation = data.get("simulation") or {}
        curve = simulation.get("service_curve") if isinstance(simulation, dict) else None
        batcher = data.get("batcher") or {}
        settings = (data.get("loadgen") or {}).get("settings") or {}
        breakdown = data.get("breakdown_ms") or {}
        tokenize = num_or_none(breakdown.get("tokenize")) or 0.0
        model = num_or_none(breakdown.get("model")) or 0.0
        lengths = (simulation.get("lengths") if isinstance(simulation, dict) else None) or data.get(
            "token_lengths"
        )
        if not lengths and curve:
            # No request lengths stored: the curve's length grid stands in for them (the
            # anchor to the measured goodput absorbs the difference at this machine's speed).
            lengths = curve.get("lengths")
        return cls(
            slo_ms=float(slo),
            percentile=float(num_or_none(data.get("percentile")) or 99.0),
            goodput_qps=float(goodput),
            offline_qps=num_or_none((data.get("offline") or {}).get("qps")),
            curve=curve if isinstance(curve, dict) and curve.get("ms") else None,
            max_batch=int(num_or_none(batcher.get("max_batch")) or 32),
            max_delay_ms=float(num_or_none(batcher.get("max_delay_ms")) or 5.0),
            tokenize_share=tokenize / (tokenize + model) if tokenize + model > 0 else 0.0,
            lengths=tuple(int(x) for x in (lengths or [128])),
            duration_s=float(num_or_none(settings.get("min_duration_ms")) or 5000.0) / 1000,
            min_queries=int(num_or_none(settings.get("min_query_count")) or 100),
            seed=int(num_or_none(settings.get("seed")) or 0),
            valid=(data.get("loadgen") or {}).get("valid"),
        )

    @property
    def slo_text(self) -> str:
        return f"p{self.percentile:g} <= {self.slo_ms:g} ms"


def load_test_of(m: Measurement) -> LoadTest | None:
    return LoadTest.from_dict(m.load_test)


@dataclass
class Goodput:
    """Goodput of one variant on one option (all its replicas), with its story."""

    qps: float  # per instance / owned option: every replica together
    per_replica_qps: float
    replicas: float
    source: str  # GOODPUT_MEASURED, GOODPUT_REPLICAS or GOODPUT_SIMULATED
    assumptions: str
    slo_ms: float
    percentile: float
    offline_qps: float | None = None  # peak (LoadGen Offline) throughput, same scaling
    speed_ratio: float | None = None
    physical_cores: float | None = None
    threads_per_core: float | None = None
    cores_assumption: str = ""
    notes: list[str] = field(default_factory=list)


# --- physical cores ------------------------------------------------------------------------------


def threads_per_core(option: HardwareOption) -> tuple[float, str]:
    """Hardware threads per physical core of an option's CPUs, and where the figure comes from:
    the catalogue's ``threads_per_core`` column, else 1 for Arm (Graviton) and 2 for x86 (SMT)."""
    given = num_or_none(option.threads_per_core)
    if given and given > 0:
        return float(given), "catalogue"
    text = f"{option.cpu} {option.cpu_match or ''} {option.name}".lower()
    if _ARM.search(text):
        return 1.0, "Arm: one thread per core, assumed"
    return 2.0, "x86 with SMT, assumed"


def physical_cores(option: HardwareOption) -> tuple[float, float, str]:
    """``(cores, threads per core, why)`` of a CPU option."""
    if not option.vcpus:
        raise UserError(f"{option.name} has no vCPU count: its cores are unknown.")
    tpc, why = threads_per_core(option)
    return option.vcpus / tpc, tpc, why


# --- the simulation ------------------------------------------------------------------------------

_CACHE: dict[str, tuple[float, float]] = {}


def simulated_at(lt: LoadTest, factor: float) -> tuple[float, float]:
    """``(goodput, offline)`` QPS of the load test's batcher when every batch takes ``factor``
    times the measured service time. Cached: a cost table asks for few distinct factors."""
    if lt.curve is None:
        raise UserError("The load test stored no service curve: goodput cannot be simulated.")
    settings = [lt.lengths, lt.slo_ms, lt.percentile, lt.max_batch, lt.max_delay_ms]
    settings += [lt.duration_s, lt.min_queries, lt.seed]
    key = json.dumps([lt.curve, round(factor, 6), *settings], sort_keys=True, default=str)
    if key in _CACHE:
        return _CACHE[key]
    from lib.serving.goodput import search_goodput
    from lib.serving.simulate import ServiceCurve, simulate_offline, simulate_server

    base = ServiceCurve.from_dict(lt.curve)
    curve = ServiceCurve(
        base.batch_sizes,
        base.lengths,
        [[s * factor for s in row] for row in base.seconds],
        base.jitter,
        f"{base.source} x {factor:.4g}",
        overhead_s=base.overhead_s,  # LoadGen's per-query time is the host's, not scaled
    )
    lengths = list(lt.lengths)
    offline = simulate_offline(
        curve, lengths, max_batch=lt.max_batch, queries=SIM_OFFLINE_QUERIES, seed=lt.seed
    )

    def measure(qps: float) -> Any:
        return simulate_server(
            curve,
            lengths,
            qps,
            max_batch=lt.max_batch,
            max_delay_ms=lt.max_delay_ms,
            duration_s=lt.duration_s,
            min_queries=lt.min_queries,
            max_queries=SIM_MAX_QUERIES,
            seed=lt.seed,
            # One replication, not the load test's nine: a cost table simulates every
            # projected option, and the measured/simulated anchor (below) cancels most of one
            # run's luck (the ratio uses the same seed on both sides).
            replications=1,
        )

    result = search_goodput(
        measure,
        lambda p: p.latency_ms(lt.percentile) <= lt.slo_ms,
        offline,
        max_points=SIM_MAX_POINTS,
        tolerance=SIM_TOLERANCE,
    )
    if len(_CACHE) > 1024:
        _CACHE.clear()
    _CACHE[key] = (float(result.goodput_qps), float(offline))
    return _CACHE[key]


def projected_goodput(lt: LoadTest, speed_ratio: float) -> tuple[float, float, str]:
    """Per-replica ``(goodput, offline, how)`` on a machine ``speed_ratio`` times as fast at
    running the model as the load-tested one (tokenization not scaled), anchored to the measured
    goodput. Non-decreasing in ``speed_ratio`` up to the simulation's noise (seeded, so the same
    inputs give the same answer)."""
    if not speed_ratio > 0 or math.isinf(speed_ratio):
        raise UserError(f"Speed ratio must be a positive number (got {speed_ratio}).")
    factor = lt.tokenize_share + (1 - lt.tokenize_share) / speed_ratio
    here_goodput, here_offline = simulated_at(lt, 1.0)
    goodput, offline = simulated_at(lt, factor)
    anchor = lt.goodput_qps / here_goodput if here_goodput > 0 and lt.goodput_qps > 0 else 1.0
    offline_anchor = lt.offline_qps / here_offline if lt.offline_qps and here_offline > 0 else 1.0
    projected, peak = goodput * anchor, offline * offline_anchor
    how = (
        f"same batcher (max batch {lt.max_batch}, max delay {lt.max_delay_ms:g} ms) simulated "
        f"with service time x {factor:.4g} (model time / {speed_ratio:.3g}; tokenization, "
        f"{lt.tokenize_share:.0%} of it, not scaled): {goodput:.4g} QPS at {lt.slo_text}, "
        f"x {anchor:.3g} (measured / simulated goodput on the load-tested machine)"
    )
    if projected > peak:  # the two anchors differ; no queue serves more than its peak
        projected = peak
        how += f"; capped at the projected peak {peak:.4g} QPS"
    return projected, peak, how


# --- goodput per option --------------------------------------------------------------------------


def _nearest_batch(throughput: dict[int, float], max_batch: int) -> int:
    within = [b for b, t in throughput.items() if t and b <= max_batch]
    return max(within) if within else min(b for b, t in throughput.items() if t)


def _peaks_row(catalog: Catalog, gpu_name: str) -> dict[str, Any] | None:
    key = hardware_key(gpu_name)
    for _, r in catalog.peaks.iterrows():
        if hardware_key(r["accelerator_model"]) == key:
            return r.to_dict()
    return None


def _projected_tput(runs: list[Measurement], peaks: dict[str, Any], batch: int) -> float:
    ref = next((m for m in runs if m.flops_per_item), runs[0])
    p = project_gpu(
        ref.flops_per_item,
        ref.precision,
        peaks,
        n_layers=ref.num_layers,
        params=ref.params,
        latency_target_ms=None,
        replicas=1,
        batch_sizes=(batch,),
    )
    return p.throughput_per_s


def _gpu_speed_ratio(
    option: HardwareOption,
    base: Measurement,
    lt: LoadTest,
    runs: list[Measurement],
    catalog: Catalog,
) -> tuple[float, str]:
    """Throughput at the batcher's largest batch on one of the option's GPUs over the load-tested
    machine's, each measured where a run measured it, else projected."""
    b = _nearest_batch(base.throughput_per_s, lt.max_batch)
    model = str(option.accelerator_model)
    peaks = catalog.peaks.set_index("accelerator_model")
    if model not in peaks.index:
        raise UserError(f"{model} is not in the hardware peaks table.")
    target_row = peaks.loc[model].to_dict() | {"accelerator_model": model}
    key = hardware_key(model)
    on_target = [m for m in runs if m.is_gpu and hardware_key(m.hardware_name) == key]
    target_m = next((m for m in on_target if m.throughput_per_s.get(b)), None)
    if target_m is not None:
        target, target_how = target_m.throughput_per_s[b], f"measured on {target_m.hardware_name}"
    else:
        target, target_how = _projected_tput(runs, target_row, b), f"projected on {model}"
    source_row = _peaks_row(catalog, base.hardware_name) if base.is_gpu else None
    if source_row is not None and target_m is None:
        # Both projected: the projection's error on the load-tested GPU cancels out.
        source = _projected_tput(runs, source_row, b)
        source_how = f"projected on {base.hardware_name}"
    else:
        source, source_how = base.throughput_per_s[b], f"measured on {base.hardware_name}"
    ratio = target / source
    how = (
        f"speed ratio {ratio:.3g} = {target:.4g}/s ({target_how}) / {source:.4g}/s "
        f"({source_how}) at batch {b}"
    )
    return ratio, how


def goodput_on(option: HardwareOption, runs: list[Measurement], catalog: Catalog) -> Goodput | None:
    """Goodput of a variant on an option, or None when no load test applies (the row stays on
    peak throughput). UserError when a load test exists but its goodput cannot be projected."""
    tested = [(m, lt) for m in runs if (lt := load_test_of(m)) is not None]
    if not tested:
        return None
    if option.accelerator_model:
        return _goodput_on_gpu(option, tested, runs, catalog)
    return _goodput_on_cpu(option, [(m, lt) for m, lt in tested if not m.is_gpu])


def _goodput_on_gpu(
    option: HardwareOption,
    tested: list[tuple[Measurement, LoadTest]],
    runs: list[Measurement],
    catalog: Catalog,
) -> Goodput:
    n = max(option.accelerator_count, 1)
    key = hardware_key(str(option.accelerator_model))
    same = [(m, lt) for m, lt in tested if m.is_gpu and hardware_key(m.hardware_name) == key]
    if same:
        m, lt = max(same, key=lambda x: x[1].goodput_qps)
        how = f"LoadGen on {m.hardware_name} (run {m.run_id}): {lt.goodput_qps:.4g} QPS at {lt.slo_text}"
        if n > 1:
            how += f"; x{n} GPUs, one batcher each"
        offline = lt.offline_qps * n if lt.offline_qps else None
        source = GOODPUT_MEASURED if n == 1 else GOODPUT_REPLICAS
        return Goodput(
            lt.goodput_qps * n, lt.goodput_qps, n, source, how, lt.slo_ms, lt.percentile, offline
        )
    gpus = [(m, lt) for m, lt in tested if m.is_gpu and lt.curve]
    cpus = [(m, lt) for m, lt in tested if not m.is_gpu and lt.curve]
    if not gpus + cpus:
        raise UserError("The load test stored no service curve: goodput cannot be simulated.")
    base, lt = (gpus + cpus)[0]
    ratio, ratio_how = _gpu_speed_ratio(option, base, lt, runs, catalog)
    per_replica, offline, sim_how = projected_goodput(lt, ratio)
    how = f"load test on {base.hardware_name} (run {base.run_id}); {ratio_how}; {sim_how}"
    if n > 1:
        how += f"; x{n} GPUs, one batcher each"
    return Goodput(
        per_replica * n,
        per_replica,
        n,
        GOODPUT_SIMULATED,
        how,
        lt.slo_ms,
        lt.percentile,
        offline * n,
        speed_ratio=ratio,
    )


def _goodput_on_cpu(
    option: HardwareOption, tested: list[tuple[Measurement, LoadTest]]
) -> Goodput | None:
    if not tested:
        return None  # only GPU load tests: a CPU row stays on peak throughput
    cores, tpc, why = physical_cores(option)
    same = [
        (m, lt)
        for m, lt in tested
        if option.cpu_match and cpu_matches(m.hardware_name, option.cpu_match)
    ]
    m, lt = (same or tested)[0]
    threads = m.threads or 1
    where = f"LoadGen on {m.hardware_name}, {threads} threads (run {m.run_id})"
    cores_text = (
        f"{option.vcpus:g} vCPUs = {cores:g} physical cores ({tpc:g} threads per core: {why})"
    )
    if same and threads == option.vcpus:
        return Goodput(
            lt.goodput_qps,
            lt.goodput_qps,
            1,
            GOODPUT_MEASURED,
            f"{where}: {lt.goodput_qps:.4g} QPS at {lt.slo_text}",
            lt.slo_ms,
            lt.percentile,
            lt.offline_qps,
            physical_cores=cores,
            threads_per_core=tpc,
            cores_assumption=f"{cores_text}; measured on the whole instance",
        )
    # The run's threads in cores: on the same CPU family they were that family's vCPUs; on
    # another machine each thread is counted as a core.
    run_cores = threads / tpc if same else float(threads)
    run_text = (
        f"the {threads}-thread run = {run_cores:g} cores of the same CPU"
        if same
        else f"each of the run's {threads} threads counted as a core"
    )
    if cores >= run_cores:
        replicas = math.floor(cores / run_cores + 1e-9)
        offline = lt.offline_qps * replicas if lt.offline_qps else None
        return Goodput(
            lt.goodput_qps * replicas,
            lt.goodput_qps,
            replicas,
            GOODPUT_REPLICAS,
            f"{where}: {lt.goodput_qps:.4g} QPS at {lt.slo_text} per replica x {replicas} "
            f"replica{'s' if replicas != 1 else ''} (CPU model ignored)",
            lt.slo_ms,
            lt.percentile,
            offline,
            speed_ratio=1.0,
            physical_cores=cores,
            threads_per_core=tpc,
            cores_assumption=f"{cores_text}; {run_text}: {replicas} replica"
            + ("s" if replicas != 1 else "")
            + "; the peak figure counts vCPUs",
        )
    ratio = cores / run_cores  # one replica on fewer cores than the run had: slower
    per_replica, offline_sim, sim_how = projected_goodput(lt, ratio)
    return Goodput(
        per_replica,
        per_replica,
        1,
        GOODPUT_SIMULATED,
        f"{where}; one replica on {cores:g} of its {run_cores:g} cores: {sim_how}",
        lt.slo_ms,
        lt.percentile,
        offline_sim,
        speed_ratio=ratio,
        physical_cores=cores,
        threads_per_core=tpc,
        cores_assumption=f"{cores_text}; {run_text}: one replica at {ratio:.2g}x its speed",
    )
