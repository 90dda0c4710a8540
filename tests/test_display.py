"""The hall's calling screen: a real hall, the real display app under Xvfb, a caller on the bus."""

from __future__ import annotations

import time
import tomllib

import pytest
from kioskutil import device_args

from busutil import Hall, die_with_parent, stop_bridge, unlimited_config, wait_for
from callers.voice import LANGUAGE_GAP_S, PackVoice, wav_duration
from callers.voicepack import Call, load_pack
from kivyutil import (
    App,
    Screen,
    shots_dir,  # noqa: E402
)
from onewindow.hallconfig import dump
from voiceutil import TONES, make_pack

IMG = shots_dir()


@pytest.fixture
def hall(start_hall):
    # Mosquitto keeps its port while the controller restarts, as in a hall
    return start_hall(
        "mosquitto",
        ("kiosk-1", "kiosk"),
        ("caller-3", "caller", [3]),
        ("caller-5", "caller", [5]),
        ("display-1", "display"),
    )


@pytest.fixture
def screen():
    s = Screen(1920, 1080)
    yield s
    s.close()


text_of = App.text
wait_text = App.wait_text


def test_calls_windows_and_recovery_on_the_hall_screen(hall, screen, tmp_path):
    app = App(
        screen,
        device_args(
            hall,
            "display",
            "display-1",
            "--voice",
            "silent",
            "--voice-speed",
            "320",
            "--voice-repeat",
            "1",
            "--voice-cache",
            str(tmp_path / "voice"),
        ),
        tmp_path,
        "display",
    )
    try:
        app.wait_screen("main", timeout=30)
        wait_text(app, "window_3", lambda t: t == "窗口关闭", timeout=10)
        assert text_of(app, "hall_name") == "示范县政务服务中心"
        kiosk, c3, c5 = hall.client("kiosk-1"), hall.client("caller-3"), hall.client("caller-5")
        first = kiosk.request(
            "ticket.issue",
            {"service": "A", "citizen": {"id_number": "11010519491231002X", "name": "张三丰"}},
        )["ticket"]
        second = kiosk.request("ticket.issue", {"service": "B"})["ticket"]
        wait_text(app, "queue_A", lambda t: t == "1人")
        c3.request("window.open", {"window": 3})
        c5.request("window.open", {"window": 5})

        t0 = time.monotonic()
        c3.request("window.call_next", {"window": 3})
        wait_text(app, "call_ticket", lambda t: t == first["number"], timeout=1.0)
        assert time.monotonic() - t0 < 1.0
        assert "3号综合窗口" in text_of(app, "call_window")
        wait_text(app, "window_3", lambda t: t == first["number"])

        c5.request("window.call_next", {"window": 5})  # the next call pushes the first down
        wait_text(app, "call_ticket", lambda t: t == second["number"], timeout=8)
        assert "5号户籍窗口" in text_of(app, "call_window")
        assert text_of(app, "recent_0") == first["number"]
        assert text_of(app, "recent_0_window") == "3号综合窗口"
        # the shipped hall's languages are Chinese and English: its English name under it
        assert text_of(app, "recent_0_window_2") == "Window 3 (all services)"
        time.sleep(0.6)  # let the flash show in the picture
        screen.screenshot(IMG / "display-main.png")

        texts = " ".join(t["text"] for t in app.targets()["targets"].values())
        assert "张" not in texts and "1101" not in texts  # no citizen's name or ID number

        c3.request("window.recall", {"window": 3})  # a recall shows again
        wait_text(app, "call_ticket", lambda t: t == first["number"], timeout=8)
        assert text_of(app, "recent_0") == second["number"]

        c3.request("window.finish", {"window": 3})
        c3.request("window.pause", {"window": 3, "reason": "午休"})
        wait_text(app, "window_3", lambda t: t == "暂停 · 午休")

        # the controller goes away: the banner shows; it comes back: the screen shows the truth
        hall.stop_service()
        wait_for(lambda: app.targets().get("screen") == "offline", 5)
        assert "连接中断" in text_of(app, "offline_banner")
        time.sleep(0.5)  # the next frame is drawn
        screen.screenshot(IMG / "display-offline.png")
        hall.start()
        third = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
        c5.request("window.finish", {"window": 5})
        c5.request("window.call_next", {"window": 5})
        app.wait_screen("main", timeout=10)
        wait_text(app, "window_3", lambda t: t == "暂停 · 午休")
        wait_text(app, "window_5", lambda t: t == third["number"])
        wait_text(app, "call_ticket", lambda t: t == third["number"], timeout=8)

        # the broker itself restarts: the same again
        c3.request("window.resume", {"window": 3})
        hall.mosquitto.stop()
        wait_for(lambda: app.targets().get("screen") == "offline", 5)
        hall.mosquitto.start()
        app.wait_screen("main", timeout=15)
        wait_text(app, "window_3", lambda t: t == "等候叫号", timeout=5)
        assert app.proc.poll() is None
    finally:
        app.stop()
    assert "Traceback" not in app.log_path.read_text(encoding="utf-8", errors="replace")


