"""The runtimes a variant can be served with, described without importing torch.

Everything a spec, a page or a report needs about a runtime (its name and plain-language text)
lives here; the code that serves a model is in ``eager.py``, ``ort.py``, ``ort_static.py``,
``openvino.py`` and ``compile.py``, loaded through ``lib.runtimes.registry`` only when a variant
is measured.

Also the facts a build step may hand to the runtime: ``Int8Request``, left by the ``int8`` step
when ONNX Runtime is to quantize the exported graph itself (``int8@ort``), and
``StaticInt8Request``, left by ``int8:static`` (and by plain ``int8`` under ``@openvino``) when the
runtime is to calibrate activation scales on train texts and quantize statically. ``kept_nodes``
says, from graph node names alone, which nodes the sensitive-layer options keep in float.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    "openvino": RuntimeConfig(
        name="openvino",
        summary="OpenVINO: Intel's inference engine for CPUs. The model is converted to "
        "OpenVINO's own format and compiled for this CPU, with the arithmetic precision set "
        "explicitly (fp32 means 32-bit maths, half means bfloat16) and int8 calibrated on "
        "train texts.",
        label="OpenVINO",
        sentence="OpenVINO converts the model to Intel's inference format and compiles it for "
        "this CPU's vector and matrix units; with int8 it calibrates activation scales on "
        "real train texts once, which is usually the fastest int8 on Intel CPUs.",
        served="served with OpenVINO, Intel's CPU inference engine, compiled for this CPU",
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


# Sensitive parts a static (or torch dynamic) int8 step may keep in float, by option name.
KEEP_PARTS = ("embeddings", "head", "first", "last", "ffn-out")
_LAYER_INDEX = re.compile(r"(?:^|[/._])(?:layer|layers|albert_layers)[._](\d+)(?:[/._]|$)")
_EMBEDDINGS = re.compile(r"embed", re.IGNORECASE)
_HEAD = re.compile(r"(?:^|[/._])(?:classifier|pre_classifier|pooler|head|lm_head)(?:[/._]|$)")
# The feed-forward down-projection of each layer (its input is the GELU output, whose outliers
# make static int8 lose most): BERT-like, MPNet, DeBERTa ``output.dense`` (not the attention's),
# DistilBERT ``ffn.lin2``, ModernBERT ``mlp.Wo``, ALBERT ``ffn_output``.
_FFN_OUT = re.compile(
    r"(?:^|[/.])(?:(?<!attention[/.])output[/.]dense|ffn[/.]lin2|mlp[/.]Wo|ffn_output)(?:[/.]|$)"
)


def layer_index(name: str) -> int | None:
    """The encoder layer a graph node or module belongs to (``.../layer.3/...`` -> 3)."""
    found = _LAYER_INDEX.findall(name)
    return int(found[-1]) if found else None


def kept_nodes(names: Iterable[str], keep: Iterable[str]) -> list[str]:
    """The node (or module) names that the ``keep`` parts cover, in the order given.

    Works on ONNX node names and OpenVINO op names from the ONNX export
    (``/model/bert/encoder/layer.0/attention/self/query/MatMul``) and on torch module names
    (``bert.encoder.layer.0.attention.self.query``): ``embeddings`` is anything named embed*,
    ``head`` the pooler and classifier, ``first``/``last`` the lowest and highest layer index,
    ``ffn-out`` every layer's feed-forward down-projection.
    """
    names = list(names)
    keep = set(keep)
    indices = [i for i in (layer_index(n) for n in names) if i is not None]
    first = min(indices) if indices else None
    last = max(indices) if indices else None
    out = []
    for name in names:
        index = layer_index(name)
        if (
            ("embeddings" in keep and index is None and _EMBEDDINGS.search(name))
            or ("head" in keep and index is None and _HEAD.search(name))
            or ("first" in keep and index is not None and index == first)
            or ("last" in keep and index is not None and index == last)
            or ("ffn-out" in keep and index is not None and _FFN_OUT.search(name))
        ):
            out.append(name)
    return out


DEFAULT_CALIBRATION_SAMPLES = 300


@dataclass(frozen=True)
class StaticInt8Request:
    """``int8:static``: the runtime calibrates activation scales on these train texts, then
    quantizes weights and activations to int8 ahead of time (no per-call activation scales).

    ``indices`` are positions in the build's train split (``BuildContext.train``), chosen by the
    step; the eval texts are never in the build context, so they cannot be used."""

    indices: tuple[int, ...]
    keep: tuple[str, ...] = ()  # parts of KEEP_PARTS kept in float
    requested: int = DEFAULT_CALIBRATION_SAMPLES  # what was asked for (the split may be smaller)

    @property
    def samples(self) -> int:
        return len(self.indices)

    def backend(self, runtime: str) -> str:
        engine = {
            "ort": "onnxruntime static QDQ",
            "openvino": "openvino NNCF post-training (transformer preset)",
        }.get(runtime, runtime)
        kept = f", keeping {'/'.join(self.keep)} in float" if self.keep else ""
        return f"{engine}, calibrated on {self.samples} train texts{kept}"


class ServingContext(Protocol):
    """What a runtime reads from the build (``lib.techniques.BuildContext`` provides it)."""

    device: str
    precision: str
    tokenizer: Any
    train: Any
    pending_int8: Int8Request | None
    pending_static_int8: StaticInt8Request | None
