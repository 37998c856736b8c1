"""Running a RunSpec: data -> adapted baseline -> each variant in its own process -> store.

Progress is reported through a callback ``(stage, message, fraction)`` and written to the store,
so a page polling the store sees it. Each variant's result is stored the moment it exists; a
variant that fails is stored as failed with its reason and the others go on.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from lib import datasets
from lib.errors import UserError
from lib.measure import environment, expectations, stats
from lib.paths import user_dir
from lib.schema import BASELINE, Status, VariantResult
from lib.spec import RunSpec
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
    datasets.split(data, spec.dataset.train_limit, spec.dataset.eval_limit, spec.dataset.seed)


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
        store.update_run(
            run_id,
            status="running",
            environment=env,
            hardware=environment.hardware_label(env),
            host=socket.gethostname(),
            pid=os.getpid(),
        )
        report("data", f"loading {spec.dataset.source}", 0.01)
        data = datasets.load(spec.dataset)
        train, evals = datasets.split(
            data, spec.dataset.train_limit, spec.dataset.eval_limit, spec.dataset.seed
        )

        report("adapt", "preparing the baseline model", 0.02)
        baseline = adapt.prepare_baseline(
            spec.model,
            spec.dataset,
            train,
            spec.adapt,
            progress=lambda f, m: report("adapt", f"adapting the head: {m}", 0.02 + 0.28 * f),
            device=device,
        )
        extra = {
            "adapted": baseline.adapted,
            "adapt_cached": baseline.cached,
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
        job_common = {
            "base_path": baseline.path,
            "device": device,
            "measure": asdict(spec.measure),
            "seed": spec.dataset.seed,
            "label_names": data.label_names,
            "train_texts": train.texts,
            "train_labels": train.labels.tolist(),
            "eval_texts": evals.texts,
            "eval_labels": evals.labels.tolist(),
            "cache_dir": str(user_dir() / "models"),
        }
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

            def vprogress(f: float, m: str, name=name, lo=lo, hi=hi) -> None:
                report(f"variant:{name}", f"{name}: {m}", lo + (hi - lo) * f)

            vprogress(0.0, "starting")
            result = VariantResult.from_dict(
                run_isolated(
                    {**job_common, "variant": name}, spec.measure.variant_timeout_s, vprogress
                )
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


def run_isolated(job: dict, timeout_s: float, progress: Callable[[float, str], None]) -> dict:
    """Measure one variant in a fresh process; never raises for the variant's own failures."""
    from lib.execution import variant_process

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=variant_process.main, args=(child, job), daemon=True)
    start = time.monotonic()
    proc.start()
    child.close()
    outcome: dict | None = None
    try:
        while outcome is None:
            remaining = timeout_s - (time.monotonic() - start)
            if remaining <= 0:
                proc.kill()
                outcome = _failed(job, f"timed out after {timeout_s:.0f} s")
                break
            if parent.poll(min(remaining, 1.0)):
                try:
                    msg = parent.recv()
                except EOFError:
                    proc.join(5)
                    outcome = _failed(job, _death_reason(proc.exitcode))
                    break
                if msg[0] == "progress":
                    progress(msg[1], msg[2])
                elif msg[0] == "result":
                    outcome = msg[1]
                else:
                    outcome = _failed(job, msg[1], detail=msg[2] if len(msg) > 2 else None)
            elif not proc.is_alive():
                outcome = _failed(job, _death_reason(proc.exitcode))
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
        parent.close()
    outcome["wall_seconds"] = time.monotonic() - start
    return outcome


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