def test_a_busy_hall_without_voice_shows_calls_at_once(tmp_path, screen):
    h = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path))
    h.add("kiosk-1", "kiosk")
    h.add("callers", "caller", [1, 2, 4, 6, 8, 12])
    h.add("display-1", "display")
    h.start()
    app = App(
        screen,
        device_args(h, "display", "display-1", "--voice", "none", "--ticker-fps", "0"),
        tmp_path,
        "display",
    )
    try:
        app.wait_screen("main", timeout=30)
        kiosk, callers = h.client("kiosk-1"), h.client("callers")
        for service in "AAABBCCDDEFFFLLMKH":
            kiosk.request("ticket.issue", {"service": service})
        for w in (1, 2, 4, 6, 8, 12):
            callers.request("window.open", {"window": w})
        callers.request("window.pause", {"window": 8, "reason": "系统维护"})
        called = []
        for w in (4, 6, 1, 12, 2, 4):
            t0 = time.monotonic()
            number = callers.request("window.call_next", {"window": w, "current": "done"})[
                "ticket"
            ]["number"]
            wait_text(app, "call_ticket", lambda t, n=number: t == n, timeout=1.0)
            assert time.monotonic() - t0 < 1.0
            called.append(number)
        callers.request("window.start", {"window": 6})
        wait_text(app, "window_8", lambda t: t == "暂停 · 系统维护")
        assert [text_of(app, f"recent_{i}") for i in range(5)] == called[-2::-1]
        assert text_of(app, "queue_F") == "3人"
        time.sleep(0.4)
        screen.screenshot(IMG / "display-busy.png")
        # a three-digit queue is shown whole (it was cut to "12…"): look at display-long-queue.png
        for _ in range(120):  # from the duty desk: a kiosk takes a busy hour's numbers at once
            callers.request("ticket.issue", {"service": "A"})
        wait_text(app, "queue_A", lambda t: t.startswith("12") and len(t) == 4)
        time.sleep(0.4)
        screen.screenshot(IMG / "display-long-queue.png")
    finally:
        app.stop()
        h.close()


def test_a_burst_of_13_calls_never_leaves_the_panel_behind_the_led_strips(tmp_path, screen):
    """Thirteen windows call back to back while the voice (its real timing, no speaker) reads
    them one by one: the big panel shows each call as the strips do, not when the voice gets
    to it (issue 14: it used to trail the strips by seconds)."""
    import subprocess
    import sys

    from busutil import REPO
    from drivers.led_sim import LedLineSimulator
    from drivers.ptysim import PtyDevice

    h = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path))
    windows = list(range(1, 14))
    h.add("kiosk-1", "kiosk")
    h.add("callers", "caller", windows)
    h.add("display-1", "display")
    h.add("led-1", "led")
    h.start()
    sim = LedLineSimulator(addresses=tuple(windows))
    pty = PtyDevice(sim, tmp_path / "ttyLED")
    led_log = open(tmp_path / "led.log", "wb")
    led_proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "led",
            "--mqtt",
            h.url,
            "--device",
            "led-1",
            "--secret",
            h.secrets["led-1"],
            "--hall",
            h.hall_id,
        ]
        + [a for w in windows for a in ("--strip", f"{w}={tmp_path / 'ttyLED'}:{w}")],
        cwd=REPO,
        preexec_fn=die_with_parent,
        stdout=led_log,
        stderr=subprocess.STDOUT,
    )
    app = App(
        screen,
        device_args(
            h,
            "display",
            "display-1",
            "--voice",
            "silent",
            "--voice-repeat",
            "2",
            "--voice-speed",
            "150",
            "--voice-cache",
            str(tmp_path / "voice"),
            "--ticker-fps",
            "0",
        ),
        tmp_path,
        "display",
    )
    try:
        app.wait_screen("main", timeout=30)
        kiosk, callers = h.client("kiosk-1"), h.client("callers")
        for service in "AABBCCEFFHKLP":
            kiosk.request("ticket.issue", {"service": service})
        for w in windows:
            callers.request("window.open", {"window": w})
        assert sim.wait(lambda: all(sim.strips[w].text for w in windows), timeout=10)
        order = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 1, 2, 3]
        t0 = time.monotonic()
        called = [
            (w, callers.request("window.call_next", {"window": w})["ticket"]["number"])
            for w in order
        ]
        assert all(n for _, n in called)
        # the strips show every call ...
        assert sim.wait(lambda: all(sim.strips[w].text == f"请{n}号" for w, n in called), timeout=5)
        strips_at = time.monotonic() - t0
        # ... and the panel is already there: the last call big, the eight before it in order
        last = called[-1][1]
        wait_text(app, "call_ticket", lambda t: t == last, timeout=1.0)
        panel_at = time.monotonic() - t0
        assert panel_at < strips_at + 1.0, (panel_at, strips_at)
        assert [text_of(app, f"recent_{i}") for i in range(8)] == [n for _, n in called[-2:-10:-1]]
        time.sleep(0.4)
        screen.screenshot(IMG / "display-burst.png")
        # and stays: a resync after the display came online took the calls that fell off the
        # recent list for calls it had missed, and showed the fourth of the burst big again
        time.sleep(1.5)
        assert text_of(app, "call_ticket") == last
        # the voice, reading 13 calls twice each, is still at the first few: it follows later
        assert panel_at < 10
    finally:
        app.stop()
        stop_bridge(led_proc)
        led_log.close()
        pty.close()
        h.close()
    assert "Traceback" not in app.log_path.read_text(encoding="utf-8", errors="replace")


