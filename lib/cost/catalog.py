"""The price catalogue: cloud instances, owned hardware and accelerator peaks.

Three CSV files in ``data/`` (see ``docs/cost.md``), every price row with its source and date:

- ``cloud_instances.csv``: one row per cloud instance type with its on-demand $/h and the
  1-year, 3-year commitment and spot prices as multipliers of on-demand.
- ``hardware.csv``: hardware a company can buy. ``accelerator`` rows live in a ``server`` row
  named by ``host`` and shared by ``per_host`` cards; ``cpu_server`` rows stand alone.
- ``hardware_peaks.csv``: peak TFLOP/s per precision and memory bandwidth per accelerator model.

Users can add rows or upload their own file: everything goes through the same validation, and
a malformed file raises ``UserError`` naming the file, the row and the column.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd

from lib.errors import UserError
from lib.paths import REPO_DATA

DATA_DIR = REPO_DATA
CLOUD_FILE = DATA_DIR / "cloud_instances.csv"
HARDWARE_FILE = DATA_DIR / "hardware.csv"
PEAKS_FILE = DATA_DIR / "hardware_peaks.csv"

STALE_AFTER_MONTHS = 12


@dataclass(frozen=True)
class TableSchema:
    """What one catalogue table must hold; validation is driven by this, not by ad-hoc code."""

    kind: str
    key: str  # the column that names a row; must be unique
    required_text: tuple[str, ...]
    required_numbers: tuple[str, ...]
    optional_numbers: tuple[str, ...] = ()
    optional_text: tuple[str, ...] = ()
    date_column: str | None = None
    positive: tuple[str, ...] = ()  # numbers that must be > 0 when present
    fractions: tuple[str, ...] = ()  # multipliers that must be in (0, 1] when present


CLOUD_SCHEMA = TableSchema(
    kind="cloud",
    key="instance",
    required_text=("provider", "instance", "price_source"),
    required_numbers=("vcpus", "on_demand_usd_per_hour"),
    optional_numbers=(
        "memory_gib",
        "accelerator_count",
        "accelerator_memory_gb",
        "commit_1y_multiplier",
        "commit_3y_multiplier",
        "spot_multiplier",
        "threads_per_core",  # hardware threads per physical core (2: x86 SMT, 1: Graviton)
    ),
    optional_text=(
        "region",
        "cpu",
        "cpu_match",
        "accelerator",
        "accelerator_model",
        "estimate",
        "notes",
    ),
    date_column="price_date",
    positive=("vcpus", "on_demand_usd_per_hour", "threads_per_core"),
    fractions=("commit_1y_multiplier", "commit_3y_multiplier", "spot_multiplier"),
)

HARDWARE_SCHEMA = TableSchema(
    kind="hardware",
    key="name",
    required_text=("name", "kind", "price_source"),
    required_numbers=("purchase_usd", "idle_w", "max_w"),
    optional_numbers=("vcpus", "per_host"),
    optional_text=("accelerator_model", "cpu", "cpu_match", "host", "estimate", "notes"),
    date_column="price_date",
    positive=("purchase_usd", "max_w", "vcpus", "per_host"),
)

PEAKS_SCHEMA = TableSchema(
    kind="peaks",
    key="accelerator_model",
    required_text=("accelerator_model", "spec_source"),
    required_numbers=(),
    optional_numbers=(
        "fp32_tflops",
        "tf32_tflops",
        "fp16_tflops",
        "bf16_tflops",
        "int8_tops",
        "memory_gb",
        "mem_bw_gb_s",
        "tdp_w",
    ),
    optional_text=("notes",),
    positive=("fp32_tflops", "tf32_tflops", "fp16_tflops", "bf16_tflops", "int8_tops"),
)

HARDWARE_KINDS = ("accelerator", "server", "cpu_server")


@dataclass(frozen=True)
class Catalog:
    """The three validated tables. Frozen: edits make a new Catalog (``merge_rows``)."""

    cloud: pd.DataFrame
    hardware: pd.DataFrame
    peaks: pd.DataFrame


# --- reading and validating ------------------------------------------------------------------


def _read_csv(source: str | Path | io.IOBase | bytes, name: str) -> pd.DataFrame:
    """Read every cell as text so validation, not pandas, decides what a bad cell is."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise UserError(f"Catalogue file not found: {name}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"{name}: not a readable CSV file ({exc}).") from exc


