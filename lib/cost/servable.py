"""Which variants an accelerator can serve, and what to price in their place.

What runs only on a CPU: torch's dynamic int8 (``int8``, ``int8:per-tensor``,
``int8:per-channel``; its quantized Linear kernels are CPU ones), static int8 (``int8:static``:
QDQ graphs for ONNX Runtime's CPU kernels, NNCF-quantized OpenVINO IR), int8 under ONNX Runtime
(``int8@ort``: the exported graph is quantized for ONNX Runtime's CPU kernels) and anything on
OpenVINO (``@openvino`` compiles for Intel's CPU plugin; an NVIDIA GPU has no OpenVINO device). A
GPU row of the cost table is never priced from them. Their GPU-servable equivalent is the same
chain with ``half`` in place of the CPU int8 step and the default runtime in place of ``@ort`` or
``@openvino`` (``distill:3+int8@ort`` -> ``distill:3+half``, ``fp32@openvino`` -> ``fp32``): the
cost table prices that instead, and says so, or marks the row not applicable when it cannot.

Pure string work on the variant text (no torch, no grammar checks: a result may name a variant
an older Leanbench wrote).
"""

from __future__ import annotations

from dataclasses import dataclass

# int8 backends that run only on a CPU (``int8:torchao`` runs on a GPU).
CPU_ONLY_INT8 = (None, "per-tensor", "per-channel", "static")
# Runtimes whose kernels are CPU ones: nothing they serve is priced on a GPU.
CPU_ONLY_RUNTIMES = ("openvino",)
DEFAULT_RUNTIME = "eager"


@dataclass(frozen=True)
class Servability:
    """Whether an accelerator can serve a variant; if not, why, and what to price instead."""

    servable: bool
    reason: str = ""
    equivalent: str | None = None  # the GPU-servable chain to price in its place

    def priced_as_note(self) -> str:
        return f"priced as {self.equivalent}, its GPU-servable equivalent"


def split_variant(
    text: str, runtime: str | None = None
) -> tuple[list[tuple[str, str | None]], str]:
    """``(steps, runtime)`` of a variant text; ``runtime`` (the result's own field) wins."""
    body, at, named = str(text or "").strip().rpartition("@")
    if not at:
        body, named = named, ""
    steps: list[tuple[str, str | None]] = []
    for part in body.split("+"):
        name, colon, param = part.strip().partition(":")
        if name:
            steps.append((name.strip(), param.strip() or None if colon else None))
    return steps, (runtime or named.strip() or DEFAULT_RUNTIME)


def _step_text(name: str, param: str | None) -> str:
    return name if param is None else f"{name}:{param}"


def gpu_servability(variant: str, runtime: str | None = None) -> Servability:
    """Can an accelerator serve ``variant``? CPU int8 (torch dynamic, static, or under ONNX
    Runtime) and OpenVINO say no; everything else is taken as servable, as the cost table always
    has."""
    steps, rt = split_variant(variant, runtime)
    int8 = [(n, p) for n, p in steps if n == "int8"]
    cpu_int8 = [(n, p) for n, p in int8 if p in CPU_ONLY_INT8]
    if rt in CPU_ONLY_RUNTIMES:
        reason = f"@{rt} compiles for Intel's CPU plugin: not servable on this accelerator"
    elif rt == "ort" and int8:
        reason = "int8@ort runs on ONNX Runtime's CPU kernels: not servable on this accelerator"
    elif cpu_int8:
        step = _step_text(*cpu_int8[0])
        reason = (
            f"{step} is torch's dynamic int8, whose kernels run only on a CPU: "
            "not servable on this accelerator"
            if cpu_int8[0][1] != "static"
            else f"{step} is quantized for CPU int8 kernels: not servable on this accelerator"
        )
    else:
        return Servability(True)
    return Servability(False, reason, gpu_equivalent(steps, rt))


def gpu_equivalent(steps: list[tuple[str, str | None]], runtime: str) -> str:
    """The same chain with ``half`` for each CPU int8 step, served by the default runtime when it
    was ONNX Runtime: ``distill:3+int8@ort`` -> ``distill:3+half``, ``int8`` -> ``half``."""
    out: list[str] = []
    for name, param in steps:
        cpu_int8 = name == "int8" and (
            param in CPU_ONLY_INT8 or runtime in ("ort", *CPU_ONLY_RUNTIMES)
        )
        text = "half" if cpu_int8 else _step_text(name, param)
        if text not in out or text != "half":
            out.append(text)
    chain = "+".join(out) or "half"
    return (
        chain if runtime in (DEFAULT_RUNTIME, "ort", *CPU_ONLY_RUNTIMES) else f"{chain}@{runtime}"
    )
