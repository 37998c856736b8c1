"""How numbers are read from loose data and written for people: one of each.

Results, catalogues and frames hold numbers that may be missing, ``None``, NaN, ``pd.NA`` or text
(old JSON files, CSV cells). ``num`` and ``num_or_none`` read them the same way everywhere;
``fmt_*`` write money, milliseconds, ratios and months the same way on every page and report.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "–"  # what a missing value looks like on a page, in a table or in a report


def num(value: Any) -> float:
    """A float, or NaN for anything missing or not a number (booleans are not numbers here)."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def num_or_none(value: Any) -> float | None:
    """A finite float, or None for anything missing, not a number, NaN or infinite."""
    x = num(value)
    return x if math.isfinite(x) else None


def is_missing(value: Any) -> bool:
    """True for None, NaN, ``pd.NA`` and anything that is not a number."""
    return math.isnan(num(value)) if not isinstance(value, bool) else False


def fmt_usd(x: float | None) -> str:
    """$0.41, $0.028, $1.24, $6,875: enough digits to tell small costs apart."""
    if is_missing(x):
        return MISSING
    x = float(x)  # type: ignore[arg-type]
    if x < 0:  # a saving that is a loss, a negative delta
        return "-" + fmt_usd(-x)
    if x >= 1000:
        return f"${x:,.0f}"
    if x >= 1 or x == 0:
        return f"${x:,.2f}"
    decimals = max(2, -math.floor(math.log10(x)) + 1)
    return f"${x:.{decimals}f}"


def fmt_ms(x: float | None) -> str:
    if is_missing(x):
        return MISSING
    x = float(x)  # type: ignore[arg-type]
    return f"{x:,.0f} ms" if x >= 100 else f"{x:.1f} ms" if x >= 1 else f"{x:.2f} ms"


def fmt_times(ratio: float) -> str:
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def format_months(months: float | None) -> str:
    """ "12.5 months", "never" (no saving) or "" when there is nothing to say."""
    if months is None or (isinstance(months, float) and math.isnan(months)):
        return ""
    return "never" if math.isinf(months) else f"{months:.1f} months"
