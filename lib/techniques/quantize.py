"""int8: dynamic quantization of the Linear layers.

Backends, named by the step's parameter:
- (none) or ``per-tensor``: ``torch.ao.quantization.quantize_dynamic`` with one scale per weight
  matrix. Deprecated API, but the fast int8 path on CPU with torch 2.13 (1.9x over fp32 here).
- ``per-channel``: the same, one scale per output row: more faithful, about as fast.
- With the ``@ort`` runtime, the model is left float and ONNX Runtime quantizes the exported
  graph (per-channel unless ``per-tensor`` is named): see lib/runtime_ort.py.
- ``torchao``: torchao's ``Int8DynamicActivationInt8WeightConfig``. In eager mode it ran 2-4x
  slower than fp32 on these CPUs; offered to compare, not recommended without torch.compile.
"""

from __future__ import annotations

import warnings

import torch

from lib.errors import UserError
from lib.techniques import BuildContext, Technique, register

BACKENDS = ("per-tensor", "per-channel", "torchao")


def _check(param: str | None) -> None:
    if param is not None and param not in BACKENDS:
        raise UserError(f"unknown int8 backend '{param}'; use one of {', '.join(BACKENDS)}")


def _int8(model, param, ctx: BuildContext):
    backend = param or "per-tensor"
    if ctx.precision in ("bf16", "fp16"):
        raise UserError("int8 needs a 32-bit model; put int8 before half or leave half out")
    if ctx.notes.get("runtime") == "ort":
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

    The model stays float; the runtime reads ``int8_pending``. Per-channel by default there: as
    fast as per-tensor in ORT and more faithful.
    """
    if param == "torchao":
        raise UserError(
            "'int8:torchao' cannot be served with '@ort'; use 'int8' or 'int8:per-channel' "
            "(ONNX Runtime quantizes the exported model itself)"
        )
    per_channel = param != "per-tensor"
    ctx.precision = "int8"
    ctx.notes["int8_pending"] = {"per_channel": per_channel}
    ctx.notes["int8_backend"] = (
        f"onnxruntime dynamic, {'per-channel' if per_channel else 'per-tensor'}"
    )
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


register(
    Technique(
        name="int8",
        summary="Stores each weight of the big matrix layers in one byte instead of four and "
        "multiplies in 8-bit integers: about 4x smaller layers and usually 1.5-2x faster on "
        "CPUs with VNNI or AMX, at a small cost in accuracy.",
        apply=_int8,
        check=_check,
        param_help="backend: per-tensor (default), per-channel (more faithful) or torchao",
        when_it_helps="CPUs with AVX512-VNNI, AVX-VNNI or AMX. Little gain without them, and "
        "torch's dynamic int8 does not run on GPUs.",
    )
)
