"""What a technique is expected to do on this hardware, said before a run and checked after it.

Which technique pays off depends on the chip: the product measures rather than assumes, but it
warns where a technique is known not to help here, and afterwards says whether the measurement
agreed. The rules below come from measurements on these machines (see docs/how-we-measure.md and
DESIGN.md), not from vendor claims.

``expected_speedup`` is relative to the fp32 baseline on the same device and batch size:
``"slower"`` (below 0.9x), ``"none"`` (0.9x-1.1x), ``"faster"`` (above 1.1x) or ``None`` (no
expectation about speed; e.g. the variant will not run at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from lib.techniques.grammar import parse_variant

# A measured speed-up inside [1 - BAND, 1 + BAND] counts as "no change".
BAND = 0.10

BF16_FLAGS = ("AVX512-BF16", "AMX-BF16")
INT8_FLAGS = ("AVX512-VNNI", "AVX-VNNI", "AMX-INT8")
TORCH_INT8_BACKENDS = (None, "per-tensor", "per-channel")
_COMPILED_RUNTIMES = ("compile", "inductor")


@dataclass(frozen=True)
class Expectation:
    level: str  # "warn" (expected not to help, or to fail) or "info"
    message: str
    expected_speedup: str | None  # "slower", "none", "faster" or None
    step: str = ""  # the step (or runtime) the expectation is about

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expectations_for(variant, env: dict) -> list[Expectation]:
    """Expectations for a parsed ``Variant`` (or its text) on the environment ``env``.

    ``env`` is ``lib.measure.environment.capture()``'s dict; only ``device``, ``cpu_flags`` and
    ``cpu_model`` are read. The baseline gets none.
    """
    if isinstance(variant, str):
        variant = parse_variant(variant)
    device = env.get("device") or "cpu"
    flags = set(env.get("cpu_flags") or [])
    cpu = env.get("cpu_model") or "this CPU"
    runtime = getattr(variant, "runtime", "eager") or "eager"
    out: list[Expectation] = []
    for step in variant.steps:
        name, param = step.name, step.param
        label = str(step)
        if (
            name == "half"
            and runtime == "openvino"
            and device == "cpu"
            and not flags & set(BF16_FLAGS)
        ):
            out.append(
                Expectation(
                    "warn",
                    f"{label}@openvino: OpenVINO computes half precision as bf16, and {cpu} has "
                    "neither AVX512-BF16 nor AMX: this variant will fail here; use "
                    "fp32@openvino or int8@openvino.",
                    None,
                    label,
                )
            )
        elif name == "half" and not (runtime == "openvino" and device != "cpu"):
            out.extend(_half(label, param, device, flags, cpu))
        elif name == "int8":
            out.extend(_int8(label, param, device, flags, cpu, runtime))
        elif _is_unstructured_sparsity(name, param):
            out.append(
                Expectation(
                    "warn",
                    f"{label}: zeroing individual weights keeps the matrices dense, and dense "
                    "kernels multiply zeros as fast as any other number: expect no speed-up and "
                    "no smaller file unless a sparse runtime or compression is used.",
                    "none",
                    label,
                )
            )
        elif name in ("prune-structured", "distill"):
            what = (
                "removes whole heads and neurons"
                if name == "prune-structured"
                else ("keeps fewer layers")
            )
            out.append(
                Expectation(
                    "info",
                    f"{label}: {what}, so there is less to compute on any hardware: expect it "
                    "faster, roughly in proportion to what was removed.",
                    "faster",
                    label,
                )
            )
    if runtime == "openvino":
        out.extend(_openvino(device, cpu))
    return out


def _openvino(device: str, cpu: str) -> list[Expectation]:
    if device != "cpu":
        return [
            Expectation(
                "warn",
                f"@openvino compiles for Intel's CPU plugin only: this variant will fail on "
                f"{device}.",
                None,
                "@openvino",
            )
        ]
    return []


def _half(label: str, param: str | None, device: str, flags: set[str], cpu: str):
    if device == "cuda":
        return [
            Expectation(
                "info",
                f"{label}: fp16 on a GPU uses its tensor cores: expect it faster than fp32 at "
                "large batches (about the same at batch 1, where kernel launches dominate).",
                "faster",
                label,
            )
        ]
    if device == "mps":
        return [
            Expectation("info", f"{label}: fp16 on Apple MPS; gains vary by chip.", None, label)
        ]
    if param in ("fp16", "float16"):
        return [
            Expectation(
                "warn",
                f"{label}: float16 on a CPU has no fast kernels: expect it several times slower "
                "than fp32 (3.7x slower on the reference machines).",
                "slower",
                label,
            )
        ]
    have = sorted(flags & set(BF16_FLAGS))
    if have:
        return [
            Expectation(
                "info",
                f"{label}: runs as bfloat16, which {cpu} computes natively ({', '.join(have)}): "
                "expect it faster than fp32 (1.8x on an AVX512-BF16 reference machine).",
                "faster",
                label,
            )
        ]
    return [
        Expectation(
            "warn",
            f"{label}: on a CPU this runs as bfloat16, and {cpu} has neither AVX512-BF16 nor "
            "AMX, so every bf16 operation is emulated: expect it much slower than fp32 (about "
            "6x slower on an AVX2-only AMD EPYC). It still halves the memory.",
            "slower",
            label,
        )
    ]


def _int8(
    label: str, param: str | None, device: str, flags: set[str], cpu: str, runtime: str
) -> list[Expectation]:
    if param == "torchao":
        if runtime in _COMPILED_RUNTIMES:
            return [
                Expectation(
                    "info",
                    f"{label}: torchao int8 under torch.compile gets fused int8 kernels; the "
                    "gain depends on the chip and the batch size.",
                    None,
                    label,
                )
            ]
        return [
            Expectation(
                "warn",
                f"{label}: torchao's int8 without torch.compile runs unfused, op by op: expect "
                "it slower than fp32 (2-4x slower on CPUs here; slower than fp16 on an H200). "
                "Serve it with a compiled runtime to see its real speed.",
                "slower",
                label,
            )
        ]
    if param == "static" or (runtime == "openvino" and param in TORCH_INT8_BACKENDS):
        # OpenVINO's int8 is always NNCF's calibrated (static) int8; its device is _openvino's
        if device != "cpu" and runtime == "openvino":
            return []
        return _static_int8(label, device, flags, cpu)
    if param not in TORCH_INT8_BACKENDS:
        return []
    if device in ("cuda", "mps"):
        return [
            Expectation(
                "warn",
                f"{label}: torch's dynamic int8 runs only on a CPU, so this variant will fail "
                f"on {device}; use 'int8:torchao' (with a compiled runtime) or 'half' there.",
                None,
                label,
            )
        ]
    have = sorted(flags & set(INT8_FLAGS))
    if have:
        return [
            Expectation(
                "info",
                f"{label}: {cpu} has int8 dot-product instructions ({', '.join(have)}): expect "
                "it faster than fp32 (1.2-2x for BERT-sized models), at a small cost in accuracy.",
                "faster",
                label,
            )
        ]
    return [
        Expectation(
            "warn",
            f"{label}: {cpu} has no VNNI or AMX int8 instructions, so int8 matrix products "
            "gain little over fp32: expect about the same speed (the layers still get 4x "
            "smaller).",
            "none",
            label,
        )
    ]


def _static_int8(label: str, device: str, flags: set[str], cpu: str) -> list[Expectation]:
    if device != "cpu":
        return [
            Expectation(
                "warn",
                f"{label}: static int8 is quantized for CPU int8 kernels (ONNX Runtime, "
                f"OpenVINO): this variant will fail on {device}.",
                None,
                label,
            )
        ]
    have = sorted(flags & set(INT8_FLAGS))
    if have:
        return [
            Expectation(
                "info",
                f"{label}: activation scales are calibrated once on train texts, so no batch "
                f"pays to quantize them, and {cpu} has int8 dot products ({', '.join(have)}): "
                "expect it faster than fp32 and than dynamic int8 (int8@openvino ran 4.4x "
                "faster than fp32 at batch 32 on an AVX512-VNNI/AMX Xeon here).",
                "faster",
                label,
            )
        ]
    return [
        Expectation(
            "warn",
            f"{label}: {cpu} has no VNNI or AMX int8 instructions, so int8 matrix products gain "
            "little over fp32: expect a modest gain at best (the model still gets 4x smaller).",
            "none",
            label,
        )
    ]


def _is_unstructured_sparsity(name: str, param: str | None) -> bool:
    text = f"{name}:{param or ''}".lower()
    if "unstructured" in text:
        return True
    return name in ("sparsity", "magnitude", "prune-unstructured", "sparse")


# ---------------------------------------------------------------- after the run
def combined(expectations: Iterable[Expectation]) -> str | None:
    """One expected direction for a chain: any "slower" wins, then "faster", then "none"."""
    seen = {e.expected_speedup for e in expectations}
    for direction in ("slower", "faster", "none"):
        if direction in seen:
            return direction
    return None


def measured_direction(speedup: float, band: float = BAND) -> str:
    if speedup > 1 + band:
        return "faster"
    if speedup < 1 - band:
        return "slower"
    return "none"


def compare(
    expectations: Expectation | Sequence[Expectation] | None,
    speedup_vs_baseline: float | None,
    *,
    unstable: bool = False,
) -> dict[str, Any]:
    """Structured verdict: ``expected``, ``measured``, ``agrees`` (bool or None) and ``text``."""
    if isinstance(expectations, Expectation):
        expectations = [expectations]
    expected = combined(expectations or [])
    if speedup_vs_baseline is None or speedup_vs_baseline <= 0:
        return {
            "expected": expected,
            "measured": None,
            "agrees": None,
            "text": "not measured: no speed to compare with the expectation",
        }
    s = float(speedup_vs_baseline)
    measured = measured_direction(s)
    shown = f"{s:.2f}x" if s < 10 else f"{s:.0f}x"
    if expected is None:
        agrees, text = None, f"measured {shown} ({_word(measured)}); no expectation was given"
    elif expected == measured:
        agrees, text = True, f"expected {_word(expected)}, measured {shown}: as expected"
    else:
        agrees = False
        better = _rank(measured) > _rank(expected)
        text = (
            f"expected {_word(expected)}, measured {shown}: "
            f"{'better' if better else 'worse'} than expected"
        )
    if unstable:
        text += " (the timing was unstable, so this verdict is uncertain)"
    return {"expected": expected, "measured": measured, "agrees": agrees, "text": text}


def check_against_measurement(
    expectations: Expectation | Sequence[Expectation] | None,
    speedup_vs_baseline: float | None,
    *,
    unstable: bool = False,
) -> str:
    """E.g. ``"expected slower, measured 0.17x: as expected"``.

    ``speedup_vs_baseline`` is baseline latency / variant latency (p50, same batch size): above
    1 is faster.
    """
    return compare(expectations, speedup_vs_baseline, unstable=unstable)["text"]


def _word(direction: str) -> str:
    return {"none": "no speed change"}.get(direction, direction)


def _rank(direction: str) -> int:
    return {"slower": 0, "none": 1, "faster": 2}[direction]