def test_a_zh_en_hall_calls_in_english_large_and_whole(tmp_path, screen):
    """[hall] languages zh+en: the English line under the call, in type read across the hall,
    shows the longest window name of the shipped hall whole (it wraps), and nothing of the call
    panel is cut. The window list and the queues show each English name the file gives beside
    or under the Chinese, cut with "…" where it is too long, never over its neighbour."""
    raw = tomllib.loads(unlimited_config(tmp_path).read_text(encoding="utf-8"))
    raw["hall"]["languages"] = ["zh", "en"]
    config = tmp_path / "zh-en.toml"
    config.write_text(dump(raw), encoding="utf-8")
    longest = max(raw["windows"], key=lambda w: len(w.get("name_en", "")))
    h = Hall(tmp_path, "embedded", config=config)
    h.add("kiosk-1", "kiosk")
    h.add("callers", "caller", [longest["number"]])
    h.add("display-1", "display")
    h.start()
    app = App(screen, device_args(h, "display", "display-1", "--voice", "none"), tmp_path, "d")
    try:
        app.wait_screen("main", timeout=30)
        kiosk, callers = h.client("kiosk-1"), h.client("callers")
        service = (longest.get("services") or ["A"])[0]
        kiosk.request("ticket.issue", {"service": service})
        callers.request("window.open", {"window": longest["number"]})
        number = callers.request("window.call_next", {"window": longest["number"]})["ticket"][
            "number"
        ]
        line = wait_text(app, "call_window_en", lambda t: number in t and longest["name_en"] in t)
        time.sleep(0.5)  # laid out at its wrapped height
        clipped = app.targets()["clipped"]
        for test_id in ("call_window", "call_window_en"):
            assert text_of(app, test_id) not in clipped, (test_id, clipped)
        assert line == f"Number {number}, please go to {longest['name_en']}"
        for w in raw["windows"]:
            assert text_of(app, f"window_{w['number']}_name") == w["name"]
            assert text_of(app, f"window_{w['number']}_name_2") == w["name_en"]
        for item in raw["services"] + raw["themes"]:
            assert text_of(app, f"queue_{item['code']}_name") == item["name"]
            assert text_of(app, f"queue_{item['code']}_name_2") == item["name_en"]
        # every name on the screen (a target has a size), the English beside the Chinese in
        # the window list and under it in the queues (targets' y grows downwards)
        shown = app.targets()["targets"]
        boxes = {tid: t for tid, t in shown.items() if tid.startswith(("window_", "queue_"))}
        assert len(boxes) == 3 * len(raw["windows"]) + 3 * len(raw["services"] + raw["themes"])
        for tid, t in boxes.items():
            if tid.endswith("_name_2"):
                chinese = boxes[tid[: -len("_2")]]
                if tid.startswith("window_"):
                    assert t["x"] > chinese["x"] and abs(t["y"] - chinese["y"]) <= 2, tid
                else:
                    assert t["y"] > chinese["y"] and t["x"] == chinese["x"], tid
        screen.screenshot(IMG / "display-bilingual-en.png")
    finally:
        app.stop()
        h.close()


