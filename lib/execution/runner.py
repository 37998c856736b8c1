"""Running a RunSpec: data -> adapted baseline -> each variant in its own process -> store.

Progress is reported through a callback ``(stage, message, fraction)`` and written to the store,
so a page polling the store sees it. Each variant's result is stored the moment it exists; a
variant that fails is stored as failed with its reason and the others go on.

A spec with ``load_test`` load-tests each variant after its measurements, in the same process;
``load_test_stored`` adds a load test to a run already stored, rebuilding each variant the way
``execute`` does and changing nothing in its results but their ``load_test``.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict

import numpy as np

from lib import datasets
from lib.errors import UserError
from lib.execution.variant_process import LOAD_TEST_STAGE  # the stage of load-test progress
from lib.measure import environment, expectations, roofline, stats
from lib.paths import user_dir
from lib.schema import BASELINE, Status, VariantResult
from lib.spec import LoadTestSpec, RunSpec
from lib.store import Store
from lib.techniques import parse_variant
from lib.training import adapt

ProgressFn = Callable[[str, str, float | None], None]


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("Device 'cuda' was asked for but no CUDA GPU is visible; use cpu or auto.")
    if requested == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise UserError(
            "Device 'mps' was asked for but Apple MPS is not available; use cpu or auto."
        )
    return requested


def preflight(spec: RunSpec) -> None:
    """Fail fast, before any work is queued: the model can be found and the data splits."""
    from lib.models import load as models
    from lib.techniques import check_against_model

    resolve_device(spec.measure.device)
    config = models.load_config(models.resolve(spec.model))
    for text in spec.variants:
        check_against_model(parse_variant(text), config)
    data = datasets.load(spec.dataset)
    datasets.check_eval_size(data, spec.dataset)  # too few eval examples to mean anything
    datasets.split(data, spec.dataset.train_limit, spec.dataset.eval_limit, spec.dataset.seed)


def refused_variants(spec: RunSpec, report: ProgressFn | None = None) -> dict[str, str]:
    """The variants that cannot be built on this model (ALBERT's shared layers, a family whose
    layers Leanbench does not know), with the sentence that says why; known from the model's
    config alone, so they fail before any training and the others go on."""
    from lib.models import load as models
    from lib.techniques.applicability import applicability

    config = models.load_config(models.resolve(spec.model))
    refused = {}
    for name in spec.variants:
        reason = applicability(config, name)
        if reason is not None:
            refused[name] = reason
            if report is not None:
                report(f"variant:{name}", f"{name}: will not run: {reason}", None)
    return refused


def variants_in_order(spec: RunSpec) -> list[str]:
    """The baseline first (every comparison needs it), then the user's variants."""
    return [BASELINE] + [v for v in spec.variants if v != BASELINE]