def parse_price_date(text: str) -> date:
    """Accept YYYY, YYYY-MM or YYYY-MM-DD (sources often give only a year or month)."""
    text = str(text).strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text)
    if not m:
        raise ValueError(text)
    year, month, day = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    return date(year, month, day)  # raises ValueError on month 13 etc.


def _row_label(df: pd.DataFrame, i: int, key: str) -> str:
    name = str(df.iloc[i].get(key, "")).strip()
    return f"row {i + 1}" + (f" ({name})" if name else "")


def validate_table(raw: pd.DataFrame, schema: TableSchema, name: str) -> pd.DataFrame:
    """Check columns and cells; return a typed copy. Errors name file, row and column.

    Rows are numbered from 1 for the first data row (the header is not counted).
    """
    df = raw.copy()
    df.columns = [str(c).strip() for c in df.columns]
    needed = (*schema.required_text, *schema.required_numbers)
    needed += (schema.date_column,) if schema.date_column else ()
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise UserError(f"{name}: missing column(s) {', '.join(missing)}.")
    for col in (*schema.optional_numbers, *schema.optional_text):
        if col not in df.columns:
            df[col] = ""
    if df.empty:
        raise UserError(f"{name}: no rows.")
    df = df.astype(str).apply(lambda s: s.str.strip())

    for i in range(len(df)):
        where = f"{name}, {_row_label(df, i, schema.key)}"
        for col in schema.required_text:
            if not df.iloc[i][col]:
                raise UserError(f"{where}, column '{col}': empty; a value is required.")
    numbers = (*schema.required_numbers, *schema.optional_numbers)
    out = df.copy()
    for col in numbers:
        values = []
        for i, cell in enumerate(df[col]):
            where = f"{name}, {_row_label(df, i, schema.key)}, column '{col}'"
            if cell == "":
                if col in schema.required_numbers:
                    raise UserError(f"{where}: missing value; a number is required.")
                values.append(float("nan"))
                continue
            try:
                value = float(cell.replace(",", "").lstrip("$"))
            except ValueError:
                raise UserError(f"{where}: '{cell}' is not a number.") from None
            if value < 0 or value != value:
                raise UserError(f"{where}: {cell} must be a non-negative number.")
            if col in schema.positive and value == 0:
                raise UserError(f"{where}: must be greater than 0.")
            if col in schema.fractions and not 0 < value <= 1:
                raise UserError(f"{where}: {cell} must be a multiplier in (0, 1].")
            values.append(value)
        out[col] = pd.Series(values, index=df.index, dtype="float64")
    if schema.date_column:
        dates = []
        for i, cell in enumerate(df[schema.date_column]):
            try:
                dates.append(parse_price_date(cell))
            except ValueError:
                where = f"{name}, {_row_label(df, i, schema.key)}, column '{schema.date_column}'"
                raise UserError(
                    f"{where}: '{cell}' is not a date (use YYYY-MM-DD, YYYY-MM or YYYY)."
                ) from None
        out[schema.date_column] = pd.Series(dates, index=df.index, dtype="object")
    dup = out[schema.key][out[schema.key].duplicated()]
    if not dup.empty:
        raise UserError(f"{name}: '{dup.iloc[0]}' appears twice in column '{schema.key}'.")
    return out.reset_index(drop=True)


def _check_hardware_links(hardware: pd.DataFrame, peaks: pd.DataFrame, name: str) -> None:
    """Cross-table checks: kinds are known, hosts exist, accelerator models have peaks."""
    servers = set(hardware.loc[hardware["kind"] == "server", "name"])
    models = set(peaks["accelerator_model"])
    for i, row in hardware.iterrows():
        where = f"{name}, {_row_label(hardware, int(i), 'name')}"
        if row["kind"] not in HARDWARE_KINDS:
            raise UserError(
                f"{where}, column 'kind': '{row['kind']}' is not one of {', '.join(HARDWARE_KINDS)}."
            )
        if row["kind"] == "accelerator":
            if row["accelerator_model"] not in models:
                raise UserError(
                    f"{where}, column 'accelerator_model': '{row['accelerator_model']}' is not "
                    "in the hardware peaks table."
                )
            if row["host"] and row["host"] not in servers:
                raise UserError(f"{where}, column 'host': no server row named '{row['host']}'.")
            if row["host"] and not row["per_host"] > 0:
                raise UserError(f"{where}, column 'per_host': needed when a host is given.")
        if row["kind"] == "cpu_server" and not row["vcpus"] > 0:
            raise UserError(f"{where}, column 'vcpus': a CPU server needs its thread count.")
        if row["max_w"] < row["idle_w"]:
            raise UserError(f"{where}, column 'max_w': lower than idle_w.")


