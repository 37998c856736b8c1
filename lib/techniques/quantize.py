"""int8: dynamic quantization of the Linear layers (description and backends in ``configs``).

Backends, named by the step's parameter:
- (none) or ``per-tensor``: ``torch.ao.quantization.quantize_dynamic`` with one scale per weight
  matrix. Deprecated API, but the fast int8 path on CPU with torch 2.13 (1.9x over fp32 here).
- ``per-channel``: the same, one scale per output row: more faithful, about as fast.
- With the ``@ort`` runtime, the model is left float and ONNX Runtime quantizes the exported
  graph (per-channel unless ``per-tensor`` is named): the step sets ``ctx.pending_int8`` and
  ``lib/runtimes/ort.py`` does it.
- ``torchao``: torchao's ``Int8DynamicActivationInt8WeightConfig``. In eager mode it ran 2-4x
  slower than fp32 on these CPUs; offered to compare, not recommended without torch.compile.
"""

from __future__ import annotations

import warnings

import torch

from lib.errors import UserError
from lib.runtimes.configs import Int8Request
from lib.techniques.context import BuildContext


def apply_int8(model, param, ctx: BuildContext):
    backend = param or "per-tensor"
    if ctx.precision in ("bf16", "fp16"):
        raise UserError("int8 needs a 32-bit model; put int8 before half or leave half out")
    if ctx.runtime == "ort":
        return _defer_to_ort(model, param, ctx)
    if backend == "torchao":
        return _torchao(model, ctx)
    if ctx.device != "cpu":
        raise UserError(
            "torch's dynamic int8 runs only on a CPU; on a GPU use 'int8:torchao' or 'half'"
        )
    qconfig = (
        torch.ao.quantization.per_channel_dynamic_qconfig
        if backend == "per-channel"
        else torch.ao.quantization.default_dynamic_qconfig
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice of torch.ao
        model = torch.ao.quantization.quantize_dynamic(
            model.float(), {torch.nn.Linear: qconfig}, dtype=torch.qint8
        )
    ctx.precision = "int8"
    ctx.notes["int8_backend"] = f"torch.ao dynamic, {backend}"
    return model


def _defer_to_ort(model, param, ctx: BuildContext):
    """With '@ort', ONNX Runtime quantizes the exported graph (torch's int8 cannot be exported).

    The model stays float; the runtime reads ``ctx.pending_int8``. Per-channel by default there:
    as fast as per-tensor in ORT and more faithful.
    """
    if param == "torchao":
        raise UserError(
            "'int8:torchao' cannot be served with '@ort'; use 'int8' or 'int8:per-channel' "
            "(ONNX Runtime quantizes the exported model itself)"
        )
    request = Int8Request(per_channel=param != "per-tensor")
    ctx.precision = "int8"
    ctx.pending_int8 = request
    ctx.notes["int8_backend"] = request.backend
    return model.float()


def _torchao(model, ctx: BuildContext):
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError:
        raise UserError(
            "the torchao backend needs the torchao package (pip install torchao)"
        ) from None
    quantize_(model, Int8DynamicActivationInt8WeightConfig())
    ctx.precision = "int8"
    ctx.notes["int8_backend"] = "torchao dynamic (eager)"
    return model
