"""MLPerf's LoadGen driving the batcher: SingleStream, Server and Offline over real eval texts.

LoadGen quirks worked around here:

- It writes its logs to the working directory and reads ``audit.config`` from there; each run
  gets its own temporary folder and an audit path inside it that does not exist, so nothing
  lands in, or is read from, the caller's folder.
- It calls back into Python from its own threads, and an exception escaping a callback there
  cannot reach the caller; ``issue_query`` therefore never raises: a failure is recorded,
  every sample still answered (LoadGen waits for all of them) and raised after ``StartTest``.
- ``QuerySamplesComplete`` takes a sample id as a pointer into LoadGen's memory: an id it did
  not issue (a warm-up request served by the same batcher) crashes the process. Only requests
  tagged as issued by LoadGen are reported back to it.
- Its trace log costs time on a busy machine and nothing here reads it, so it is off.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lib.serving.batcher import Completion, DynamicBatcher, VariantCrashed
from lib.spec import LoadTestSpec

_REPORTED = ("50.00", "90.00", "95.00", "97.00", "99.00", "99.90")


@dataclass
class ScenarioResult:
    """One LoadGen run, in LoadGen's own figures where it gives them."""

    scenario: str
    target_qps: float | None
    achieved_qps: float
    percentiles_ms: dict[str, float]  # "50", "90", "99", ... -> ms
    mean_ms: float
    latency_source: str  # "loadgen", or "leanbench" when LoadGen's log lacked the percentiles
    valid: bool  # LoadGen's verdict on the run
    summary: dict[str, Any]  # LoadGen's summary: constraints met, early stopping, reasons
    breakdown_ms: dict[str, float]  # mean per request: queue, tokenize, model
    mean_batch: float
    queries: int
    wall_s: float
    settings: dict[str, Any] = field(default_factory=dict)

    def latency_ms(self, percentile: float) -> float:
        return self.percentiles_ms[_key(percentile)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def loadgen_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlcommons-loadgen")
    except PackageNotFoundError:  # built from source: LoadGen's log still names it
        return "unknown"


class LoadGenHarness:
    """A LoadGen SUT and QSL over ``texts``, serving every query through ``batcher``.

    Use as a context manager; the batcher is started and closed by the harness.
    """

    def __init__(self, batcher: DynamicBatcher, texts: Sequence[str], spec: LoadTestSpec) -> None:
        import mlperf_loadgen as lg

        self._lg = lg
        self.texts = list(texts)
        self.spec = spec
        self.batcher = batcher
        batcher.on_batch = self._complete
        self._completions: list[Completion] = []
        self._lock = threading.Lock()
        self._issue_error: BaseException | None = None
        self._sut = None
        self._qsl = None

    def __enter__(self) -> LoadGenHarness:
        lg = self._lg
        self.batcher.start()
        self._sut = lg.ConstructSUT(self._issue, self._flush)
        # The texts are already in memory: loading a sample set needs no work.
        count = len(self.texts)
        self._qsl = lg.ConstructQSL(count, count, _noop, _noop)
        return self

    def __exit__(self, *exc) -> None:
        lg = self._lg
        if self._qsl is not None:
            lg.DestroyQSL(self._qsl)
        if self._sut is not None:
            lg.DestroySUT(self._sut)
        self._qsl = self._sut = None
        self.batcher.close()

    # ------------------------------------------------------------------ scenarios
    def single_stream(self) -> ScenarioResult:
        """One query at a time. Nothing else can arrive while one is in flight, so the batcher
        does not wait for company here: this is the variant's latency alone."""
        delay, self.batcher.max_delay_s = self.batcher.max_delay_s, 0.0
        try:
            return self._run("SingleStream")
        finally:
            self.batcher.max_delay_s = delay

    def server(self, target_qps: float) -> ScenarioResult:
        return self._run("Server", target_qps=target_qps)

    def offline(self, expected_qps: float) -> ScenarioResult:
        """Peak throughput. LoadGen sizes Offline's one query from ``expected_qps`` times the
        duration, so a low guess ends early: then the run is repeated with the rate it found."""
        result = self._run("Offline", target_qps=expected_qps)
        if not result.summary.get("min_duration_met", True):
            result = self._run("Offline", target_qps=result.achieved_qps * 1.5)
        return result

    # ------------------------------------------------------------------ LoadGen plumbing
    def _settings(self, scenario: str, target_qps: float | None):
        lg, spec = self._lg, self.spec
        settings = lg.TestSettings()
        settings.scenario = getattr(lg.TestScenario, scenario)
        settings.mode = lg.TestMode.PerformanceOnly
        settings.min_duration_ms = int(spec.duration_s * 1000)
        settings.min_query_count = spec.min_queries
        settings.server_target_latency_ns = int(spec.slo_ms * 1e6)
        settings.server_target_latency_percentile = spec.percentile / 100
        settings.single_stream_target_latency_percentile = 0.9
        settings.single_stream_expected_latency_ns = max(int(spec.slo_ms * 1e6 / 10), 100_000)
        if scenario in ("Server", "Offline"):
            if target_qps is None:
                raise ValueError(f"LoadGen's {scenario} scenario needs a target QPS.")
            if scenario == "Server":
                settings.server_target_qps = float(target_qps)
            else:
                settings.offline_expected_qps = float(target_qps)
        for name in ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed"):
            setattr(settings, name, spec.seed)
        return settings

    def _run(self, scenario: str, target_qps: float | None = None) -> ScenarioResult:
        lg = self._lg
        settings = self._settings(scenario, target_qps)
        with self._lock:
            self._completions = []
        with tempfile.TemporaryDirectory(prefix="leanbench-loadgen-") as folder:
            output = lg.LogOutputSettings()
            output.outdir = folder
            output.copy_summary_to_stdout = False
            log = lg.LogSettings()
            log.log_output = output
            log.enable_trace = False
            start = time.perf_counter()
            failure: list[BaseException] = []

            def drive() -> None:
                # LoadGen drives from a helper thread so that the batcher serves on this one,
                # the thread that built and measured the model (see serve_here_until_stopped).
                try:
                    lg.StartTestWithLogSettings(
                        self._sut, self._qsl, settings, log, str(Path(folder) / "no-audit.config")
                    )
                except BaseException as exc:  # noqa: BLE001 - re-raised on this thread below
                    failure.append(exc)
                finally:
                    self.batcher.stop()

            driver = threading.Thread(target=drive, name="leanbench-loadgen", daemon=True)
            driver.start()
            self.batcher.serve_here_until_stopped()
            driver.join()
            if failure:
                raise failure[0]
            wall = time.perf_counter() - start
            detail = _read_detail(Path(folder) / "mlperf_log_detail.txt")
        with self._lock:
            completions = self._completions
            self._completions = []
        error = self._issue_error or self.batcher.error
        if error is not None:
            where = f"{scenario} at {target_qps:g} QPS" if scenario == "Server" else scenario
            raise VariantCrashed(
                f"The variant crashed during the {where} load test: {error!r}"
            ) from error
        return _result(
            scenario, target_qps, detail, completions, wall, settings, self.batcher.max_delay_s
        )

    def _issue(self, samples) -> None:
        try:
            for sample in samples:
                self.batcher.submit(self.texts[sample.index], _Issued(sample.id))
        except BaseException as exc:  # see the module docstring: never raise into LoadGen
            self._issue_error = exc
            lg = self._lg
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

    def _flush(self) -> None:
        pass  # the batcher's delay bound already flushes partial batches

    def _complete(self, completions: list[Completion]) -> None:
        issued = [c for c in completions if isinstance(c.tag, _Issued)]
        if not issued:
            return
        lg = self._lg
        lg.QuerySamplesComplete([lg.QuerySampleResponse(c.tag.id, 0, 0) for c in issued])
        with self._lock:
            self._completions.extend(issued)


@dataclass(frozen=True)
class _Issued:
    id: int  # LoadGen's sample id


def _noop(_samples) -> None:
    pass


def _read_detail(path: Path) -> dict[str, Any]:
    """LoadGen's detail log: one ``:::MLLOG {json}`` line per key; the last value wins."""
    values: dict[str, Any] = {}
    if not path.exists():
        return values
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith(":::MLLOG "):
            continue
        try:
            entry = json.loads(line[len(":::MLLOG ") :])
        except json.JSONDecodeError:
            continue
        values[entry.get("key")] = entry.get("value")
    return values


def _key(percentile: float) -> str:
    return f"{percentile:g}"


def _result(
    scenario, target_qps, detail, completions, wall, settings, batcher_delay_s
) -> ScenarioResult:
    ours = np.array([c.latency_s for c in completions]) * 1000 if completions else np.zeros(1)
    percentiles: dict[str, float] = {}
    source = "loadgen"
    for name in _REPORTED:
        value = detail.get(f"result_{name}_percentile_latency_ns")
        if value is None:
            source = "leanbench"
            percentiles[_key(float(name))] = float(np.percentile(ours, float(name)))
        else:
            percentiles[_key(float(name))] = value / 1e6
    mean_ns = detail.get("result_mean_latency_ns")
    achieved = (
        detail.get("result_completed_samples_per_sec")
        or detail.get("result_samples_per_second")
        or detail.get("result_qps_with_loadgen_overhead")
        or (len(completions) / wall if wall else 0.0)
    )
    early_ms = detail.get("early_stopping_latency_ss")
    summary = {
        "result": detail.get("result_validity", "UNKNOWN"),
        "perf_constraints_met": detail.get("result_perf_constraints_met"),
        "min_duration_met": detail.get("result_min_duration_met"),
        "min_queries_met": detail.get("result_min_queries_met"),
        "early_stopping_met": detail.get("early_stopping_met"),
        "early_stopping": " ".join(str(detail.get("early_stopping_result", "")).split()),
        "early_stopping_p90_ms": early_ms / 1e6 if early_ms else None,
        "invalid_reason": (detail.get("result_invalid_reason") or "").strip() or None,
        "overlatency_queries": detail.get("result_overlatency_query_count"),
        "errors": detail.get("num_errors"),
        "loadgen_version": detail.get("loadgen_version"),
    }
    n = max(len(completions), 1)
    breakdown = {
        "queue": 1000 * sum(c.queue_s for c in completions) / n,
        "tokenize": 1000 * sum(c.tokenize_s for c in completions) / n,
        "model": 1000 * sum(c.model_s for c in completions) / n,
    }
    used = {
        "scenario": scenario,
        "mode": "PerformanceOnly",
        "min_duration_ms": settings.min_duration_ms,
        "min_query_count": settings.min_query_count,
        "target_latency_ns": settings.server_target_latency_ns,
        "target_latency_percentile": settings.server_target_latency_percentile,
        "target_qps": target_qps,
        "seed": settings.schedule_rng_seed,
        "batcher_max_delay_ms": batcher_delay_s * 1000,
    }
    return ScenarioResult(
        scenario=scenario,
        target_qps=target_qps if scenario == "Server" else None,
        achieved_qps=float(achieved),
        percentiles_ms=percentiles,
        mean_ms=mean_ns / 1e6 if mean_ns is not None else float(ours.mean()),
        latency_source=source,
        valid=detail.get("result_validity") == "VALID",
        summary=summary,
        breakdown_ms=breakdown,
        mean_batch=sum(c.batch_size for c in completions) / n,
        queries=int(detail.get("result_query_count") or len(completions)),
        wall_s=wall,
        settings=used,
    )