def _check_cloud_links(cloud: pd.DataFrame, peaks: pd.DataFrame, name: str) -> None:
    models = set(peaks["accelerator_model"])
    for i, row in cloud.iterrows():
        model = row["accelerator_model"]
        if model and model not in models:
            where = f"{name}, {_row_label(cloud, int(i), 'instance')}, column 'accelerator_model'"
            raise UserError(f"{where}: '{model}' is not in the hardware peaks table.")
        if model and not row["accelerator_count"] > 0:
            where = f"{name}, {_row_label(cloud, int(i), 'instance')}, column 'accelerator_count'"
            raise UserError(f"{where}: an instance with an accelerator needs a count of 1 or more.")


def load_table(
    source: str | Path | io.IOBase | bytes, schema: TableSchema, name: str | None = None
) -> pd.DataFrame:
    """Read and validate one catalogue table (a path, an uploaded file object or bytes)."""
    name = name or (str(source) if isinstance(source, str | Path) else f"uploaded {schema.kind}")
    return validate_table(_read_csv(source, name), schema, name)


def load_catalog(
    cloud: str | Path | None = None,
    hardware: str | Path | None = None,
    peaks: str | Path | None = None,
) -> Catalog:
    """The built-in catalogue, or any part of it replaced by the given files."""
    peaks_df = load_table(peaks or PEAKS_FILE, PEAKS_SCHEMA, _display(peaks or PEAKS_FILE))
    cloud_df = load_table(cloud or CLOUD_FILE, CLOUD_SCHEMA, _display(cloud or CLOUD_FILE))
    hw_df = load_table(
        hardware or HARDWARE_FILE, HARDWARE_SCHEMA, _display(hardware or HARDWARE_FILE)
    )
    _check_cloud_links(cloud_df, peaks_df, _display(cloud or CLOUD_FILE))
    _check_hardware_links(hw_df, peaks_df, _display(hardware or HARDWARE_FILE))
    return Catalog(cloud=cloud_df, hardware=hw_df, peaks=peaks_df)


def _display(path: str | Path) -> str:
    """Short file names in messages: data/cloud_instances.csv rather than an absolute path."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(DATA_DIR.parent))
    except ValueError:
        return str(path)


def detect_kind(raw: pd.DataFrame) -> str:
    """Which table a user's file is, judged by its key column."""
    cols = {str(c).strip() for c in raw.columns}
    if "instance" in cols:
        return "cloud"
    if "name" in cols and "purchase_usd" in cols:
        return "hardware"
    if "accelerator_model" in cols and "spec_source" in cols:
        return "peaks"
    raise UserError(
        "Catalogue file not recognised: a cloud file needs an 'instance' column, a hardware file "
        "'name' and 'purchase_usd' columns (see docs/cost.md for the full list)."
    )


_SCHEMAS = {"cloud": CLOUD_SCHEMA, "hardware": HARDWARE_SCHEMA, "peaks": PEAKS_SCHEMA}


def load_user_catalog(
    source: str | Path | io.IOBase | bytes,
    base: Catalog | None = None,
    name: str | None = None,
    replace_part: bool = True,
) -> Catalog:
    """Apply a user's catalogue file (CLI ``--catalog FILE`` or an upload) to ``base``.

    The file's kind (cloud, hardware, peaks) is detected from its columns; a directory is read
    as up to three files with the built-in names. With ``replace_part`` the user's table replaces
    that part of the catalogue (their negotiated prices, nothing else); otherwise its rows are
    merged over the built-in rows (same name replaces).
    """
    base = base or load_catalog()
    if isinstance(source, str | Path) and Path(source).is_dir():
        folder = Path(source)
        found = [folder / f.name for f in (CLOUD_FILE, HARDWARE_FILE, PEAKS_FILE)]
        found = [f for f in found if f.exists()]
        if not found:
            raise UserError(
                f"{folder}: no cloud_instances.csv, hardware.csv or hardware_peaks.csv."
            )
        for f in found:
            base = load_user_catalog(f, base, replace_part=replace_part)
        return base
    name = name or (str(source) if isinstance(source, str | Path) else "uploaded catalogue")
    raw = _read_csv(source, name)
    kind = detect_kind(raw)
    table = validate_table(raw, _SCHEMAS[kind], name)
    if replace_part:
        new = replace(base, **{kind: table})
        _check_cloud_links(new.cloud, new.peaks, name)
        _check_hardware_links(new.hardware, new.peaks, name)
        return new
    return merge_rows(base, **{kind: table}, name=name)


