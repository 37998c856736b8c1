"""Runtimes: how a built variant is served (``eager``, ``ort``, ``compile``).

Importing this package, listing the runtimes or reading their descriptions imports no torch;
a runtime's code is loaded when a model is prepared with it (``lib.runtimes.registry``).
"""

from lib.runtimes.configs import DEFAULT_RUNTIME, RUNTIMES, Int8Request, RuntimeConfig
from lib.runtimes.registry import Predictor, Runtime, get, register, runtimes

__all__ = [
    "DEFAULT_RUNTIME",
    "RUNTIMES",
    "Int8Request",
    "Predictor",
    "Runtime",
    "RuntimeConfig",
    "get",
    "register",
    "runtimes",
]
