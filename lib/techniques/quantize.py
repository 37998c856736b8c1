"""int8: quantization of the Linear layers (description, backends and options in ``configs``).

Backends, named by the step's parameter (``lib.techniques.configs.int8_settings``):
- (none): the faithful default. Under ``@eager``, torch's dynamic int8 with one scale per
  output row (per-channel) and **8-bit** activations (``full-range``): torch's own
  ``quantize_dynamic`` quantizes activations to 7 bits (``reduce_range``, a guard against int16
  overflow in pre-VNNI kernels), which cost 2 points of accuracy on MiniLM; with 8 bits the
  loss was 0.2 points for the same kernels and speed (docs/runtimes.md, "The default int8").
- ``per-tensor``: ``torch.ao.quantization.quantize_dynamic`` with one scale per weight matrix and
  7-bit activations: torch's default, and Leanbench's ``int8`` before issue 15.
- ``per-channel``: the same, one scale per output row (still 7-bit activations).
- ``full-range`` (an option after '/'): 8-bit activations for either of the two.
- ``keep-first``/``keep-last``/``keep-ends``/``keep-head``/``keep-sensitive``: those Linear layers
  stay fp32 (torch never quantizes the embeddings).
- With the ``@ort`` runtime, the model is left float and ONNX Runtime quantizes the exported
  graph (per-channel unless ``per-tensor`` is named): the step sets ``ctx.pending_int8`` and
  ``lib/runtimes/ort.py`` does it.
- ``static`` (``@ort`` or ``@openvino``), and plain ``int8`` under ``@openvino``: the model is left
  float and the step sets ``ctx.pending_static_int8`` with the calibration texts it chose from
  the train split; the runtime calibrates and quantizes (``ort_static.py``, ``openvino.py``).
- ``torchao``: torchao's ``Int8DynamicActivationInt8WeightConfig``. In eager mode it ran 2-4x
  slower than fp32 on these CPUs; offered to compare, not recommended without torch.compile.
"""

from __future__ import annotations

import types
import warnings

import torch

from lib.errors import UserError
from lib.runtimes.configs import Int8Request, StaticInt8Request, kept_nodes
from lib.techniques.configs import Int8Settings, check_int8_runtime, int8_settings
from lib.techniques.context import BuildContext


def apply_int8(model, param, ctx: BuildContext):
    settings = int8_settings(param)
    if ctx.precision in ("bf16", "fp16"):
        raise UserError("int8 needs a 32-bit model; put int8 before half or leave half out")
    check_int8_runtime(param, ctx.runtime)
    if settings.static or ctx.runtime == "openvino":
        return _defer_static(model, settings, ctx)
    if ctx.runtime == "ort":
        return _defer_to_ort(model, param, ctx)
    if settings.backend == "torchao":
        return _torchao(model, ctx)
    if ctx.device != "cpu":
        raise UserError(
            "torch's dynamic int8 runs only on a CPU; on a GPU use 'int8:torchao' or 'half'"
        )
    backend = settings.backend or "per-channel"
    full_range = settings.full_range or settings.backend is None
    qconfig = (
        torch.ao.quantization.per_channel_dynamic_qconfig
        if backend == "per-channel"
        else torch.ao.quantization.default_dynamic_qconfig
    )
    linears = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    kept = set(kept_nodes(linears, settings.keep))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice of torch.ao
        model = torch.ao.quantization.quantize_dynamic(
            model.float(), {n: qconfig for n in linears if n not in kept}, dtype=torch.qint8
        )
    if full_range:
        _full_range(model)
    ctx.precision = "int8"
    bits = "8-bit" if full_range else "7-bit"
    ctx.notes["int8_backend"] = f"torch.ao dynamic, {backend}, {bits} activations"
    if settings.keep:
        ctx.notes["int8_kept_float"] = sorted(kept)
    return model


def _full_range(model) -> int:
    """Make torch's dynamic int8 Linear layers quantize activations to 8 bits, not 7.

    ``torch.ao.nn.quantized.dynamic.Linear`` always calls ``linear_dynamic`` with
    ``reduce_range=True``: 7-bit activations, so that the pair sums of pre-VNNI AVX2 kernels
    (``vpmaddubsw``, int16) cannot overflow. VNNI and AMX accumulate in int32 directly. The
    forward is replaced per instance, so the module keeps its type (FLOP counting and saving
    see an ordinary quantized Linear). Returns the number of layers changed.
    """
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    changed = 0
    for module in model.modules():
        if type(module) is DynamicLinear and module._packed_params.dtype == torch.qint8:
            # per instance, so the layer keeps its type (FLOP counting and saving see it as ever)
            module.forward = types.MethodType(_forward_8bit, module)  # type: ignore[method-assign]
            changed += 1
    return changed


def _forward_8bit(self, x):
    y = torch.ops.quantized.linear_dynamic(
        x, self._packed_params._packed_params, reduce_range=False
    )
    return y.to(x.dtype)


def _defer_static(model, settings: Int8Settings, ctx: BuildContext):
    """Static int8: the runtime calibrates on train texts chosen here and quantizes the graph.

    The model stays float; ``ctx.pending_static_int8`` carries the chosen train indices (and
    the parts to keep in float) to the runtime.
    """
    try:
        indices = ctx.calibration_indices(settings.samples)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    request = StaticInt8Request(indices=indices, keep=settings.keep, requested=settings.samples)
    ctx.precision = "int8"
    ctx.pending_static_int8 = request
    ctx.notes["int8_backend"] = request.backend(ctx.runtime)
    ctx.notes["calibration"] = ctx.calibration_record(indices)
    return model.float()


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
