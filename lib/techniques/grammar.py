"""The variant syntax: steps joined by ``+``, each ``name`` or ``name:param``, then ``@runtime``.

Steps are applied left to right to a fresh copy of the adapted baseline; the optional runtime at
the end picks how the result is served (default ``eager``, plain PyTorch). Examples: ``fp32``,
``int8``, ``distill:3+int8@ort``, ``distill:3+int8:static:300/keep-ends@openvino`` (a step's
parameter may itself hold ``:`` and ``/``: the name ends at the first ``:``). Each step's
parameter is checked on its own and against the runtime (``int8:static`` needs ``@ort`` or
``@openvino``). Parsing and checking use only the configs (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lib.errors import UserError
from lib.runtimes.configs import DEFAULT_RUNTIME, RUNTIMES
from lib.schema import BASELINE
from lib.techniques.configs import TECHNIQUES


@dataclass(frozen=True)
class Step:
    name: str
    param: str | None = None

    def __str__(self) -> str:
        if self.param is None:
            return self.name
        return f"{self.name}{'' if self.param.startswith('/') else ':'}{self.param}"


@dataclass(frozen=True)
class Variant:
    text: str
    steps: tuple[Step, ...]
    runtime: str = DEFAULT_RUNTIME

    @property
    def is_baseline(self) -> bool:
        return self.text == BASELINE


def parse_variant(text: str) -> Variant:
    """Parse ``a:1+b@rt``; a UserError names the bad step."""
    original = text
    text = text.strip()
    if not text:
        raise UserError("Empty variant name.")
    runtime = DEFAULT_RUNTIME
    if "@" in text:
        text, runtime = text.rsplit("@", 1)
        runtime = runtime.strip()
        if runtime not in RUNTIMES:
            known = ", ".join(RUNTIMES)
            raise UserError(
                f"Unknown runtime '@{runtime}' in variant '{original}'. Known: {known}."
            )
    steps = []
    for part in text.split("+"):
        part = part.strip()
        if not part:
            raise UserError(f"Empty step in variant '{original}' (two '+' in a row?).")
        name, colon, text_param = part.partition(":")
        name = name.strip()
        param = text_param.strip() if colon else None
        if not colon and "/" in name:  # options without a parameter: int8/keep-ends
            name, _, options = name.partition("/")
            name, param = name.strip(), "/" + options.strip()
        if name not in TECHNIQUES:
            raise UserError(
                f"Unknown step '{name}' in variant '{original}'. Known: {', '.join(TECHNIQUES)}."
            )
        try:
            TECHNIQUES[name].check(param)
            TECHNIQUES[name].check_runtime(param or None, runtime)
        except UserError as exc:
            raise UserError(f"Step '{part}' in variant '{original}': {exc}") from None
        steps.append(Step(name, param or None))
    return Variant(original.strip(), tuple(steps), runtime)


def check_against_model(variant: Variant, config: Any) -> None:
    """Errors a step can only know with the model in hand (``distill:99`` on 6 layers)."""
    for step in variant.steps:
        try:
            TECHNIQUES[step.name].check_model(step.param, config)
        except UserError as exc:
            raise UserError(f"Step '{step}' in variant '{variant.text}': {exc}") from None