def execute(
    spec: RunSpec, store: Store, run_id: str | None = None, progress: ProgressFn | None = None
) -> str:
    """Run the whole benchmark; returns the run id. Results land in the store as they come."""
    if run_id is None:
        run_id = store.create_run(spec.to_dict(), status="running")

    def report(stage: str, message: str, fraction: float | None = None) -> None:
        fraction = None if fraction is None else round(fraction, 4)
        store.add_event(run_id, stage, message, fraction)
        if progress:
            progress(stage, message, fraction)

    try:
        device = resolve_device(spec.measure.device)
        import torch

        threads = spec.measure.threads or torch.get_num_threads()
        env = environment.capture(device, threads)
        hardware = roofline.machine()  # clock and physical cores, for each result's roofline
        store.update_run(
            run_id,
            status="running",
            environment=env,
            hardware=environment.hardware_label(env),
            host=socket.gethostname(),
            pid=os.getpid(),
        )
        refused = refused_variants(spec, report)  # before the baseline is adapted
        data, train, evals, baseline, job_common = _prepare(spec, device, report, env=env)
        extra = {
            "adapted": baseline.adapted,
            "adapt_cached": baseline.cached,
            "adapt_built_on": baseline.built_on,
            "adapt_seconds": baseline.train_seconds,
            "adapt_steps": baseline.train_steps,
            "n_train": len(train),
            "n_eval": len(evals),
            "labels": data.label_names,
            "eval_labels": evals.labels.tolist(),
        }
        store.update_run(run_id, extra=extra)
        note = "cached" if baseline.cached else f"{baseline.train_seconds:.0f} s"
        report(
            "adapt",
            f"baseline ready ({'adapted, ' + note if baseline.adapted else 'own head'})",
            0.3,
        )

        names = variants_in_order(spec)
        baseline_preds = None
        baseline_result = None
        failures = 0
        expected = {name: expectations.expectations_for(parse_variant(name), env) for name in names}
        for name, exps in expected.items():
            for e in exps:
                if e.level == "warn":  # messages start with the step; name the chain too
                    report("expect", e.message if e.step == name else f"{name}: {e.message}")
        for i, name in enumerate(names):
            lo, hi = 0.3 + 0.7 * i / len(names), 0.3 + 0.7 * (i + 1) / len(names)

            vprogress = _variant_progress(report, name, lo, hi)
            if name in refused:  # it cannot work on this model: nothing is built
                result = VariantResult(variant=name, status=Status.FAILED, error=refused[name])
            else:
                vprogress(0.0, "starting")
                job = {**job_common, "variant": name}
                result = VariantResult.from_dict(
                    run_isolated(job, variant_timeout_s(spec), vprogress)
                )
            if result.ok:
                preds = np.asarray(result.predictions)
                if name == BASELINE:
                    baseline_preds, baseline_result = preds, result
                if baseline_preds is not None:
                    result.agreement = float(np.mean(preds == baseline_preds))
                result.update(
                    stats.accuracy_evidence(
                        evals.labels, preds, None if name == BASELINE else baseline_preds
                    )
                )
                result.expectations = [e.to_dict() for e in expected[name]]
                _add_derived(result, env, hardware)
                if expected[name] and baseline_result is not None and name != BASELINE:
                    speedup = _speedup(baseline_result, result)
                    result.speedup_vs_baseline = speedup
                    result.expectation_check = expectations.compare(
                        expected[name], speedup, unstable=bool(result.unstable)
                    )
            else:
                failures += 1
            store.add_result(run_id, i, result.to_dict())
            status = "done" if result.ok else f"failed: {result.error}"
            report(f"variant:{name}", f"{name}: {status}", hi)

        msg = f"{len(names) - failures} of {len(names)} variants measured"
        store.update_run(run_id, status="done", message=msg, progress=1.0)
        report("done", msg, 1.0)
    except UserError as exc:
        store.update_run(run_id, status="failed", message=str(exc))
        report("failed", str(exc))
        raise
    except BaseException as exc:
        store.update_run(run_id, status="failed", message=f"{type(exc).__name__}: {exc}")
        raise
    return run_id


