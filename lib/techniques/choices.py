"""The Techniques page's choices as plain Python: which variants of a draft the checkboxes can
show (one step of one technique, on one runtime) and which need the advanced field, the text of a
variant built from a checkbox, its setting and runtime, and the hints shown beside each."""

from __future__ import annotations

from lib.errors import UserError
from lib.techniques import DEFAULT_RUNTIME, parse_variant


def split_variants(variants: list[str], names: list[str]) -> tuple[dict, list[str]]:
    """Which variants the checkboxes can show (one step, one per technique), which need the
    advanced field: ({technique: {"param", "runtime"}}, [variant text...]). The baseline is
    always measured, so it is in neither."""
    simple: dict[str, dict] = {}
    advanced: list[str] = []
    for text in variants:
        try:
            v = parse_variant(text)
        except UserError:
            advanced.append(text)
            continue
        if v.is_baseline:
            continue
        if len(v.steps) == 1 and v.steps[0].name in names and v.steps[0].name not in simple:
            simple[v.steps[0].name] = {"param": v.steps[0].param or "", "runtime": v.runtime}
        else:
            advanced.append(text)
    return simple, advanced


def variant_text(name: str, param: str = "", runtime: str = DEFAULT_RUNTIME) -> str:
    """ "int8", "prune-unstructured:50", "int8@ort": a technique with its setting and runtime."""
    return (
        name
        + (f":{param}" if param else "")
        + (f"@{runtime}" if runtime != DEFAULT_RUNTIME else "")
    )


def split_list(text: str) -> list[str]:
    """The advanced field's comma-separated variants, blanks dropped."""
    return [t.strip() for t in text.split(",") if t.strip()]


def placeholder(help_text: str) -> str:
    """A setting's placeholder from its help: "... (e.g. prune-unstructured:50)" -> "e.g. 50"."""
    if "e.g." in help_text:
        example = help_text.split("e.g.", 1)[1].strip(" )")
        example = example.split(",")[0].split(" for ")[0]
        return "e.g. " + example.split(":", 1)[-1].strip(" )")
    if "(default)" in help_text:
        return "empty = " + help_text.split("(default)")[0].split(":")[-1].strip()
    return "optional"


def short_help(help_text: str, limit: int = 120) -> str:
    """A setting's help cut to one caption line."""
    return help_text if len(help_text) < limit else help_text[: limit - 3] + "…"