def test_a_chinese_only_hall_shows_its_windows_and_queues_in_chinese_alone(tmp_path, screen):
    """[hall] languages = ["zh"]: the English names the file gives are not shown beside the
    windows nor under the queues (nor anything else in English)."""
    raw = tomllib.loads(unlimited_config(tmp_path).read_text(encoding="utf-8"))
    raw["hall"]["languages"] = ["zh"]
    config = tmp_path / "zh.toml"
    config.write_text(dump(raw), encoding="utf-8")
    h = Hall(tmp_path, "embedded", config=config)
    h.add("callers", "caller", [3])
    h.add("display-1", "display")
    h.start()
    app = App(screen, device_args(h, "display", "display-1", "--voice", "none"), tmp_path, "d")
    try:
        app.wait_screen("main", timeout=30)
        callers = h.client("callers")
        callers.request("ticket.issue", {"service": "A"})
        callers.request("window.open", {"window": 3})
        number = callers.request("window.call_next", {"window": 3})["ticket"]["number"]
        wait_text(app, "call_ticket", lambda t: t == number)
        wait_text(app, "queue_A_name", lambda t: t == "户籍业务")
        time.sleep(0.5)
        shown = app.targets()
        assert text_of(app, "window_3_name") == "3号综合窗口"
        assert not {
            tid: t for tid, t in shown["targets"].items() if tid.endswith(("_name_2", "_window_2"))
        }
        texts = " ".join(shown["texts"])  # every label's, with or without a test_id
        for english in ("Window 3", "Household registration", "Windows", "Now calling"):
            assert english not in texts
    finally:
        app.stop()
        h.close()


def test_a_held_citizen_is_shown_as_on_hold_and_called_back(hall, screen, tmp_path):
    """挂起: the hall screen shows 暂缓 with the number at its window, and the resume calls again."""
    app = App(
        screen,
        device_args(
            hall,
            "display",
            "display-1",
            "--voice",
            "silent",
            "--voice-cache",
            str(tmp_path / "voice"),
        ),
        tmp_path,
        "display",
    )
    try:
        app.wait_screen("main", timeout=30)
        kiosk, c3 = hall.client("kiosk-1"), hall.client("caller-3")
        first, second = (kiosk.request("ticket.issue", {"service": s})["ticket"] for s in "AB")
        c3.request("window.open", {"window": 3})
        c3.request("window.call_next", {"window": 3})
        c3.request("window.hold", {"window": 3})
        wait_text(app, "window_3", lambda t: t == f"等候叫号 · 暂缓 {first['number']}")
        c3.request("window.call_next", {"window": 3})
        wait_text(app, "window_3", lambda t: t == f"{second['number']} · 暂缓 {first['number']}")
        time.sleep(0.4)
        screen.screenshot(IMG / "display-held.png")
        c3.request("window.finish", {"window": 3})
        c3.request("window.resume_held", {"window": 3})
        wait_text(app, "call_ticket", lambda t: t == first["number"], timeout=2)
        wait_text(app, "window_3", lambda t: t == first["number"])
    finally:
        app.stop()


def test_each_call_is_announced_in_the_halls_languages_one_after_the_other(
    start_hall, screen, tmp_path
):
    """[voice] languages = ["zh", "bo"]: the display reads the hall's languages (config.get)
    and each call it announces is the Mandarin pack's call, a pause, then the Tibetan pack's."""
    bo = make_pack(tmp_path / "bo-tones", language="bo", clips=TONES)
    h, app, cache = voiced_display(start_hall, screen, tmp_path, {"languages": ["zh", "bo"]}, bo)
    try:
        _, number = call_one(h, app)
        assert wait_for(lambda: list(cache.glob("*.wav")), timeout=10)
    finally:
        app.stop()
    [heard] = cache.glob("*.wav")
    ref = tmp_path / "ref"
    zh = load_pack("zh-espeak")
    alone = {
        lang: wav_duration(PackVoice([zh, bo], ref / lang, [lang]).wav_for(Call(number, 3)))
        for lang in ("zh", "bo")
    }
    assert wav_duration(heard) == pytest.approx(
        alone["zh"] + LANGUAGE_GAP_S + alone["bo"], abs=0.001
    )
    both = PackVoice([zh, bo], ref / "both", ["zh", "bo"]).wav_for(Call(number, 3))
    assert heard.read_bytes() == both.read_bytes()


