"""The PC/SC stack for the social security card tests: a pcscd with vsmartcard's vpcd reader,
the running one or one started for the test session (the `vpcd` fixture in conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from drivers.sscard import SocialSecurityReader, SSCardError

VPCD_READER = "Virtual PCD 00 00"  # the slot vpcd serves on port 35963


def wait_until(check, timeout: float = 5.0) -> bool:
    """True once `check()` is; False after `timeout` seconds (for a teardown that must go on)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _vpcd_conf() -> str | None:
    for conf in Path("/etc/reader.conf.d").glob("*"):
        if "libifdvpcd" in conf.read_text(errors="replace"):
            return str(conf)
    return None


def _readers() -> list[str] | None:
    """Reader names, or None when no pcscd answers."""
    try:
        return SocialSecurityReader().readers()
    except SSCardError:
        return None


def vpcd_reader(scratch: Path) -> Iterator[str]:
    """Yields the vpcd reader's name while a pcscd serves it; skips the test when it cannot."""
    names = _readers()
    if names is not None:
        if VPCD_READER not in names:
            pytest.skip(
                f"a pcscd is already running but has no {VPCD_READER!r} reader (it has {names}); "
                "install vsmartcard-vpcd and restart pcscd"
            )
        yield VPCD_READER
        return

    exe = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
    if exe is None:
        pytest.skip("pcscd is not installed (apt install pcscd)")
    if _vpcd_conf() is None:
        pytest.skip("no reader.conf.d entry for libifdvpcd.so (apt install vsmartcard-vpcd)")

    log_path = scratch / "pcscd.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [exe, "--foreground", "--apdu"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 10
        while VPCD_READER not in (_readers() or []):
            if proc.poll() is not None:
                pytest.skip(f"pcscd exited with {proc.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.skip(
                    f"pcscd started but {VPCD_READER!r} never appeared (readers: {_readers()}):\n"
                    f"{_tail(log_path)}"
                )
            time.sleep(0.1)
        yield VPCD_READER
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
