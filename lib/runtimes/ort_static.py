"""ONNX Runtime with static int8: activation scales calibrated once on train texts (QDQ graph).

``lib.runtimes.ort.prepare`` exports the variant, checks the fp32 graph against PyTorch, then,
for a calibrated int8 step (``int8:static@ort``, ``distill:3+int8:static:500/keep-ends@ort``;
``ctx.pending_static_int8``), calls ``quantize`` here instead of dynamic quantization, and loads
and checks the int8 graph as it does for dynamic int8 (``ort_int8_max_logit_diff``).

How:
- Calibration texts: the positions in the train split the ``int8`` step chose
  (``ctx.pending_static_int8.indices``; the eval texts are never in the build context), each
  tokenized like the eval pass (truncated to the measured sequence length), fed one by one to a
  ``CalibrationDataReader``. ``calibration_feeds`` serves OpenVINO's NNCF calibration too.
- ``onnxruntime.quantization.quantize_static``: QDQ format, MinMax calibration, uint8 asymmetric
  activations and int8 symmetric per-channel weights (U8S8, what ORT's x86 kernels run
  fastest), on the MatMul nodes whose second input is a weight (the Linear layers: attention
  score products stay float, as in dynamic int8). The sensitive-layer options
  (``keep-embeddings``, ``keep-head``, ``keep-first``, ``keep-last``...) become
  ``nodes_to_exclude`` (``lib.runtimes.configs.kept_nodes``); the classifier and pooler are Gemm
  nodes in this export and stay float in any case, and the embeddings are lookups, never
  quantized here.
- Reported: ``calibration_seconds`` (the whole ``quantize_static`` call: calibration plus
  quantization), ``int8_nodes``, ``int8_kept_float``, ``int8_backend``; the step adds
  ``notes["calibration"]`` (the train indices and a fingerprint of their texts).
"""

from __future__ import annotations

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
from lib.runtimes.configs import ServingContext, StaticInt8Request, kept_nodes


def calibration_texts(ctx: ServingContext, request: StaticInt8Request) -> list[str]:
    """The train texts the step chose, by position in ``ctx.train``."""
    texts = list(getattr(getattr(ctx, "train", None), "texts", None) or [])
    if not texts or max(request.indices, default=-1) >= len(texts):
        raise UserError("static int8 needs the train split to calibrate on, and it is missing")
    return [texts[i] for i in request.indices]


def calibration_feeds(
    ctx: ServingContext, request: StaticInt8Request, names: tuple[str, ...], seq_len: int
) -> list[dict[str, np.ndarray]]:
    """One input dict per calibration text, tokenized like the eval pass (int64 arrays)."""
    if getattr(ctx, "tokenizer", None) is None:
        raise UserError("static int8 needs the tokenizer to calibrate with")
    feeds = []
    for text in calibration_texts(ctx, request):
        batch = ctx.tokenizer(
            [text], padding=True, truncation=True, max_length=seq_len, return_tensors="pt"
        )
        feed = {}
        for name in names:
            value = batch.get(name)
            if value is None:  # token_type_ids the tokenizer does not return
                value = torch.zeros_like(batch["input_ids"])
            feed[name] = value.numpy().astype(np.int64, copy=False)
        feeds.append(feed)
    return feeds


def weight_matmuls(path: Path) -> list[str]:
    """Names of the MatMul nodes whose second input is a weight (an initializer, directly or
    through a Transpose of one): the graph's Linear layers."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    transposed = {
        n.output[0] for n in graph.node if n.op_type == "Transpose" and n.input[0] in weights
    }
    return [
        n.name
        for n in graph.node
        if n.op_type == "MatMul" and len(n.input) > 1 and n.input[1] in weights | transposed
    ]


class _Reader:
    """``onnxruntime.quantization.CalibrationDataReader`` over prepared feeds."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]):
        self._feeds = feeds
        self._next = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._next >= len(self._feeds):
            return None
        self._next += 1
        return self._feeds[self._next - 1]

    def rewind(self) -> None:
        self._next = 0


def quantize_static_int8(
    src: Path, dst: Path, feeds: list[dict[str, np.ndarray]], keep: tuple[str, ...] = ()
) -> dict[str, Any]:
    """QDQ static int8 of the weight MatMuls of ``src``; returns what it did (for the notes)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(_Reader, CalibrationDataReader):
        pass

    matmuls = weight_matmuls(src)
    excluded = kept_nodes(matmuls, keep)
    chosen = [n for n in matmuls if n not in set(excluded)]
    if not chosen:
        raise UserError("nothing left to quantize: every weight MatMul is kept in float")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # ORT logs pre-processing advice on the root logger
    workdir = Path(tempfile.mkdtemp(prefix="leanbench-ort-calib-", dir=dst.parent))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            quantize_static(
                str(src),
                str(dst),
                Reader(feeds),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                nodes_to_quantize=chosen,
                calibrate_method=CalibrationMethod.MinMax,
                calibration_providers=["CPUExecutionProvider"],
                extra_options={
                    "ActivationSymmetric": False,
                    "WeightSymmetric": True,
                    "CalibTensorRangeSymmetric": False,
                },
            )
            seconds = time.perf_counter() - t0
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - the quantizer's failure, told to the user
        raise UserError(
            f"ONNX Runtime could not calibrate and quantize the model ({type(exc).__name__}: "
            f"{str(exc)[:300]})"
        ) from None
    finally:
        root.setLevel(level)
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "calibration_seconds": round(seconds, 3),
        "int8_nodes": len(chosen),
        "int8_kept_float": excluded,
    }


def quantize(
    src: Path,
    dst: Path,
    ctx: ServingContext,
    request: StaticInt8Request,
    example: dict[str, torch.Tensor],
) -> dict[str, Any]:
    """Calibrate on the request's train texts and write the static int8 graph of ``src`` to
    ``dst``; returns the facts for the result's notes."""
    import onnx

    if ctx.device != "cpu":
        raise UserError("static int8 with ONNX Runtime is a CPU path; use 'half' on a GPU")
    graph = onnx.load(str(src), load_external_data=False).graph
    initializers = {init.name for init in graph.initializer}
    inputs = tuple(i.name for i in graph.input if i.name not in initializers)
    seq_len = int(example["input_ids"].shape[1])
    feeds = calibration_feeds(ctx, request, inputs, seq_len)
    facts = quantize_static_int8(src, dst, feeds, request.keep)
    facts["int8_backend"] = request.backend("ort")
    return facts
