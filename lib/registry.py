"""A lazy name -> implementation registry, shared by techniques and runtimes.

Each entry is a ``"package.module:attribute"`` string (or an object already in hand). Nothing is
imported until an entry is first loaded, so listing, parsing and validating names never pulls in
the heavy libraries an implementation needs (torch, transformers, onnxruntime).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Generic, TypeVar

from lib.errors import UserError

T = TypeVar("T")


class LazyRegistry(Generic[T]):
    """``kind`` names what is registered, for the error on an unknown name ("technique")."""

    def __init__(self, kind: str, entries: dict[str, str | T] | None = None):
        self.kind = kind
        self._entries: dict[str, str | T] = dict(entries or {})
        self._loaded: dict[str, T] = {}

    def register(self, name: str, target: str | T) -> None:
        """Add (or replace) ``name``: a ``"module:attribute"`` string or the object itself."""
        self._entries[name] = target
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def target(self, name: str) -> str | T:
        """What ``name`` points at, without loading it."""
        self._known(name)
        return self._entries[name]

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded

    def load(self, name: str) -> T:
        """The implementation of ``name``, imported on first use."""
        if name in self._loaded:
            return self._loaded[name]
        self._known(name)
        target = self._entries[name]
        if isinstance(target, str):
            module, _, attribute = target.partition(":")
            value = getattr(importlib.import_module(module), attribute)
        else:
            value = target
        self._loaded[name] = value
        return value

    def _known(self, name: str) -> None:
        if name not in self._entries:
            known = ", ".join(self._entries) or "none"
            raise UserError(f"Unknown {self.kind} '{name}'. Known: {known}.")
