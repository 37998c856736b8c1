"""Price catalogues as a user uploads them on the Cost page (or ``--catalog FILE``): any bytes,
and the real files with cells replaced by anything. Each is applied or gives a UserError."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from lib.cost import catalog as cat
from tests.fuzz.common import FUZZ, loads_or_user_error

BASE = cat.load_catalog()
FILES = {
    "cloud": cat.CLOUD_FILE.read_text().splitlines()[:6],
    "hardware": cat.HARDWARE_FILE.read_text().splitlines()[:6],
    "peaks": cat.PEAKS_FILE.read_text().splitlines()[:6],
}
cells = (
    st.text(max_size=10)
    | st.sampled_from(["", "0", "-1", "1e400", "nan", "inf", "2025-13", "2025-02-30", "=1+1"])
    | st.floats(allow_nan=True, allow_infinity=True).map(str)
    | st.integers(min_value=-(10**30), max_value=10**30).map(str)
)


def _apply(raw: bytes, replace_part: bool) -> None:
    new = cat.load_user_catalog(raw, BASE, name="mine.csv", replace_part=replace_part)
    cat.price_dates(new)
    cat.catalog_date_range(new)


@FUZZ
@given(st.binary(max_size=300), st.booleans())
def test_any_bytes(raw, replace_part):
    loads_or_user_error(_apply, raw, replace_part)


@FUZZ
@given(st.sampled_from(sorted(FILES)), st.data(), st.booleans())
def test_real_files_with_cells_changed(kind, data, replace_part):
    rows = list(csv.reader(FILES[kind]))
    for _ in range(data.draw(st.integers(min_value=1, max_value=5), label="changes")):
        r = data.draw(st.integers(min_value=0, max_value=len(rows) - 1), label="row")
        c = data.draw(st.integers(min_value=0, max_value=len(rows[r]) - 1), label="column")
        rows[r][c] = data.draw(cells, label="cell")
    if data.draw(st.booleans(), label="ragged"):
        rows[-1] = rows[-1][: data.draw(st.integers(0, len(rows[-1])), label="cut")]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    loads_or_user_error(_apply, out.getvalue().encode(), replace_part)
