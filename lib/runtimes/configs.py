"""The runtimes a variant can be served with, described without importing torch.

Everything a spec, a page or a report needs about a runtime (its name and plain-language text)
lives here; the code that serves a model is in ``eager.py``, ``ort.py`` and ``compile.py``,
loaded through ``lib.runtimes.registry`` only when a variant is measured.

Also the one fact a build step may hand to the runtime: ``Int8Request``, left by the ``int8``
step when ONNX Runtime is to quantize the exported graph itself (``int8@ort``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_RUNTIME = "eager"


@dataclass(frozen=True)
class RuntimeConfig:
    name: str
    summary: str  # one plain sentence, as the registry has always shown it
    label: str  # a short name for sentences: "ONNX Runtime"
    sentence: str  # one plain sentence for the Techniques page (lib.results.advice)
    served: str  # how the demo story says it: "served with ONNX Runtime, ..."


RUNTIMES: dict[str, RuntimeConfig] = {
    "eager": RuntimeConfig(
        name="eager",
        summary="Plain PyTorch, running the model layer by layer as written: the default.",
        label="plain PyTorch",
        sentence="Plain PyTorch runs the model layer by layer exactly as written: the default, "
        "and the yardstick every other runtime is compared with.",
        served="served with plain PyTorch",
    ),
    "ort": RuntimeConfig(
        name="ort",
        summary="ONNX Runtime: the model is exported to a portable graph that a lean C++ engine "
        "runs with fused layers; usually the fastest way to serve on a CPU, most of all with "
        "int8.",
        label="ONNX Runtime",
        sentence="ONNX Runtime exports the model to a portable graph and runs it on a lean C++ "
        "engine with fused layers; on a CPU it is usually the fastest way to serve, most of all "
        "with int8.",
        served="served with ONNX Runtime, a lean engine that fuses layers: usually the fastest "
        "way to serve on a CPU, most of all with int8",
    ),
    "compile": RuntimeConfig(
        name="compile",
        summary="Compiled PyTorch: torch.compile turns the model into fused, machine-specific "
        "code for each input shape (and replays it as a CUDA graph on a GPU); it costs a compile "
        "when the model loads.",
        label="compiled PyTorch",
        sentence="Compiled PyTorch (torch.compile) turns the model into fused code made for each "
        "input shape, and on a GPU replays it as a CUDA graph; it costs a compile each time the "
        "model loads.",
        served="compiled with torch.compile into fused code for this machine (a one-off "
        "compile when the model loads)",
    ),
}


def runtime_names() -> list[str]:
    return list(RUNTIMES)


@dataclass(frozen=True)
class Int8Request:
    """The ``int8`` step under ``@ort``: the model stays float, ONNX Runtime quantizes the
    exported graph (torch's int8 layers cannot be exported)."""

    per_channel: bool = True

    @property
    def backend(self) -> str:
        return f"onnxruntime dynamic, {'per-channel' if self.per_channel else 'per-tensor'}"


class ServingContext(Protocol):
    """What a runtime reads from the build (``lib.techniques.BuildContext`` provides it)."""

    device: str
    precision: str
    tokenizer: Any
    train: Any
    pending_int8: Int8Request | None
