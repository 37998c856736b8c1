"""Building and measuring one variant, inside its own process.

The runner starts one process per variant (``multiprocessing`` spawn), so each variant's peak
memory is its own, a runtime's idle threads cannot slow the next measurement, and a crash,
out-of-memory kill or time-out takes only that variant down. Messages go back over a pipe:
``("progress", fraction, text)`` while working (``("progress", fraction, text, stage)`` for a stage
of its own, the load test), then ``("result", dict)`` or ``("error", text[, traceback])``.

A job with ``load_test`` (``lib.spec.LoadTestSpec.to_dict()``) load-tests the variant after its
measurements (``lib.serving.variant.load_test``); with ``load_test_only`` too, the variant is
built and load-tested and nothing else is measured (a load test added to a stored run).
"""

from __future__ import annotations

import contextlib
import importlib
import time
import traceback
from collections.abc import Callable
from typing import Any

# What the child runs: ``job["entry"]`` ("module:function") when given, for tests that need a
# variant which crashes, exits or hangs; the real measurement otherwise.
DEFAULT_ENTRY = "lib.execution.variant_process:measure_variant"
LOAD_TEST_STAGE = "load test"


class StepFailed(Exception):
    """A step of the measurement failed: the message is the reason as the result reports it."""


def main(conn, job: dict[str, Any]) -> None:
    """Entry point in the child process."""

    def progress(fraction: float, message: str, stage: str | None = None) -> None:
        conn.send(("progress", fraction, message) + ((stage,) if stage else ()))

    try:
        result = resolve_entry(job.get("entry") or DEFAULT_ENTRY)(job, progress)
        conn.send(("result", result))
    except Exception as exc:  # noqa: BLE001 - reported to the parent with its reason
        from lib.errors import UserError

        if isinstance(exc, UserError):
            conn.send(("error", str(exc)))
        elif isinstance(exc, StepFailed):
            conn.send(("error", str(exc), traceback.format_exc(limit=-3)))
        else:
            tb = traceback.format_exc(limit=-3)
            conn.send(("error", f"{type(exc).__name__}: {exc}", tb))
    finally:
        conn.close()