def test_a_no_show_and_a_window_pausing_are_announced_once_in_each_language(
    start_hall, screen, tmp_path
):
    """[voice] announce_no_show = true and languages zh, bo: a ticket marked 过号 and a window
    pausing are each announced once, in Mandarin then Tibetan, with the packs' own phrases; a
    paused window given another reason (a state refresh, no change) is not announced again."""
    bo = make_pack(
        tmp_path / "bo-tones",
        language="bo",
        clips={**TONES, "stop": 0.40, "gone": 0.35},
        extra='pause = ["{window}", "stop"]\nmissed = ["{ticket}", ",", "gone"]\n',
    )
    voice = {"languages": ["zh", "bo"], "announce_no_show": True}
    h, app, cache = voiced_display(start_hall, screen, tmp_path, voice, bo)
    try:
        c3, number = call_one(h, app)
        c3.request("window.skip", {"window": 3})
        c3.request("window.pause", {"window": 3, "reason": "午休"})
        wait_text(app, "window_3", lambda t: t == "暂停 · 午休")
        assert wait_for(lambda: "window 3 paused" in app.read_log(), timeout=10)
        c3.request("window.pause", {"window": 3, "reason": "系统维护"})  # still paused
        wait_text(app, "window_3", lambda t: t == "暂停 · 系统维护")
        c3.request("window.resume", {"window": 3})
        wait_text(app, "window_3", lambda t: t == "等候叫号")
        c3.request("window.pause", {"window": 3})  # paused anew: announced again
        wait_text(app, "window_3", lambda t: t == "暂停服务")
        assert wait_for(lambda: app.read_log().count("window 3 paused") == 2, timeout=10)
        # the voice has made everything it was given
        assert wait_for(lambda: len(list(cache.glob("*.wav"))) == 3, timeout=20)
        time.sleep(0.5)
        log = app.read_log()
    finally:
        app.stop()
    assert log.count(f"announcing: {number} missed (过号) at window 3") == 1
    assert log.count("announcing: window 3 paused") == 2
    zh = load_pack("zh-espeak")
    ref = PackVoice([zh, bo], tmp_path / "ref", ["zh", "bo"])
    expected = {
        ref.wav_for(c).read_bytes()
        for c in (Call(number, 3), Call(number, 3, "missed"), Call("", 3, "pause"))
    }
    assert {p.read_bytes() for p in cache.glob("*.wav")} == expected
    # each is the Mandarin phrase, the gap, then the Tibetan one
    zh_pause = PackVoice([zh], tmp_path / "zh").wav_for(Call("", 3, "pause"))
    bo_pause = 0.25 + 0.23 + 0.40 + 2 * 0.05
    paused = ref.wav_for(Call("", 3, "pause"))
    assert wav_duration(paused) == pytest.approx(
        wav_duration(zh_pause) + LANGUAGE_GAP_S + bo_pause, abs=0.001
    )


def voiced_display(start_hall, screen, tmp_path, voice: dict, bo):
    """A hall whose file has `[voice]` = `voice`, and its display announcing with the Mandarin
    pack and the pack `bo`, silently: what it would say is kept as WAV files in the cache."""
    (tmp_path / "voice-cfg").mkdir()
    config = unlimited_config(tmp_path / "voice-cfg")
    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    raw["voice"] = voice
    config.write_text(dump(raw), encoding="utf-8")
    h = start_hall(
        "mosquitto",
        ("kiosk-1", "kiosk"),
        ("caller-3", "caller", [3]),
        ("display-1", "display"),
        config=config,
    )
    cache = tmp_path / "voice"
    args = ["--voice", "silent", "--voice-repeat", "1", "--voice-pack", "zh-espeak"]
    args += ["--voice-pack", str(bo.folder), "--voice-cache", str(cache)]
    app = App(screen, device_args(h, "display", "display-1", *args), tmp_path, "display")
    return h, app, cache


def call_one(h, app):
    """Once the display announces in zh and bo: a ticket issued and called at window 3, shown.
    Returns window 3's caller and the number."""
    app.wait_screen("main", timeout=30)
    assert wait_for(lambda: "calls are announced in zh, bo" in app.read_log(), timeout=10)
    h.client("kiosk-1").request("ticket.issue", {"service": "A"})
    c3 = h.client("caller-3")
    c3.request("window.open", {"window": 3})
    number = c3.request("window.call_next", {"window": 3})["ticket"]["number"]
    wait_text(app, "call_ticket", lambda t: t == number, timeout=5)
    return c3, number
