"""ONNX Runtime: export the variant to ONNX, optionally quantize it to int8, serve it with ORT.

How (measured on the 2-core AMD EPYC dev machines, MiniLM-L6, sequence 128; see docs/runtimes.md):
- Export with the legacy TorchScript exporter (``dynamo=False``) and the model switched to eager
  attention: it gives the faster graph for ORT's fusions (attention, LayerNorm, GELU).
- Dynamic axes for batch and sequence, opset 17, so one model serves every shape.
- int8: ``onnxruntime.quantization.quantize_dynamic`` on the fp32 export, per-channel weights by
  default (``int8:per-tensor`` for one scale per matrix). The ``int8`` step leaves the model float
  and sets ``ctx.pending_int8`` (an ``Int8Request``) when the runtime is ``ort``; torch-quantized
  modules cannot be exported.
- Session: all graph optimisations, intra-op threads fixed to ``torch.get_num_threads()``
  (recorded), one inter-op thread, and no idle spinning, so ORT's worker threads do not steal the
  cores from whatever runs next.
- Before it is benchmarked, the fp32 export is checked against PyTorch on real texts of different
  lengths (so padded rows are included); the largest logit difference is reported.
- Static int8 (``int8:static@ort``, ``ctx.pending_static_int8``): calibrated QDQ quantization of
  the checked fp32 export, in ``lib/runtimes/ort_static.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import logging
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lib.errors import UserError
from lib.runtimes import ort_static
from lib.runtimes.configs import Int8Request, ServingContext
from lib.runtimes.registry import Predictor

OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# An fp32 export that differs from PyTorch by more than this (relative to the logits' scale) is
# broken, not rounded: refuse to benchmark it.
FP32_TOLERANCE = 1e-2
VALIDATION_TEXTS = 8


class _LogitsOnly(torch.nn.Module):
    """The classifier with positional inputs and a single tensor output, as ONNX wants."""

    def __init__(self, model: torch.nn.Module, names: tuple[str, ...]):
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.names, inputs, strict=True))).logits


def _input_names(model, batch: dict[str, torch.Tensor]) -> tuple[str, ...]:
    params = inspect.signature(model.forward).parameters
    names = tuple(n for n in INPUT_NAMES if n in batch and n in params)
    if "input_ids" not in names or "attention_mask" not in names:
        raise UserError("the model does not take input_ids and attention_mask")
    return names


def export_onnx(
    model: torch.nn.Module,
    example: dict[str, torch.Tensor],
    path: Path,
    *,
    dynamo: bool = False,
) -> tuple[str, ...]:
    """Export ``model`` (fp32, CPU) to ``path`` with dynamic batch and sequence axes.

    Returns the input names, in the graph's order. Raises UserError when the model cannot be
    exported.
    """
    names = _input_names(model, example)
    wrapper = _LogitsOnly(model, names).eval()
    args = tuple(example[n][:2].cpu() for n in names)
    previous = getattr(model.config, "_attn_implementation", None)
    try:
        _set_attn(model, "eager")
        with torch.no_grad(), warnings.catch_warnings(), _quiet_exporter():
            warnings.simplefilter("ignore")
            if dynamo:
                dim = torch.export.Dim.DYNAMIC
                shapes = (tuple({0: dim, 1: dim} for _ in names),)  # forward(*inputs)
                torch.onnx.export(
                    wrapper,
                    args,
                    str(path),
                    input_names=list(names),
                    output_names=["logits"],
                    opset_version=max(OPSET, 18),
                    dynamic_shapes=shapes,
                    dynamo=True,
                )
            else:
                axes = {n: {0: "batch", 1: "sequence"} for n in names}
                axes["logits"] = {0: "batch"}
                torch.onnx.export(
                    wrapper,
                    args,
                    str(path),
                    input_names=list(names),
                    output_names=["logits"],
                    opset_version=OPSET,
                    dynamic_axes=axes,
                    do_constant_folding=True,
                    dynamo=False,
                )
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any exporter failure is the model's, for the user
        arch = type(model).__name__
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"could not export {arch} to ONNX ({type(exc).__name__}: {first[:300]}); "
            "serve this variant with '@eager' or '@compile' instead"
        ) from None
    finally:
        if previous is not None:
            _set_attn(model, previous)
    return names


@contextlib.contextmanager
def _quiet_exporter():
    """Keep the legacy exporter from dumping its whole TorchScript graph when it fails.

    torch 2.13's ``setup_onnx_logging`` tests a function object for truth, so it always turns
    the C++ ONNX log on; swap in one that leaves it off.
    """
    try:
        from torch.onnx._internal.torchscript_exporter import utils as ts_utils

        original = ts_utils.setup_onnx_logging
    except (ImportError, AttributeError):
        yield
        return

    @contextlib.contextmanager
    def quiet(verbose: bool):
        torch._C._jit_set_onnx_log_enabled(bool(verbose))
        try:
            yield
        finally:
            torch._C._jit_set_onnx_log_enabled(False)

    ts_utils.setup_onnx_logging = quiet
    try:
        yield
    finally:
        ts_utils.setup_onnx_logging = original


def _set_attn(model, implementation: str) -> None:
    setter = getattr(model, "set_attn_implementation", None)
    try:
        if setter is not None:
            setter(implementation)
        else:
            model.config._attn_implementation = implementation
    except Exception:  # noqa: BLE001 - a model without a switchable attention keeps its own
        pass


def quantize_int8(src: Path, dst: Path, *, per_channel: bool = True) -> None:
    """Dynamic int8 of the MatMul weights (activations quantized on the fly)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it logs "consider pre-processing" advice on the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(src),
                str(dst),
                per_channel=per_channel,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
            )
    except Exception as exc:  # noqa: BLE001
        raise UserError(
            f"ONNX Runtime could not quantize the exported model to int8 "
            f"({type(exc).__name__}: {str(exc)[:300]})"
        ) from None
    finally:
        root.setLevel(level)