def resolve_entry(entry: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def measure_variant(job: dict[str, Any], report) -> dict[str, Any]:
    import numpy as np
    import torch

    from lib.datasets import LabelledText
    from lib.errors import UserError
    from lib.measure import energy, stats
    from lib.measure import latency as measure
    from lib.models import load as models
    from lib.runtimes import registry as runtimes
    from lib.schema import BASELINE, Status, VariantResult
    from lib.spec import LoadTestSpec
    from lib.techniques import BuildContext, apply_chain, parse_variant

    load_spec = LoadTestSpec.from_dict(job["load_test"]) if job.get("load_test") else None
    measuring = not (load_spec is not None and job.get("load_test_only"))
    # The share of the variant's progress bar before the load test starts.
    share = 1.0 if load_spec is None else (0.5 if measuring else 0.2)

    def progress(fraction: float, message: str) -> None:
        report(share * fraction, message)

    def load_test_progress(fraction: float, message: str) -> None:
        report(share + (1 - share) * fraction, message, LOAD_TEST_STAGE)

    settings = job["measure"]
    device = job["device"]
    threads = settings.get("threads") or torch.get_num_threads()
    torch.set_num_threads(threads)  # fixed for the whole measurement, and recorded
    torch.manual_seed(job.get("seed", 0))

    variant = parse_variant(job["variant"])
    train = LabelledText(job["train_texts"], np.asarray(job["train_labels"]), job["label_names"])
    evals = LabelledText(job["eval_texts"], np.asarray(job["eval_labels"]), job["label_names"])

    rss = measure.PeakRSS()
    with contextlib.ExitStack() as stack:
        if measuring:  # the sampler's thread stays out of a load test on its own
            stack.enter_context(rss)
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        progress(0.05, "loading the baseline")
        tokenizer = models.load_tokenizer(job["base_path"])
        model = models.load_classifier(job["base_path"]).to(device)
        ctx = BuildContext(
            base_path=job["base_path"],
            tokenizer=tokenizer,
            train=train,
            device=device,
            seed=job.get("seed", 0),
            progress=lambda f, m: progress(0.05 + 0.45 * f, m),
            cache_dir=job.get("cache_dir"),
            runtime=variant.runtime,  # steps may defer work to the runtime (int8@ort)
            machine=dict(job.get("machine") or {}),
        )
        progress(0.1, "building")
        t0 = time.perf_counter()
        model = apply_chain(model, variant, ctx)
        tokenizer = ctx.tokenizer  # a student: step may bring its own tokenizer
        model.eval()
        build_seconds = time.perf_counter() - t0
        size_mb = measure.serialized_size_mb(model) if measuring else None
        params = measure.count_params(model)
        flops = _flops(model, settings["seq_len"], ctx.notes) if measuring else (None, None)

        shapes = [
            measure.latency_batch(tokenizer, evals, b, settings["seq_len"])
            for b in settings["batch_sizes"]
        ]
        sweep_bs = settings["batch_sizes"][0]
        sweep = {
            n: measure.latency_batch(tokenizer, evals, sweep_bs, n)
            for n in settings.get("sweep_seq_lens") or []
        }
        progress(0.45, f"preparing the {variant.runtime} runtime")
        try:
            predictor = runtimes.runtimes()[variant.runtime].prepare(
                model, ctx, shapes + list(sweep.values())
            )
        except UserError as exc:
            raise UserError(f"Runtime '@{variant.runtime}' of '{variant.text}': {exc}") from None
        if predictor.served_size_mb is not None:  # what is served (ORT's graph)
            size_mb = predictor.served_size_mb
        if load_spec is not None and not measuring:
            return VariantResult(
                variant=variant.text,
                status=Status.OK,
                load_test=_load_test(
                    predictor, tokenizer, evals.texts, load_spec, load_test_progress
                ),
            ).to_dict()

        progress(0.5, f"accuracy on {len(evals)} eval examples")
        preds = measure.predict(
            predictor, tokenizer, evals.texts, settings["eval_batch_size"], settings["seq_len"]
        )

        def timed(batch) -> dict:
            timing = measure.time_predictor(
                predictor,
                batch,
                warmup=settings["warmup"],
                min_repeats=settings["min_repeats"],
                min_seconds=settings["min_seconds"],
                device=device,
            )
            summary = timing.summary()
            stab = stats.stability(timing.samples_ms)
            summary.update(
                unstable=stab["unstable"],
                window_spread=stab["window_spread"],
                stability_note=stab["reason"],
            )
            return summary

        # Plain dicts as timed() gives them: VariantResult reads them into Latency records.
        latency: dict[str, Any] = {}
        throughput: dict[str, float | None] = {}
        for i, (bs, batch) in enumerate(zip(settings["batch_sizes"], shapes, strict=True)):
            progress(0.7 + 0.25 * i / len(shapes), f"latency at batch {bs}")
            latency[str(bs)] = timed(batch)
            throughput[str(bs)] = bs / (latency[str(bs)]["p50"] / 1000)
        by_length: dict[str, Any] = {}
        if sweep:
            by_length[str(settings["seq_len"])] = latency[str(sweep_bs)]
            for n, batch in sweep.items():
                progress(0.95, f"latency at sequence length {n}")
                by_length[str(n)] = timed(batch)

        energy_result = None
        if settings.get("energy"):
            # A separate pass, after the timings, so the tracker's sampling thread cannot
            # disturb them; at the largest batch size (the serving-throughput regime).
            bs, batch = settings["batch_sizes"][-1], shapes[-1]
            progress(0.97, f"energy at batch {bs}")
            energy_result = energy.measure_energy(
                lambda: predictor(batch),
                bs,
                settings.get("energy_seconds", energy.DEFAULT_SECONDS),
                settings.get("country", energy.DEFAULT_COUNTRY),
                device=device,
                sync=measure._synchronizer(device),
            )
            energy_result["energy_batch_size"] = bs

    paired: dict[str, Any] = {}  # plain dicts, read into PairedSpeedup records
    if settings.get("paired_rounds") and variant.text != BASELINE:
        # After the memory sampler stopped: the reference model loaded here is not the variant's.
        progress(0.98, "timing against fp32, in turns")
        paired = _paired_speedups(job, settings, predictor, shapes, evals, device)

    result = VariantResult(
        variant=variant.text,
        status=Status.OK,
        steps=[str(s) for s in variant.steps],
        runtime=variant.runtime,
        precision=ctx.precision,
        device=device,
        threads=threads,
        accuracy=measure.accuracy(evals.labels, preds),
        macro_f1=measure.macro_f1(evals.labels, preds, len(evals.label_names)),
        n_eval=len(evals),
        latency_ms=latency,
        throughput_per_s=throughput,
        seq_len=settings["seq_len"],
        latency_by_seq_len_ms=by_length,  # at the smallest batch size; empty without a sweep
        sweep_batch_size=sweep_bs if by_length else None,
        size_mb=size_mb,
        params=params,
        flops_per_item=flops[0],
        num_layers=flops[1],
        peak_memory_mb=rss.peak_mb,
        build_seconds=build_seconds,
        notes={**ctx.notes, **predictor.notes},
        predictions=preds.tolist(),
        unstable=any(s["unstable"] for s in latency.values()),
        speedup_paired=paired,  # batch size -> lib.measure.stats.paired_speedup; {} for fp32
    )
    if energy_result is not None:
        energy_result["energy_details"] = energy_result.pop("details")
        result.update(energy_result)
    if device == "cuda":
        result.gpu_peak_memory_mb = torch.cuda.max_memory_allocated() / 1e6
    if load_spec is not None:  # last: its threads and batches touch none of the figures above
        result.load_test = _load_test(
            predictor, tokenizer, evals.texts, load_spec, load_test_progress
        )
    return result.to_dict()


def _load_test(predictor, tokenizer, texts, spec, progress) -> dict[str, Any]:
    """The variant served under load from its raw eval texts; a failure fails the variant."""
    from lib.errors import UserError
    from lib.serving.variant import load_test

    try:
        return load_test(predictor, tokenizer, texts, spec, progress)
    except UserError as exc:
        raise UserError(f"Load test: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - reported as the variant's failure, with its reason
        raise StepFailed(f"load test failed: {type(exc).__name__}: {exc}") from exc


def _paired_speedups(job, settings, predictor, shapes, evals, device) -> dict[str, dict]:
    """Speed-up over fp32 at each batch size from rounds in which the two take turns.

    The reference is the baseline served by plain PyTorch, loaded afresh with its own tokenizer
    (a ``student:`` variant reads different tokens), on the same texts and shapes.
    """
    from lib.measure import latency as measure
    from lib.measure import stats
    from lib.models import load as models
    from lib.runtimes import registry as runtimes
    from lib.techniques import BuildContext

    tokenizer = models.load_tokenizer(job["base_path"])
    reference = models.load_classifier(job["base_path"]).to(device).eval()
    ctx = BuildContext(base_path=job["base_path"], tokenizer=tokenizer, train=None, device=device)
    ref_shapes = [
        measure.latency_batch(tokenizer, evals, b, settings["seq_len"])
        for b in settings["batch_sizes"]
    ]
    ref = runtimes.runtimes()["eager"].prepare(reference, ctx, ref_shapes)
    out = {}
    for bs, batch, ref_batch in zip(settings["batch_sizes"], shapes, ref_shapes, strict=True):
        rounds = measure.interleaved_rounds(
            {"variant": (predictor, batch), "fp32": (ref, ref_batch)},
            rounds=settings["paired_rounds"],
            min_repeats=max(3, settings["min_repeats"] // 2),
            min_seconds=settings["min_seconds"] / 4,
            device=device,
        )
        out[str(bs)] = stats.paired_speedup(rounds["fp32"], rounds["variant"])
    return out


def _flops(model, seq_len: int, notes: dict) -> tuple[float | None, int | None]:
    """FLOPs per item at this sequence length: what the cost projection scales by."""
    from lib.measure.flops import count_flops

    try:
        profile = count_flops(model, 1, seq_len)
    except Exception as exc:  # noqa: BLE001 - a model the counter cannot follow is still measured
        notes["flops_error"] = f"{type(exc).__name__}: {exc}"
        return None, None
    return profile.flops_per_item, profile.n_layers
