"""What the fuzz suites share: bounded Hypothesis settings, JSON-like values, and the property
itself: an input either loads or gives a ``UserError`` with a message, never another exception.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from lib.errors import UserError

# Bounded so the whole fuzz suite stays well under a minute on two cores; deterministic (no
# example database, derandomised) so CI sees the same examples every run. LEANBENCH_FUZZ_EXAMPLES
# runs more (a deeper search by hand: LEANBENCH_FUZZ_EXAMPLES=2000 pytest tests/fuzz).
FUZZ = settings(
    max_examples=int(os.environ.get("LEANBENCH_FUZZ_EXAMPLES") or 60),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Scalars a JSON file can hold, then lists and objects of them (a few levels deep).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def loads_or_user_error(parse: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``parse(*args)``; a UserError (with a message) is fine, anything else fails the test."""
    try:
        return parse(*args, **kwargs)
    except UserError as exc:
        assert str(exc).strip(), f"a UserError without a message from {args!r}"
        return None


def mutate(base: dict, data: st.DataObject) -> dict:
    """``base`` (a nested dict) with a few values replaced by arbitrary JSON values, keys
    dropped or unknown keys added: close enough to a real document to get past the first check.
    """
    import copy

    doc = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4), label="changes")):
        path = []
        node: Any = doc
        while isinstance(node, dict) and node and data.draw(st.booleans(), label="deeper"):
            key = data.draw(st.sampled_from(sorted(node, key=str)), label="key")
            path.append(key)
            if not isinstance(node[key], dict):
                break
            node = node[key]
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        how = data.draw(st.sampled_from(["replace", "drop", "add"]), label="how")
        if not isinstance(parent, dict):
            continue
        if how == "add" or not path:
            parent[data.draw(st.text(max_size=8), label="new key")] = data.draw(json_values)
        elif how == "drop":
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = data.draw(json_values, label="value")
    return doc