def merge_rows(
    base: Catalog,
    cloud: pd.DataFrame | list[dict] | None = None,
    hardware: pd.DataFrame | list[dict] | None = None,
    peaks: pd.DataFrame | list[dict] | None = None,
    name: str = "added rows",
) -> Catalog:
    """Add or replace rows (an edited row, a user's own instance or card). Validated first.

    Rows whose key (instance / name / accelerator_model) matches a built-in row replace it.
    """
    parts = {}
    for kind, rows in (("cloud", cloud), ("hardware", hardware), ("peaks", peaks)):
        current: pd.DataFrame = getattr(base, kind)
        if rows is None or len(rows) == 0:
            parts[kind] = current
            continue
        schema = _SCHEMAS[kind]
        added = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows
        added = validate_table(_as_text(added), schema, name)
        kept = current[~current[schema.key].isin(added[schema.key])]
        parts[kind] = pd.concat([kept, added], ignore_index=True)
    merged = Catalog(**parts)
    _check_cloud_links(merged.cloud, merged.peaks, name)
    _check_hardware_links(merged.hardware, merged.peaks, name)
    return merged


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Typed rows (from an edited table) back to text, so one validator handles both."""

    def cell(v: object) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, date):
            return v.isoformat()
        return str(v)

    return df.apply(lambda col: col.map(cell)).astype(str)


# --- dates -------------------------------------------------------------------------------------


def price_dates(catalog: Catalog) -> pd.Series:
    """Every price date in the catalogue (cloud and owned)."""
    return pd.concat(
        [catalog.cloud["price_date"], catalog.hardware["price_date"]], ignore_index=True
    )


def catalog_date_range(catalog: Catalog) -> tuple[date, date]:
    """(oldest, newest) price date: the page shows it next to every cost figure."""
    dates = price_dates(catalog)
    return min(dates), max(dates)


def _months_between(earlier: date, later: date) -> float:
    return (
        (later.year - earlier.year) * 12
        + (later.month - earlier.month)
        + (later.day - earlier.day) / 31
    )


def stale_rows(catalog: Catalog, today: date, months: int = STALE_AFTER_MONTHS) -> pd.DataFrame:
    """Rows whose price is older than ``months`` relative to ``today`` (passed in: testable)."""
    rows = []
    for kind, df, key in (
        ("cloud", catalog.cloud, "instance"),
        ("owned", catalog.hardware, "name"),
    ):
        for _, r in df.iterrows():
            age = _months_between(r["price_date"], today)
            if age > months:
                rows.append(
                    {
                        "kind": kind,
                        "name": r[key],
                        "price_date": r["price_date"],
                        "age_months": round(age, 1),
                    }
                )
    return pd.DataFrame(rows, columns=["kind", "name", "price_date", "age_months"])


def is_stale(catalog: Catalog, today: date, months: int = STALE_AFTER_MONTHS) -> bool:
    """True when the oldest price is older than ``months`` (the page then shows a warning)."""
    return not stale_rows(catalog, today, months).empty


def staleness_warning(
    catalog: Catalog, today: date, months: int = STALE_AFTER_MONTHS
) -> str | None:
    """A one-line warning for the page and CLI, or None when every price is recent."""
    stale = stale_rows(catalog, today, months)
    if stale.empty:
        return None
    oldest, newest = catalog_date_range(catalog)
    return (
        f"{len(stale)} of {len(catalog.cloud) + len(catalog.hardware)} prices are older than "
        f"{months} months (oldest {oldest.isoformat()}, newest {newest.isoformat()}): "
        "check current prices before deciding."
    )
