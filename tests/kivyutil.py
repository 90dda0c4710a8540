"""Driving a real Kivy app in tests: a private Xvfb screen, touches through X (xdotool), screenshots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from busutil import die_with_parent

REPO = Path(__file__).resolve().parent.parent


def shots_dir() -> Path:
    """Where tests save screenshots: the docs' images when ONEWINDOW_DOC_SHOTS=1 (to refresh
    them on purpose), else a scratch folder, so a test run leaves the checkout as it was."""
    if os.environ.get("ONEWINDOW_DOC_SHOTS"):
        return REPO / "docs" / "img"
    import tempfile

    scratch = Path(tempfile.gettempdir()) / "onewindow-shots"
    scratch.mkdir(exist_ok=True)  # else Selenium's save_screenshot quietly writes nothing
    return scratch


class Screen:
    """An Xvfb of a given size; every app in a test shares it."""

    def __init__(self, width: int, height: int):
        for tool in ("Xvfb", "xdotool", "import"):
            if shutil.which(tool) is None:
                raise RuntimeError(
                    f"{tool} is not installed (the README's test command installs it)"
                )
        self.width, self.height = width, height
        # -displayfd: Xvfb picks a free display itself and tells us which, so parallel test
        # runs (or any other X server) never race for the same number
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(w),
                "-screen",
                "0",
                f"{width}x{height}x24",
                "-nolisten",
                "tcp",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(w,),
        )
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

        self.ime: InputMethod | None = None

    def env(self) -> dict:
        ime = self.ime.env() if self.ime else {}
        return {**os.environ, "DISPLAY": self.display, **ime}

    def start_input_method(self, tmp: Path, kiosk: bool = False) -> "InputMethod":
        """fcitx5 with its pinyin engine on this screen; apps started after it use it.
        kiosk=True: set up as docs/kiosk.md says for a kiosk (a candidate list in large type)
        and with a dictionary of its own, so that no earlier run's choices reorder the
        candidates a test picks by their digit."""
        self.ime = InputMethod(self, tmp, kiosk)
        return self.ime

    def tap_at(self, x: int, y: int) -> None:
        subprocess.run(
            ["xdotool", "mousemove", str(x), str(y), "click", "1"],
            env=self.env(),
            check=True,
            timeout=10,
        )

    def type_text(self, text: str) -> None:
        """Text into whatever has the focus: ASCII typed key by key; Chinese pasted, as an input
        method hands over a phrase (xdotool's typing of CJK drops characters)."""
        if text.isascii():
            if self.ime:
                self.ime.pinyin(False)  # letters as letters, "/" as "/"
            subprocess.run(
                ["xdotool", "type", "--delay", "40", text], env=self.env(), check=True, timeout=60
            )
            return
        subprocess.run(
            ["xclip", "-selection", "clipboard"],
            input=text.encode("utf-8"),
            env=self.env(),
            check=True,
            timeout=10,
        )
        subprocess.run(["xdotool", "key", "ctrl+v"], env=self.env(), check=True, timeout=10)

    def screenshot(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env(), check=True, timeout=20
        )
        return path

    def close(self) -> None:
        if self.ime:
            self.ime.stop()
        self.proc.terminate()
        self.proc.wait(5)


# fcitx5's profile: US keyboard first (so the input method starts off and ASCII types as
# ASCII), pinyin the one Ctrl+Space switches to
FCITX_PROFILE = """[Groups/0]
Name=Default
Default Layout=us
DefaultIM=pinyin

[Groups/0/Items/0]
Name=keyboard-us
Layout=

[Groups/0/Items/1]
Name=pinyin
Layout=

[GroupOrder]
0=Default
"""


# docs/kiosk.md: fcitx5's candidate list on a kiosk, in type a citizen reads at arm's length
KIOSK_CLASSICUI = 'Font="Noto Sans CJK SC 26"\n'


class InputMethod:
    """The desktop's standard Chinese input: a private D-Bus session and fcitx5 (Debian's
    fcitx5, fcitx5-chinese-addons) on a Screen. Kivy's SDL2 talks to it over D-Bus
    (SDL_IM_MODULE=fcitx): typed pinyin shows as preedit in the field, and a space commits
    the first candidate, as on a hall's console."""

    def __init__(self, screen: "Screen", tmp: Path, kiosk: bool = False):
        for tool in ("fcitx5", "dbus-daemon"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed (scripts/setup.sh installs it)")
        config = tmp / "fcitx-config"
        (config / "fcitx5").mkdir(parents=True, exist_ok=True)
        (config / "fcitx5" / "profile").write_text(FCITX_PROFILE, encoding="utf-8")
        # one on/off state for the whole screen, set by `pinyin(on)`, never by a toggle key
        (config / "fcitx5" / "config").write_text(
            "[Behavior]\nShareInputState=All\n", encoding="utf-8"
        )
        data = {}
        if kiosk:  # and no "en"/"拼" badge over the form at each switch
            (config / "fcitx5" / "config").write_text(
                "[Behavior]\nShareInputState=All\nShowInputMethodInformation=False\n",
                encoding="utf-8",
            )
            (config / "fcitx5" / "conf").mkdir(exist_ok=True)
            (config / "fcitx5" / "conf" / "classicui.conf").write_text(
                KIOSK_CLASSICUI, encoding="utf-8"
            )
            data = {"XDG_DATA_HOME": str(tmp / "fcitx-data")}
        self.bus = f"unix:path={tmp / 'dbus.sock'}"
        self.dbus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--address", self.bus],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not (tmp / "dbus.sock").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("dbus-daemon did not start")
            time.sleep(0.05)
        env = {
            **os.environ,
            "DISPLAY": screen.display,
            "XDG_CONFIG_HOME": str(config),
            "DBUS_SESSION_BUS_ADDRESS": self.bus,
            "XDG_RUNTIME_DIR": str(tmp),
            **data,
        }
        self.proc = subprocess.Popen(
            ["fcitx5", "--disable", "wayland,waylandim"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(2)  # its engines load before the first app asks for it
        if self.proc.poll() is not None:
            raise RuntimeError("fcitx5 did not start")

    def env(self) -> dict:
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.bus,
            "SDL_IM_MODULE": "fcitx",
            "XMODIFIERS": "@im=fcitx",
        }

    def pinyin(self, on: bool) -> None:
        """Pinyin on (`fcitx5-remote -o`) or off (`-c`): set, not toggled, so that a key fcitx5
        saw late can never leave it the wrong way round."""
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.bus}
        subprocess.run(["fcitx5-remote", "-o" if on else "-c"], env=env, check=True, timeout=10)
        time.sleep(0.2)

    def stop(self) -> None:
        for proc in (self.proc, self.dbus):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


class App:
    """A OneWindow Kivy app as a subprocess on a Screen; it reports its touch targets to a file."""

    def __init__(self, screen: Screen, args: list[str], tmp: Path, name: str = "app"):
        self.screen = screen
        self.targets_path = tmp / f"{name}-targets.json"
        self.log_path = tmp / f"{name}.log"
        env = {**screen.env(), "ONEWINDOW_TARGETS": str(self.targets_path), "PYTHONUNBUFFERED": "1"}
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "onewindow.cli", *args],
            preexec_fn=die_with_parent,
            env=env,
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def targets(self) -> dict:
        try:
            return json.loads(self.targets_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def wait_screen(self, name: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"app exited ({self.proc.returncode}); log:\n{self.read_log()}"
                )
            t = self.targets()
            if t.get("screen") == name:
                return t
            time.sleep(0.05)
        raise AssertionError(
            f"screen {name!r} not shown; last {self.targets().get('screen')!r}; "
            f"log:\n{self.read_log()[-3000:]}"
        )

    def wait_target(self, test_id: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = self.targets().get("targets", {}).get(test_id)
            if t:
                return t
            time.sleep(0.05)
        raise AssertionError(
            f"no target {test_id!r} on screen {self.targets().get('screen')!r}: "
            f"{sorted(self.targets().get('targets', {}))}"
        )

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
        raise AssertionError(
            f"{test_id} shows {self.text(test_id)!r}; log:\n{self.read_log()[-2000:]}"
        )

    def tap(self, test_id: str, timeout: float = 10) -> None:
        t = self.wait_target(test_id, timeout)
        self.screen.tap_at(t["x"], t["y"])

    def type_into(self, test_id: str, text: str) -> None:
        """A touch on the field, then the text typed, as a keyboard would."""
        self.tap(test_id)
        time.sleep(0.2)
        self.screen.type_text(text)

    def type_pinyin(self, test_id: str, chunks: list[str], expect: str, tries: int = 3) -> None:
        """Chinese typed as pinyin through the input method (Screen.start_input_method): the
        field touched, pinyin switched on, each chunk typed and committed with a space (its
        first candidate), pinyin switched off. On a loaded machine fcitx5 can answer a key late
        and SDL then lets the letter through raw: the field is cleared and typed again, up to
        `tries` times."""
        env, ime = self.screen.env(), self.screen.ime
        assert ime is not None, "start the input method first (Screen.start_input_method)"
        self.tap(test_id)
        time.sleep(0.3)
        for _ in range(tries):
            ime.pinyin(False)
            subprocess.run(
                ["xdotool", "key", "ctrl+a", "BackSpace"], env=env, check=True, timeout=10
            )
            ime.pinyin(True)
            for chunk in chunks:
                subprocess.run(
                    ["xdotool", "type", "--delay", "80", chunk], env=env, check=True, timeout=30
                )
                time.sleep(0.6)
                subprocess.run(["xdotool", "key", "space"], env=env, check=True, timeout=10)
                time.sleep(0.6)
            ime.pinyin(False)
            time.sleep(0.3)
            if self.text(test_id) == expect:
                return
        raise AssertionError(
            f"typed {chunks} into {test_id}: it shows {self.text(test_id)!r}, not {expect!r}"
        )

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
