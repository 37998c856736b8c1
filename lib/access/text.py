"""User text made inert where Leanbench shows or exports it.

- ``escape_markdown``: a run name, a file name, a path or a label put into a Streamlit Markdown
  string shows as typed: no link, image, heading, emphasis, LaTeX, colour or icon directive. (Raw
  HTML is never rendered: no page uses ``unsafe_allow_html``.)
- ``safe_cell`` / ``safe_frame`` / ``to_csv``: a text cell that starts with ``= + - @`` (or a tab
  or carriage return) gets a leading ``'``, so a spreadsheet opening the export reads text, not a
  formula (CSV injection). Numbers stay numbers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# The marks that make Markdown active anywhere in a line: emphasis, code, links and images (no
# link or image, nor a ``:color[...]`` directive, without a bracket), autolinks, LaTeX and
# strikethrough; a backslash before one makes it a literal character. At the start of a line,
# heading, list and quote marks too.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$~])")
_LINE_START = re.compile(r"^(\s*\d*)([#>+\-=.)])")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_markdown(text: object) -> str:
    """``text`` as literal characters inside a Markdown string."""
    out = _MARKDOWN_SPECIAL.sub(r"\\\1", "" if text is None else str(text)).replace("\n", " ")
    return _LINE_START.sub(r"\1\\\2", out)


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet cannot run: text starting with a formula character is prefixed
    with ``'``; anything that is not text is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) made safe by ``safe_cell``."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(c) for c in out.columns]
    return out


def to_csv(frame: pd.DataFrame, **kwargs: Any) -> str:
    """``frame.to_csv`` of the safe copy (``index=False`` unless given)."""
    kwargs.setdefault("index", False)
    return safe_frame(frame).to_csv(**kwargs)
