"""Energy: the method is reported honestly (counters vs power model), offline, no files written.

Both branches run through codecarbon itself: without counters (RAPL forced unavailable) and with
a fake RAPL sysfs tree whose package counter a thread advances at a known 20 W.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from lib.errors import UserError
from lib.measure import energy

pytest.importorskip("codecarbon")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network at all, a clean cwd, and codecarbon's hardware cache cleared around the test."""
    from codecarbon.core import hardware_cache

    def refuse(*_a, **_k):
        raise AssertionError("energy measurement tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    hardware_cache.clear_cache()
    yield workdir
    hardware_cache.clear_cache()


def _busy():
    x = 0
    for i in range(20_000):
        x += i


def test_without_counters_the_method_says_estimated(offline, monkeypatch):
    import codecarbon.core.cpu as cc_cpu

    monkeypatch.setattr(cc_cpu, "is_rapl_available", lambda rapl_dir=None: False)
    out = energy.measure_energy(_busy, n_items_per_call=8, min_seconds=0.5)
    assert out["energy_method"].startswith("estimated (codecarbon")
    assert "RAM estimated at" in out["energy_method"]
    assert out["energy_measured"] is False
    cpu = next(c for c in out["details"]["components"] if c["kind"] == "cpu")
    assert cpu["mode"] in ("cpu_load", "constant") and not cpu["measured"]
    assert out["energy_j_per_1k"] > 0
    assert out["details"]["inferences"] == 8 * out["details"]["calls"]
    assert out["carbon_intensity_g_per_kwh"] == pytest.approx(369.473)
    assert out["co2_g_per_1k"] == pytest.approx(
        out["energy_j_per_1k"] / 3.6e6 * out["carbon_intensity_g_per_kwh"]
    )
    assert list(offline.iterdir()) == []  # no emissions.csv or anything else in the cwd


def _fake_rapl(root: Path) -> Path:
    sub = root / "intel-rapl" / "subsystem"
    dom = sub / "intel-rapl:0"
    dom.mkdir(parents=True)
    (dom / "name").write_text("package-0\n")
    (dom / "energy_uj").write_text("0\n")
    (dom / "max_energy_range_uj").write_text("262143328850\n")
    return sub


def test_with_rapl_counters_the_method_says_measured(offline, monkeypatch, tmp_path):
    import codecarbon.core.cpu as cc_cpu
    from codecarbon.external.hardware import CPU

    sub = _fake_rapl(tmp_path / "sys")
    counter = sub / "intel-rapl:0" / "energy_uj"
    real_check = cc_cpu.is_rapl_available
    monkeypatch.setattr(cc_cpu, "is_rapl_available", lambda rapl_dir=None: real_check(str(sub)))
    defaults = list(CPU.__init__.__defaults__)
    defaults[0] = str(sub)  # rapl_dir
    monkeypatch.setattr(CPU.__init__, "__defaults__", tuple(defaults))

    watts, stop = 20.0, threading.Event()

    def advance():  # a package drawing 20 W
        joules, last = 0.0, time.perf_counter()
        while not stop.is_set():
            time.sleep(0.02)
            now = time.perf_counter()
            joules += watts * (now - last)
            last = now
            tmp = counter.with_suffix(".tmp")
            tmp.write_text(f"{int(joules * 1e6)}\n")
            os.replace(tmp, counter)

    thread = threading.Thread(target=advance, daemon=True)
    thread.start()
    try:
        out = energy.measure_energy(lambda: time.sleep(0.01), n_items_per_call=10, min_seconds=1.0)
    finally:
        stop.set()
        thread.join()
    assert out["energy_method"].startswith("measured (RAPL")
    assert out["energy_measured"] is True
    d = out["details"]
    assert d["cpu_j"] == pytest.approx(watts * d["duration_s"], rel=0.25)
    expected = (d["cpu_j"] + d["ram_j"]) / d["inferences"] * 1000
    assert out["energy_j_per_1k"] == pytest.approx(expected)


def test_method_text_for_each_kind_of_hardware():
    ram = {"kind": "ram", "mode": "model", "measured": False, "power_w": 10.0}
    est_cpu = {
        "kind": "cpu",
        "mode": "cpu_load",
        "measured": False,
        "tdp_w": 8,
        "threads": 2,
        "tracking_mode": "process",
    }
    text, measured = energy.energy_method([ram, est_cpu], "cpu")
    assert not measured
    assert text.startswith("estimated (codecarbon CPU power model: 4 W per thread x 2 threads")
    assert "RAM estimated at 10 W" in text

    table_cpu = {**est_cpu, "tdp_w": 65, "threads": 8}
    assert "65 W TDP from its CPU table" in energy.energy_method([ram, table_cpu])[0]

    const_cpu = {**est_cpu, "mode": "constant", "tdp_w": 85, "generic_tdp": True}
    assert "constant CPU power model" in energy.energy_method([ram, const_cpu])[0]

    rapl = {"kind": "cpu", "mode": "intel_rapl", "measured": True}
    assert energy.energy_method([ram, rapl], "cpu") == (
        "measured (RAPL CPU package energy counters; RAM estimated at 10 W)",
        True,
    )

    gpu = {"kind": "gpu", "mode": "nvml", "measured": True, "count": 1}
    text, measured = energy.energy_method([ram, est_cpu, gpu], "cuda")
    assert measured and text.startswith("measured (NVML GPU energy counter; host CPU power model")
    # A CPU run on a GPU machine is decided by the CPU, not by the GPU's counter.
    assert energy.energy_method([ram, est_cpu, gpu], "cpu")[0].startswith("estimated")


def test_describe_hardware_reads_codecarbon_objects():
    from codecarbon.external.hardware import CPU
    from codecarbon.external.ram import RAM

    class Tracker:
        _hardware = [
            RAM(tracking_mode="process"),
            CPU(output_dir=".", mode="cpu_load", model="X", tdp=16, tracking_mode="process"),
        ]

    comps = energy.describe_hardware(Tracker())
    assert [c["kind"] for c in comps] == ["ram", "cpu"]
    assert comps[1]["mode"] == "cpu_load" and comps[1]["tdp_w"] == 16
    assert comps[0]["power_w"] >= 3


def test_a_failed_tracker_is_reported_not_hidden(monkeypatch):
    class Broken:
        _hardware: list = []
        final_emissions_data = None

        def start(self):
            pass

        def stop(self):
            pass

    monkeypatch.setattr(energy, "make_tracker", lambda *a, **k: Broken())
    out = energy.measure_energy(lambda: None, 1, min_seconds=0)
    assert out["energy_j_per_1k"] is None
    assert out["energy_method"].startswith("unavailable")


def test_carbon_intensity_comes_from_the_bundled_table():
    usa = energy.carbon_intensity("usa")
    assert usa["country"] == "USA" and usa["g_per_kwh"] == pytest.approx(369.473)
    assert energy.carbon_intensity("FRA")["g_per_kwh"] < 100
    with pytest.raises(UserError, match="Unknown country code"):
        energy.carbon_intensity("XXX")