def session_options(threads: int, *, spinning: bool = False):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    flag = "1" if spinning else "0"
    opts.add_session_config_entry("session.intra_op.allow_spinning", flag)
    opts.add_session_config_entry("session.inter_op.allow_spinning", flag)
    opts.log_severity_level = 3
    return opts


def _providers(device: str) -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device == "cuda" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    raise UserError(
        f"this onnxruntime build cannot run on '{device}' (it has {', '.join(available)}); "
        "install onnxruntime-gpu for CUDA, or serve the variant with '@eager' or '@compile'"
    )


def make_session(path: Path, threads: int, device: str = "cpu"):
    import onnxruntime as ort

    try:
        return ort.InferenceSession(
            str(path), sess_options=session_options(threads), providers=_providers(device)
        )
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise UserError(
            f"ONNX Runtime could not load the exported model ({type(exc).__name__}: "
            f"{str(exc)[:300]})"
        ) from None


def _feeder(session, names: tuple[str, ...]):
    graph_inputs = [i.name for i in session.get_inputs()]

    def feed(batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
        out = {}
        for name in graph_inputs:
            value = batch.get(name)
            if value is None:  # e.g. token_type_ids the tokenizer did not return
                value = torch.zeros_like(batch["input_ids"])
            out[name] = value.detach().cpu().numpy().astype(np.int64, copy=False)
        return out

    return feed


def validation_batch(ctx, example: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Real texts of different lengths (so most rows are padded), tokenized like the eval pass."""
    seq_len = int(example["input_ids"].shape[1])
    texts = list(getattr(getattr(ctx, "train", None), "texts", None) or [])
    if texts and getattr(ctx, "tokenizer", None) is not None:
        order = np.argsort([len(t) for t in texts], kind="stable")
        picks = np.linspace(0, len(texts) - 1, num=min(VALIDATION_TEXTS, len(texts)))
        chosen = [texts[order[int(round(p))]] for p in picks]
        batch = ctx.tokenizer(
            chosen, padding=True, truncation=True, max_length=seq_len, return_tensors="pt"
        )
        return dict(batch)
    return {k: v[:VALIDATION_TEXTS] for k, v in example.items()}


def max_logit_diff(model, run, batch: dict[str, torch.Tensor]) -> tuple[float, float]:
    """(largest absolute logit difference, largest absolute reference logit)."""
    with torch.inference_mode():
        ref = model(**batch).logits.float()
    got = run(batch)
    if not torch.isfinite(got).all():
        return float("inf"), float(ref.abs().max())
    return float((ref - got).abs().max()), float(ref.abs().max())


def prepare(model, ctx: ServingContext, example_batches=None) -> Predictor:
    examples = list(example_batches or [])
    if not examples:
        raise UserError("the ort runtime needs an example batch to export with")
    if ctx.precision in ("bf16", "fp16"):
        raise UserError(
            f"'half@ort' is not supported: ONNX Runtime has no fast {ctx.precision} kernels on "
            "a CPU and this build exports fp32 only. Use 'int8@ort' (fastest on a CPU), "
            "'fp32@ort', or 'half' with '@eager' or '@compile'"
        )
    pending: Int8Request | None = ctx.pending_int8
    static = getattr(ctx, "pending_static_int8", None)  # int8:static@ort (ort_static.py)
    if ctx.precision == "int8" and pending is None and static is None:
        raise UserError(
            "this int8 model was quantized by PyTorch and cannot be exported to ONNX; "
            "with '@ort', int8 is done by ONNX Runtime (use 'int8', 'int8:per-channel' or "
            "'int8:per-tensor', not 'int8:torchao')"
        )
    providers_device = ctx.device
    _providers(providers_device)  # fail early, before the export
    threads = torch.get_num_threads()
    notes: dict[str, Any] = {"ort_threads": threads, "ort_exporter": "torchscript (dynamo=False)"}

    model = model.float().cpu().eval()
    workdir = Path(tempfile.mkdtemp(prefix="leanbench-ort-"))
    # ORT holds the model in memory once loaded; the files go when the variant's process ends.
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    fp32_path = workdir / "model.onnx"
    t0 = time.perf_counter()
    names = export_onnx(model, examples[0], fp32_path)
    notes["export_seconds"] = round(time.perf_counter() - t0, 3)

    check = validation_batch(ctx, examples[0])
    check = {k: v for k, v in check.items() if k in names or k == "input_ids"}

    session = make_session(fp32_path, threads, providers_device)
    run = _runner(session, names)
    diff, scale = max_logit_diff(model, run, check)
    notes["ort_max_logit_diff"] = diff
    if not diff <= FP32_TOLERANCE * max(1.0, scale):
        raise UserError(
            f"the ONNX export disagrees with PyTorch (largest logit difference {diff:.3g}); "
            "this architecture does not export faithfully, serve it with '@eager' or '@compile'"
        )
    path = fp32_path
    if pending is not None or static is not None:
        path = workdir / "model.int8.onnx"
        t0 = time.perf_counter()
        if static is not None:
            notes.update(ort_static.quantize(fp32_path, path, ctx, static, examples[0]))
        elif pending is not None:
            quantize_int8(fp32_path, path, per_channel=pending.per_channel)
            notes["int8_backend"] = pending.backend
        notes["ort_quantize_seconds"] = round(time.perf_counter() - t0, 3)
        del session
        session = make_session(path, threads, providers_device)
        run = _runner(session, names)
        diff, _ = max_logit_diff(model, run, check)
        notes["ort_int8_max_logit_diff"] = diff
        if not np.isfinite(diff):
            raise UserError("the int8 ONNX model gives non-finite logits")
    notes["onnx_file"] = path.name
    notes["onnx_size_mb"] = round(path.stat().st_size / 1e6, 3)
    return Predictor(run, "ort", notes, served_size_mb=notes["onnx_size_mb"])


class _Runner:
    """Runs the session on a batch; ``session`` is kept alive with the predictor (handy for
    tests)."""

    def __init__(self, session, names: tuple[str, ...]):
        self.session = session
        self._feed = _feeder(session, names)

    def __call__(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        (logits,) = self.session.run(["logits"], self._feed(batch))
        return torch.from_numpy(logits).float()


def _runner(session, names: tuple[str, ...]) -> _Runner:
    return _Runner(session, names)
