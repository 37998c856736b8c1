"""Techniques: a variant is a chain of registered steps plus a serving runtime.

Syntax (``lib.techniques.grammar``): steps joined by ``+``, each ``name`` or ``name:param``,
then an optional ``@runtime``; e.g. ``fp32``, ``int8``, ``distill:3+int8@ort``. Descriptions and
parameter checks are in ``configs``; the torch work of each step is in its handler module,
loaded by ``registry`` only when a chain is applied. Importing this package imports no torch.
"""

from lib.runtimes.configs import DEFAULT_RUNTIME, Int8Request
from lib.schema import BASELINE
from lib.techniques.configs import TECHNIQUES, TechniqueConfig, int_param
from lib.techniques.context import BuildContext
from lib.techniques.grammar import Step, Variant, check_against_model, parse_variant
from lib.techniques.registry import apply_chain, get, handler, register, techniques

__all__ = [
    "BASELINE",
    "DEFAULT_RUNTIME",
    "TECHNIQUES",
    "BuildContext",
    "Int8Request",
    "Step",
    "TechniqueConfig",
    "Variant",
    "apply_chain",
    "check_against_model",
    "get",
    "handler",
    "int_param",
    "parse_variant",
    "register",
    "techniques",
]
