"""Driving a real Kivy app in tests: a private Xvfb screen, touches through X (xdotool), screenshots."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def shots_dir() -> Path:
    """Where tests save screenshots: the docs' images when ONEWINDOW_DOC_SHOTS=1 (to refresh
    them on purpose), else a scratch folder, so a test run leaves the checkout as it was."""
    if os.environ.get("ONEWINDOW_DOC_SHOTS"):
        return REPO / "docs" / "img"
    import tempfile
    return Path(tempfile.gettempdir()) / "onewindow-shots"


class Screen:
    """An Xvfb of a given size; every app in a test shares it."""

    def __init__(self, width: int, height: int):
        for tool in ("Xvfb", "xdotool", "import"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed (the README's test command installs it)")
        self.width, self.height = width, height
        # -displayfd: Xvfb picks a free display itself and tells us which, so parallel test
        # runs (or any other X server) never race for the same number
        r, w = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0",
                                      f"{width}x{height}x24", "-nolisten", "tcp"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     pass_fds=(w,))
        os.close(w)
        number = b""
        deadline = time.monotonic() + 10
        while not number.endswith(b"\n"):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                os.close(r)
                raise RuntimeError("Xvfb did not start")
            chunk = os.read(r, 16)
            if not chunk:
                break
            number += chunk
        os.close(r)
        if not number.strip():
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number.decode().strip()}"

    def env(self) -> dict:
        return {**os.environ, "DISPLAY": self.display}

    def tap_at(self, x: int, y: int) -> None:
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], env=self.env(),
                       check=True, timeout=10)

    def type_text(self, text: str) -> None:
        """Text into whatever has the focus: ASCII typed key by key; Chinese pasted, as an input
        method hands over a phrase (xdotool's typing of CJK drops characters)."""
        if text.isascii():
            subprocess.run(["xdotool", "type", "--delay", "40", text], env=self.env(),
                           check=True, timeout=60)
            return
        subprocess.run(["xclip", "-selection", "clipboard"], input=text.encode("utf-8"),
                       env=self.env(), check=True, timeout=10)
        subprocess.run(["xdotool", "key", "ctrl+v"], env=self.env(), check=True, timeout=10)

    def screenshot(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["import", "-window", "root", str(path)], env=self.env(), check=True, timeout=20)
        return path

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


class App:
    """A OneWindow Kivy app as a subprocess on a Screen; it reports its touch targets to a file."""

    def __init__(self, screen: Screen, args: list[str], tmp: Path, name: str = "app"):
        self.screen = screen
        self.targets_path = tmp / f"{name}-targets.json"
        self.log_path = tmp / f"{name}.log"
        env = {**screen.env(), "ONEWINDOW_TARGETS": str(self.targets_path), "PYTHONUNBUFFERED": "1"}
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "onewindow.cli", *args], env=env,
                                     cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)

    def targets(self) -> dict:
        try:
            return json.loads(self.targets_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def wait_screen(self, name: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"app exited ({self.proc.returncode}); log:\n{self.read_log()}")
            t = self.targets()
            if t.get("screen") == name:
                return t
            time.sleep(0.05)
        raise AssertionError(f"screen {name!r} not shown; last {self.targets().get('screen')!r}; "
                             f"log:\n{self.read_log()[-3000:]}")

    def wait_target(self, test_id: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = self.targets().get("targets", {}).get(test_id)
            if t:
                return t
            time.sleep(0.05)
        raise AssertionError(f"no target {test_id!r} on screen {self.targets().get('screen')!r}: "
                             f"{sorted(self.targets().get('targets', {}))}")

    def text(self, test_id: str) -> str:
        """What a labelled widget shows now ("" when it is not on screen)."""
        return (self.targets().get("targets", {}).get(test_id) or {}).get("text", "")

    def wait_text(self, test_id: str, pred, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text(test_id)
            if pred(text):
                return text
            time.sleep(0.03)
        raise AssertionError(f"{test_id} shows {self.text(test_id)!r}; log:\n{self.read_log()[-2000:]}")

    def tap(self, test_id: str, timeout: float = 10) -> None:
        t = self.wait_target(test_id, timeout)
        self.screen.tap_at(t["x"], t["y"])

    def type_into(self, test_id: str, text: str) -> None:
        """A touch on the field, then the text typed, as a keyboard would."""
        self.tap(test_id)
        time.sleep(0.2)
        self.screen.type_text(text)

    def read_log(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
