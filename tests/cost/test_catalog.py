"""The price catalogue: loads, validates with row/column errors, merges, knows its age."""

from datetime import date

import pandas as pd
import pytest

from lib.cost.catalog import (
    CLOUD_FILE,
    HARDWARE_FILE,
    catalog_date_range,
    is_stale,
    load_catalog,
    load_user_catalog,
    merge_rows,
    staleness_warning,
)
from lib.errors import UserError


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_builtin_catalogue_has_sources_and_dates(catalog):
    assert {"c7i.2xlarge", "g4dn.xlarge", "g6.xlarge", "p5.4xlarge", "inf2.xlarge"} <= set(
        catalog.cloud["instance"]
    )
    assert {"T4", "L4", "H100 SXM5", "H200 SXM", "CPU server (2-socket)"} <= set(
        catalog.hardware["name"]
    )
    for df in (catalog.cloud, catalog.hardware):
        assert df["price_source"].str.len().min() > 0
        assert df["price_date"].map(lambda d: isinstance(d, date)).all()
    g4dn = catalog.cloud.set_index("instance").loc["g4dn.xlarge"]
    assert g4dn["on_demand_usd_per_hour"] == pytest.approx(0.526)
    assert g4dn["accelerator_model"] == "T4"
    oldest, newest = catalog_date_range(catalog)
    assert oldest <= newest


def _write_broken(tmp_path, mutate, source=CLOUD_FILE):
    df = pd.read_csv(source, dtype=str, keep_default_na=False)
    mutate(df)
    path = tmp_path / "cloud.csv"
    df.to_csv(path, index=False)
    return path


def test_missing_price_names_row_and_column(tmp_path):
    path = _write_broken(tmp_path, lambda df: df.loc.__setitem__((2, "on_demand_usd_per_hour"), ""))
    with pytest.raises(UserError) as err:
        load_catalog(cloud=path)
    msg = str(err.value)
    assert "cloud.csv" in msg and "row 3" in msg and "c7i.xlarge" in msg
    assert "'on_demand_usd_per_hour'" in msg and "missing" in msg


def test_non_numeric_price_bad_date_missing_column(tmp_path):
    path = _write_broken(
        tmp_path, lambda df: df.loc.__setitem__((0, "on_demand_usd_per_hour"), "cheap")
    )
    with pytest.raises(
        UserError,
        match=r"row 1 \(c6i.xlarge\), column 'on_demand_usd_per_hour': 'cheap' is not a number",
    ):
        load_catalog(cloud=path)
    path = _write_broken(tmp_path, lambda df: df.loc.__setitem__((1, "price_date"), "last spring"))
    with pytest.raises(UserError, match=r"row 2 .*'price_date'.*not a date"):
        load_catalog(cloud=path)
    path = _write_broken(tmp_path, lambda df: df.drop(columns=["vcpus"], inplace=True))
    with pytest.raises(UserError, match="missing column.*vcpus"):
        load_catalog(cloud=path)


def test_hardware_row_with_missing_purchase_price(tmp_path):
    df = pd.read_csv(HARDWARE_FILE, dtype=str, keep_default_na=False)
    df.loc[4, "purchase_usd"] = ""
    path = tmp_path / "hw.csv"
    df.to_csv(path, index=False)
    with pytest.raises(UserError, match=r"hw.csv, row 5 \(L4\), column 'purchase_usd': missing"):
        load_catalog(hardware=path)


def test_staleness_relative_to_today(catalog):
    newest = catalog_date_range(catalog)[1]
    assert is_stale(catalog, date(2030, 1, 1))
    assert "older than 12 months" in staleness_warning(catalog, date(2030, 1, 1))
    fresh = merge_rows(catalog, cloud=catalog.cloud.assign(price_date=newest))
    fresh = merge_rows(fresh, hardware=fresh.hardware.assign(price_date=newest))
    assert not is_stale(fresh, newest)
    assert staleness_warning(fresh, newest) is None


def test_user_rows_add_and_replace(catalog, tmp_path):
    mine = {
        "provider": "onprem-cloud",
        "instance": "my-l4-box",
        "vcpus": 8,
        "on_demand_usd_per_hour": 0.5,
        "accelerator_model": "L4",
        "accelerator_count": 1,
        "price_source": "our quote",
        "price_date": "2026-10-01",
    }
    edited = catalog.cloud[catalog.cloud["instance"] == "g4dn.xlarge"].assign(
        on_demand_usd_per_hour=0.4
    )
    merged = merge_rows(catalog, cloud=[mine])
    merged = merge_rows(merged, cloud=edited)
    cloud = merged.cloud.set_index("instance")
    assert cloud.loc["my-l4-box", "on_demand_usd_per_hour"] == 0.5
    assert cloud.loc["g4dn.xlarge", "on_demand_usd_per_hour"] == 0.4
    assert len(merged.cloud) == len(catalog.cloud) + 1
    with pytest.raises(UserError, match="column 'on_demand_usd_per_hour'"):
        merge_rows(catalog, cloud=[mine | {"on_demand_usd_per_hour": None}])
    with pytest.raises(UserError, match="not in the hardware peaks table"):
        merge_rows(catalog, cloud=[mine | {"accelerator_model": "Z9000"}])

    upload = tmp_path / "ours.csv"
    pd.DataFrame([mine]).to_csv(upload, index=False)
    replaced = load_user_catalog(upload, catalog)
    assert list(replaced.cloud["instance"]) == ["my-l4-box"]
    assert len(replaced.hardware) == len(catalog.hardware)
    with pytest.raises(UserError, match="not recognised"):
        bad = tmp_path / "bad.csv"
        bad.write_text("a,b\n1,2\n")
        load_user_catalog(bad, catalog)