def load_test_stored(
    run_id: str,
    store: Store,
    load_test: LoadTestSpec,
    variants: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, str | None]:
    """Load-test the measured variants of stored run ``run_id`` (``variants``: some of them).

    Each variant is rebuilt from the run's spec as ``execute`` builds it (the adapted baseline
    and trained steps from the build cache), in its own process, and load-tested with nothing
    else measured; its stored result gets ``load_test`` (added or replaced) and keeps every
    other key. A variant whose load test fails keeps its stored result as it was. Returns
    ``{variant: None if load-tested, else the reason it failed}``; ``UserError`` for an unknown
    run, a run still going or a variant the run did not measure.
    """
    run = store.get_run(run_id)
    if run is None:
        raise UserError(f"No run with id '{run_id}' in the store.")
    if run["status"] in (Status.QUEUED, Status.RUNNING):
        raise UserError(f"Run '{run_id}' is still {run['status']}: load-test it once it is done.")
    spec = RunSpec.from_dict(run["spec"])
    spec.load_test = load_test
    measured = [r.variant for r in store.variant_results(run_id) if r.ok]
    if variants:
        missing = [v for v in variants if v not in measured]
        if missing:
            raise UserError(
                f"Run '{run_id}' has no measured variant {', '.join(repr(v) for v in missing)}; "
                f"its measured variants are: {', '.join(measured) or 'none'}."
            )
    names = list(dict.fromkeys(variants)) if variants else measured
    if not names:
        raise UserError(f"Run '{run_id}' has no measured variant to load-test.")

    def report(stage: str, message: str, fraction: float | None = None) -> None:
        # The event, without a fraction: the stored run's own progress and message stay.
        store.add_event(run_id, stage, message)
        if progress:
            progress(stage, message, None if fraction is None else round(fraction, 4))

    device = resolve_device(spec.measure.device)
    import torch

    env = environment.capture(device, spec.measure.threads or torch.get_num_threads())
    hardware = environment.hardware_label(env)
    if run.get("hardware") and run["hardware"] != hardware:
        report(
            LOAD_TEST_STAGE,
            f"note: the run was measured on {run['hardware']}; this load test runs on {hardware}",
        )
    *_, job_common = _prepare(spec, device, report, span=0.1, env=env)
    added = {"hardware": hardware, "host": socket.gethostname(), "at": _now_iso()}
    outcomes: dict[str, str | None] = {}
    for i, name in enumerate(names):
        lo, hi = 0.1 + 0.9 * i / len(names), 0.1 + 0.9 * (i + 1) / len(names)
        vprogress = _variant_progress(report, name, lo, hi)
        vprogress(0.0, "starting")
        job = {**job_common, "variant": name, "load_test_only": True}
        result = VariantResult.from_dict(run_isolated(job, variant_timeout_s(spec), vprogress))
        if result.ok and result.load_test is not None:
            store.update_result(run_id, name, {"load_test": {**result.load_test, "added": added}})
            outcomes[name] = None
            goodput = result.load_test.get("goodput_qps")
            report(LOAD_TEST_STAGE, f"variant {name}: goodput {goodput} QPS", hi)
        else:
            outcomes[name] = result.error or "the load test gave no result"
            report(LOAD_TEST_STAGE, f"variant {name}: load test failed: {outcomes[name]}", hi)
    return outcomes


def variant_timeout_s(spec: RunSpec) -> float:
    """One variant's time-out: the measurement's, plus the load test's budget when it has one."""
    extra = spec.load_test.time_budget_s if spec.load_test is not None else 0.0
    return spec.measure.variant_timeout_s + extra


def _prepare(spec: RunSpec, device: str, report, span: float = 0.3, *, env: dict):
    """Data, split, adapted baseline and what every variant's job shares; progress up to
    ``span``. ``env`` is the run's environment: what is trained records it as where it ran.
    Returns ``(data, train, evals, baseline, job_common)``."""
    machine = environment.machine_facts(env)
    report("data", f"loading {spec.dataset.source}", span / 30)
    data = datasets.load(spec.dataset)
    train, evals = datasets.split(
        data, spec.dataset.train_limit, spec.dataset.eval_limit, spec.dataset.seed
    )

    report("adapt", "preparing the baseline model", span / 15)
    start = span / 15
    baseline = adapt.prepare_baseline(
        spec.model,
        spec.dataset,
        train,
        spec.adapt,
        progress=lambda f, m: report(
            "adapt", f"adapting the head: {m}", start + (span - start) * f
        ),
        device=device,
        built_on=machine,
    )
    job_common = {
        "base_path": baseline.path,
        "device": device,
        "machine": machine,
        "measure": asdict(spec.measure),
        "load_test": spec.load_test.to_dict() if spec.load_test is not None else None,
        "seed": spec.dataset.seed,
        "label_names": data.label_names,
        "train_texts": train.texts,
        "train_labels": train.labels.tolist(),
        "eval_texts": evals.texts,  # raw texts: what a load test sends as queries
        "eval_labels": evals.labels.tolist(),
        "cache_dir": str(user_dir() / "models"),
    }
    return data, train, evals, baseline, job_common


