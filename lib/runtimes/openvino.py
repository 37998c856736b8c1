"""OpenVINO: the variant exported to ONNX, read by OpenVINO, compiled for this CPU.

How (measured on the 2-core Xeon dev machines, MiniLM-L6, sequence 128; docs/runtimes.md):
- **Export**: the ONNX graph ``@ort`` makes (``lib.runtimes.ort.export_onnx``: legacy exporter,
  eager attention, dynamic batch and sequence axes), read with ``openvino.Core().read_model``.
  One export path for both engines, checked the same way; ``export_seconds`` and
  ``openvino_convert_seconds`` are recorded.
- **Precision, set explicitly**: OpenVINO's CPU plugin computes in bf16 by default wherever the
  CPU has bf16 units, whatever the file holds, so ``INFERENCE_PRECISION_HINT`` is always given:
  ``f32`` for ``fp32@openvino`` and the float parts of int8 variants, ``bf16`` for
  ``half@openvino`` (refused on a CPU whose OpenVINO reports no BF16 capability: it would run
  f32 and say half). What the compiled model reports is recorded as
  ``openvino_inference_precision``, and the runtime precision of every matrix product of the
  compiled graph as ``openvino_matmul_precisions`` (e.g. ``{"u8": 32, "i8": 6}`` for int8).
- **Hints per batch size**: batch 1 is compiled with ``PERFORMANCE_HINT=LATENCY`` (one stream
  using every thread); larger batches with ``THROUGHPUT`` (OpenVINO picks the streams, the
  threads are shared among them) and each batch is split across the streams and run as
  parallel infer requests. ``INFERENCE_NUM_THREADS`` is fixed to the run's threads. Both hints,
  their streams and threads are recorded (``openvino_hints``, ``openvino_threads``).
- **int8**: NNCF's post-training quantization (``nncf.quantize``,
  ``model_type=TRANSFORMER``: its transformer patterns, SmoothQuant, mixed preset) on the train
  texts the ``int8`` step chose (``ctx.pending_static_int8``); plain ``int8@openvino`` is the
  same with NNCF's defaults (300 texts), because OpenVINO's int8 for encoders is calibrated:
  weight-only int8 (``nncf.compress_weights``) with the CPU's dynamic activation quantization
  ran 4x slower than NNCF's. The sensitive-layer options become NNCF's ``ignored_scope``
  (op names matched by ``lib.runtimes.configs.kept_nodes``). ``calibration_seconds`` is
  recorded (statistics, SmoothQuant and bias correction).
- **Check**: before anything is timed, an f32 compilation runs on real train texts of different
  lengths (padded rows included) and is compared with PyTorch (``openvino_max_logit_diff``,
  refused above 1% of the logits' scale, like ``@ort``); the served model's difference from the
  fp32 PyTorch model is ``openvino_served_max_logit_diff``.
- **Files** (ONNX, IR) go to a temporary folder removed when the variant's process ends; the
  served size is the saved IR (``.xml`` + ``.bin``).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import io
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lib.errors import UserError
from lib.runtimes import ort, ort_static
from lib.runtimes.configs import ServingContext, StaticInt8Request, kept_nodes
from lib.runtimes.registry import Predictor

FP32_TOLERANCE = ort.FP32_TOLERANCE
# OpenVINO's names for the precision hint, by Leanbench's precision of the built model.
HINTS = {"fp32": "f32", "int8": "f32", "bf16": "bf16", "fp16": "bf16"}
_MATMUL_LAYERS = ("FullyConnected", "MatMul", "Gemm", "FullyConnectedCompressed")


def _core():
    try:
        import openvino as ov
    except ImportError:
        raise UserError(
            "the openvino runtime needs the openvino package (see requirements.txt)"
        ) from None
    return ov, ov.Core()


def _text(value: Any) -> str:
    """An OpenVINO property as plain text: ``Type.bf16`` -> "bf16", ``LATENCY`` -> "LATENCY"."""
    if hasattr(value, "get_type_name"):
        return str(value.get_type_name())
    return str(getattr(value, "name", value))


def cpu_supports_bf16(core) -> bool:
    try:
        return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # noqa: BLE001 - a plugin that cannot say has no bf16 we can rely on
        return False


def compile_config(batch: int, threads: int, precision_hint: str) -> dict[str, Any]:
    """The CPU plugin settings for one batch size: LATENCY at batch 1, THROUGHPUT above."""
    return {
        "PERFORMANCE_HINT": "LATENCY" if batch <= 1 else "THROUGHPUT",
        "INFERENCE_NUM_THREADS": int(threads),
        "INFERENCE_PRECISION_HINT": precision_hint,
    }


def matmul_precisions(compiled) -> dict[str, int]:
    """``{runtime precision: count}`` of the matrix products in the compiled graph."""
    counts: collections.Counter[str] = collections.Counter()
    try:
        for op in compiled.get_runtime_model().get_ops():
            info = op.get_rt_info()
            layer = info["layerType"].astype(str) if "layerType" in info else op.get_type_name()
            if layer in _MATMUL_LAYERS:
                precision = (
                    info["runtimePrecision"].astype(str) if "runtimePrecision" in info else "?"
                )
                counts[precision] += 1
    except Exception:  # noqa: BLE001 - the runtime graph is a report, not a requirement
        return {}
    return dict(sorted(counts.items()))


class OpenVINOPredictor:
    """Runs a batch on the compiled model for its size: one request (LATENCY) for one row,
    the rows split across the streams of the THROUGHPUT compilation for more."""

    def __init__(self, ov, latency, throughput, input_names: list[str]):
        self.latency = latency
        self.throughput = throughput
        self.input_names = input_names
        self._request = latency.create_infer_request()
        self.streams = int(throughput.get_property("NUM_STREAMS")) if throughput else 1
        self._queue = None
        self._outputs: dict[int, np.ndarray] = {}
        if throughput is not None and self.streams > 1:
            self._queue = ov.AsyncInferQueue(throughput, self.streams)
            self._queue.set_callback(self._keep)

    def _keep(self, request, index) -> None:
        self._outputs[index] = request.get_output_tensor(0).data.copy()

    def _feed(self, batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
        out = {}
        for name in self.input_names:
            value = batch.get(name)
            if value is None:  # e.g. token_type_ids the tokenizer did not return
                value = torch.zeros_like(batch["input_ids"])
            out[name] = value.detach().cpu().numpy().astype(np.int64, copy=False)
        return out

    def __call__(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        feed = self._feed(batch)
        rows = int(batch["input_ids"].shape[0])
        if rows <= 1 or self._queue is None:
            logits = self._request.infer(feed)[self.latency.output(0)]
            return torch.from_numpy(np.array(logits, dtype=np.float32, copy=True))
        parts = min(self.streams, rows)
        bounds = np.linspace(0, rows, parts + 1).astype(int)
        self._outputs.clear()
        for i in range(parts):
            lo, hi = bounds[i], bounds[i + 1]
            self._queue.start_async({k: v[lo:hi] for k, v in feed.items()}, i)
        self._queue.wait_all()
        logits = np.concatenate([self._outputs[i] for i in range(parts)])
        return torch.from_numpy(logits.astype(np.float32, copy=False))


def _batch_sizes(examples) -> list[int]:
    return sorted({int(b["input_ids"].shape[0]) for b in examples})


def quantize_nncf(ov_model, feeds: list[dict[str, np.ndarray]], keep: tuple[str, ...] = ()):
    """NNCF's post-training int8 (transformer preset) calibrated on ``feeds``; returns
    ``(model, facts for the notes)``."""
    try:
        import nncf
    except ImportError:
        raise UserError(
            "int8 with @openvino needs the nncf package (see requirements.txt)"
        ) from None
    by_type: dict[str, list[str]] = collections.defaultdict(list)
    for op in ov_model.get_ops():
        by_type[op.get_type_name()].append(op.get_friendly_name())
    excluded = kept_nodes(by_type["MatMul"], keep)
    if "embeddings" in keep:  # the lookups themselves, outside any layer
        excluded += kept_nodes(by_type["Gather"], ("embeddings",))
    scope = nncf.IgnoredScope(names=excluded, validate=False) if excluded else None
    nncf.set_log_level(logging.ERROR)
    t0 = time.perf_counter()
    try:
        # NNCF draws progress bars and prints as it goes: keep the variant's output clean.
        with contextlib.redirect_stdout(io.StringIO()):
            quantized = nncf.quantize(
                ov_model,
                nncf.Dataset(feeds),
                model_type=nncf.ModelType.TRANSFORMER,
                subset_size=len(feeds),
                ignored_scope=scope,
            )
    except Exception as exc:  # noqa: BLE001 - NNCF's failure, told to the user
        raise UserError(
            f"NNCF could not quantize the model ({type(exc).__name__}: {str(exc)[:300]})"
        ) from None
    return quantized, {
        "calibration_seconds": round(time.perf_counter() - t0, 3),
        "int8_kept_float": excluded,
    }


def prepare(model, ctx: ServingContext, example_batches=None) -> Predictor:
    examples = list(example_batches or [])
    if not examples:
        raise UserError("the openvino runtime needs an example batch to export with")
    if ctx.device != "cpu":
        raise UserError(
            f"this Leanbench serves OpenVINO on the CPU only, not on '{ctx.device}'; use "
            "'@eager' or '@compile' there"
        )
    request: StaticInt8Request | None = getattr(ctx, "pending_static_int8", None)
    if ctx.precision == "int8" and request is None:
        raise UserError(
            "this int8 model was quantized by PyTorch and cannot be converted to OpenVINO; with "
            "'@openvino', int8 is NNCF's calibrated int8 (use 'int8' or 'int8:static')"
        )
    ov, core = _core()
    hint = HINTS.get(ctx.precision, "f32")
    if hint == "bf16" and not cpu_supports_bf16(core):
        raise UserError(
            "half@openvino needs a CPU with bf16 units (AVX512-BF16 or AMX); OpenVINO reports "
            f"{', '.join(core.get_property('CPU', 'OPTIMIZATION_CAPABILITIES'))} here, so it "
            "would compute in f32: use 'fp32@openvino' or 'int8@openvino'"
        )
    threads = torch.get_num_threads()
    notes: dict[str, Any] = {
        "openvino_version": ov.get_version(),
        "openvino_threads": threads,
        "openvino_source": "ONNX export (torchscript, dynamo=False), read by OpenVINO",
    }
    model = model.float().cpu().eval()
    workdir = Path(tempfile.mkdtemp(prefix="leanbench-openvino-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    onnx_path = workdir / "model.onnx"
    t0 = time.perf_counter()
    names = ort.export_onnx(model, examples[0], onnx_path)
    notes["export_seconds"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    try:
        ov_model = core.read_model(str(onnx_path))
    except Exception as exc:  # noqa: BLE001
        raise UserError(
            f"OpenVINO could not read the exported model ({type(exc).__name__}: "
            f"{str(exc)[:300]}); serve this variant with '@ort' or '@eager'"
        ) from None
    notes["openvino_convert_seconds"] = round(time.perf_counter() - t0, 3)
    input_names = [i.get_any_name() for i in ov_model.inputs]

    check = ort.validation_batch(ctx, examples[0])
    check = {k: v for k, v in check.items() if k in names or k == "input_ids"}
    reference = core.compile_model(ov_model, "CPU", compile_config(1, threads, "f32"))
    diff, scale = ort.max_logit_diff(
        model, OpenVINOPredictor(ov, reference, None, input_names), check
    )
    notes["openvino_max_logit_diff"] = diff
    if not diff <= FP32_TOLERANCE * max(1.0, scale):
        raise UserError(
            f"OpenVINO's f32 model disagrees with PyTorch (largest logit difference {diff:.3g}); "
            "this architecture does not convert faithfully, serve it with '@ort' or '@eager'"
        )
    if request is not None or hint != "f32":
        reference = None  # a different model or precision is served: compiled below

    if request is not None:
        seq_len = int(examples[0]["input_ids"].shape[1])
        feeds = ort_static.calibration_feeds(ctx, request, tuple(input_names), seq_len)
        ov_model, facts = quantize_nncf(ov_model, feeds, request.keep)
        notes.update(facts)
        notes["int8_backend"] = request.backend("openvino")

    xml = workdir / "model.xml"
    ov.save_model(ov_model, str(xml), compress_to_fp16=False)
    size_mb = (xml.stat().st_size + xml.with_suffix(".bin").stat().st_size) / 1e6

    t0 = time.perf_counter()
    sizes = _batch_sizes(examples)
    latency = reference or core.compile_model(ov_model, "CPU", compile_config(1, threads, hint))
    throughput = None
    if any(b > 1 for b in sizes):
        throughput = core.compile_model(ov_model, "CPU", compile_config(max(sizes), threads, hint))
    predictor = OpenVINOPredictor(ov, latency, throughput, input_names)
    notes["openvino_compile_seconds"] = round(time.perf_counter() - t0, 3)
    notes["openvino_inference_precision"] = _text(latency.get_property("INFERENCE_PRECISION_HINT"))
    hints = {}
    for b in sizes:
        compiled = latency if b <= 1 or throughput is None else throughput
        hints[str(b)] = {
            "hint": _text(compiled.get_property("PERFORMANCE_HINT")),
            "streams": int(compiled.get_property("NUM_STREAMS")),
            "threads": int(compiled.get_property("INFERENCE_NUM_THREADS")),
            "requests_per_batch": 1 if compiled is latency else min(predictor.streams, b),
        }
    notes["openvino_hints"] = hints
    notes["openvino_matmul_precisions"] = matmul_precisions(latency)
    served, _ = ort.max_logit_diff(model, predictor, check)
    notes["openvino_served_max_logit_diff"] = served
    if not np.isfinite(served):
        raise UserError("the OpenVINO model gives non-finite logits")
    notes["openvino_size_mb"] = round(size_mb, 3)
    return Predictor(predictor, "openvino", notes, served_size_mb=notes["openvino_size_mb"])
