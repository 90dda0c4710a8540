"""`onewindow devices add --json`: one JSON object on stdout for provisioning scripts."""

from __future__ import annotations

import json
import subprocess
import sys

from busutil import REPO
from onewindow.bus.devices import DeviceRegistry
from onewindow.startup import open_hall


def devices(data_dir, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "onewindow.cli", "devices", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_add_json_prints_one_object_whose_secret_works(tmp_path):
    data = tmp_path / "data"
    open_hall(REPO / "config" / "hall.toml", data).store.close()  # a hall ran here once
    out = devices(
        data, "add", "caller-4", "--role", "caller", "--window", "5", "--window", "4", "--json"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("\n") == 1
    device = json.loads(out.stdout)
    assert set(device) == {"id", "role", "windows", "secret", "hall"}
    assert device["id"] == "caller-4" and device["role"] == "caller" and device["windows"] == [4, 5]
    assert device["hall"] == "demo-county"
    assert DeviceRegistry(data).authenticate("caller-4", device["secret"])


def test_add_json_before_any_hall_ran_takes_the_hall_from_the_file_or_leaves_it_out(tmp_path):
    out = devices(tmp_path / "data", "add", "kiosk-1", "--role", "kiosk", "--json")
    assert out.returncode == 0, out.stderr
    device = json.loads(out.stdout)
    assert set(device) == {"id", "role", "windows", "secret"}  # no hall known yet
    assert device["role"] == "kiosk" and device["windows"] == []
    out = devices(
        tmp_path / "data",
        "add",
        "kiosk-2",
        "--role",
        "kiosk",
        "--json",
        "--config",
        str(REPO / "config" / "hall.toml"),
    )
    assert json.loads(out.stdout)["hall"] == "demo-county"  # from the hall file


def test_a_window_for_a_device_that_serves_the_whole_hall_is_refused(tmp_path):
    out = devices(
        tmp_path / "data",
        "add",
        "kiosk-3",
        "--role",
        "kiosk",
        "--window",
        "2",
        "--config",
        str(REPO / "config" / "hall.toml"),
    )
    assert out.returncode == 2 and "serves the whole hall" in out.stderr


def test_add_json_failure_prints_nothing_on_stdout(tmp_path):
    data = tmp_path / "data"
    assert devices(data, "add", "kiosk-1", "--role", "kiosk", "--json").returncode == 0
    again = devices(data, "add", "kiosk-1", "--role", "kiosk", "--json")
    assert again.returncode == 2 and again.stdout == ""
    assert "already exists" in again.stderr


def test_the_names_the_hall_gives_its_own_broker_users_are_reserved(tmp_path):
    """`uplink` is the bridge's user on the hall's broker (and the platform's appointments come
    from it); `controller` the controller's: a device by either name would share their ACL."""
    data = tmp_path / "data"
    for name in ("uplink", "controller", "ow-uplink-demo-county"):
        out = devices(data, "add", name, "--role", "kiosk")
        assert out.returncode == 2, (name, out.stdout)
        assert f"{name!r} must be" in out.stderr and "'uplink'" in out.stderr
    assert DeviceRegistry(data).list() == []
    assert devices(data, "add", "uplink-kiosk", "--role", "kiosk").returncode == 0


def test_a_device_registered_under_a_reserved_name_before_is_left_out_of_the_broker(
    tmp_path, caplog
):
    from onewindow.bus.acl import mosquitto_files
    from onewindow.bus.devices import DeviceEntry, hash_secret
    from onewindow.bus.topics import Topics

    old = [
        DeviceEntry("uplink", "kiosk", secret_hash=hash_secret("x")),
        DeviceEntry("kiosk-1", "kiosk", secret_hash=hash_secret("y")),
    ]
    mosquitto_files(Topics("demo-county"), old, hash_secret("c"), tmp_path)
    users = [line.split(":")[0] for line in (tmp_path / "passwd").read_text().splitlines()]
    assert users == ["controller", "kiosk-1"]
    assert "user uplink" not in (tmp_path / "acl").read_text()
    assert "devices remove uplink" in caplog.text


def test_add_says_which_data_dir_took_the_device_and_when_no_hall_checked_it(tmp_path):
    """The hall reads only its own --data-dir's devices (default ./data, relative): an installer
    must see where a device went, and that nothing checked it when no hall is known there."""
    unchecked = devices(tmp_path / "data", "add", "kiosk-1", "--role", "kiosk")
    assert unchecked.returncode == 0
    where = str((tmp_path / "data").resolve())
    assert f"registered in {where}: no hall has run there" in unchecked.stderr
    assert f"--data-dir {where}" in unchecked.stderr
    hall_file = str(REPO / "config" / "hall.toml")
    checked = devices(tmp_path / "data", "add", "kiosk-2", "--role", "kiosk", "--config", hall_file)
    assert f"registered in {where} (hall 'demo-county')" in checked.stderr
    assert "no hall" not in checked.stderr


def test_a_listing_cut_short_by_its_reader_ends_quietly(tmp_path):
    """`onewindow ... | head -1`: the reader goes away; no 'Broken pipe' error, no traceback,
    the pipe's exit status."""
    import os

    data = tmp_path / "data"
    for n in range(3):
        assert devices(data, "add", f"kiosk-{n}", "--role", "kiosk").returncode == 0
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first line
    try:
        out = subprocess.run(
            [sys.executable, "-m", "onewindow.cli", "devices", "--data-dir", str(data), "list"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=REPO,
        )
    finally:
        os.close(write)
    assert out.returncode == 141 and out.stderr == ""