def _variant_progress(report, name: str, lo: float, hi: float) -> Callable[..., None]:
    """A variant process's progress ``(fraction, message[, stage])`` as run events between
    ``lo`` and ``hi``: stage ``variant:NAME``, or the stage the process names (the load test)."""

    def vprogress(f: float, m: str, stage: str | None = None) -> None:
        fraction = lo + (hi - lo) * f
        if stage:
            report(stage, f"variant {name}: {m}", fraction)
        else:
            report(f"variant:{name}", f"{name}: {m}", fraction)

    return vprogress


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_isolated(job: dict, timeout_s: float, progress: Callable[..., None]) -> dict:
    """Measure one variant in a fresh process; never raises for the variant's own failures.

    ``progress(fraction, message)``, or ``progress(fraction, message, stage)`` for a stage the
    process names; a crash or time-out during such a stage says which."""
    from lib.execution import variant_process

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=variant_process.main, args=(child, job), daemon=True)
    start = time.monotonic()
    proc.start()
    child.close()
    outcome: dict | None = None
    stage: str | None = None  # the stage the process last named, if any
    try:
        while outcome is None:
            remaining = timeout_s - (time.monotonic() - start)
            if remaining <= 0:
                proc.kill()
                outcome = _failed(job, f"timed out after {timeout_s:.0f} s" + _during(stage))
                break
            if parent.poll(min(remaining, 1.0)):
                try:
                    msg = parent.recv()
                except EOFError:
                    proc.join(5)
                    outcome = _failed(job, _death_reason(proc.exitcode) + _during(stage))
                    break
                if msg[0] == "progress":
                    stage = msg[3] if len(msg) > 3 else None
                    progress(*msg[1:])
                elif msg[0] == "result":
                    outcome = msg[1]
                else:
                    outcome = _failed(job, msg[1], detail=msg[2] if len(msg) > 2 else None)
            elif not proc.is_alive():
                outcome = _failed(job, _death_reason(proc.exitcode) + _during(stage))
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
        parent.close()
    outcome["wall_seconds"] = time.monotonic() - start
    return outcome


def _add_derived(result: VariantResult, env: dict, hardware: dict) -> None:
    """Keys computed from a measured result (additive; older readers ignore them): its
    ``roofline`` on a CPU (lib.measure.roofline) and the runtime's ``calibration_seconds``
    (static int8), reported beside ``build_seconds``."""
    roof = roofline.for_result(result.to_dict(), env, hardware)
    if roof is not None:
        result.set("roofline", roof)
    notes = result.notes if isinstance(result.notes, dict) else {}
    if isinstance(notes.get("calibration_seconds"), int | float):
        result.set("calibration_seconds", notes["calibration_seconds"])


def _speedup(baseline: VariantResult, variant: VariantResult) -> float | None:
    """Speed-up at the largest batch size both measured (above 1: faster): from the paired
    rounds where the variant has them, else baseline p50 / variant p50."""
    common = set(baseline.latency_ms) & set(variant.latency_ms)
    if not common:
        return None
    bs = max(common, key=int)
    paired = variant.speedup_paired.get(bs)
    if paired is not None and paired.keys():
        return paired.speedup
    base, var = baseline.latency_ms[bs].p50, variant.latency_ms[bs].p50
    return base / var if base is not None and var else None


def _during(stage: str | None) -> str:
    return f" during the {stage}" if stage else ""


def _death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode == -9:
        return "the process was killed (out of memory?)"
    if exitcode is not None and exitcode < 0:
        return f"the process died from signal {-exitcode}"
    return f"the process exited unexpectedly (exit code {exitcode})"


def _failed(job: dict, reason: str, detail: str | None = None) -> dict:
    out = VariantResult(variant=job["variant"], status=Status.FAILED, error=reason)
    if detail:
        out.error_detail = detail
    return out.to_dict()
