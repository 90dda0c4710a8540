"""The kiosk when things are not normal: the controller goes away and comes back, the hall is
closed, nobody touches it for a while; and the landscape layout."""

from __future__ import annotations

import json
import time
import tomllib

from kioskutil import kiosk_args, shot, target_text, tickets

from busutil import REPO, Hall, unlimited_config, wait_for
from kivyutil import App, Screen


def closed_config(tmp):
    """The shipped hall with no opening hours at all: closed now, whatever the clock says."""
    from onewindow.hallconfig import dump

    raw = tomllib.loads((REPO / "config" / "hall.toml").read_text(encoding="utf-8"))
    raw["hours"] = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    for service in raw.get("services", []):
        service.pop("hours", None)
    path = tmp / "closed-hall.toml"
    path.write_text(dump(raw), encoding="utf-8")
    return path


def test_landscape_outage_recovery_and_idle_timeout(tmp_path):
    hall = Hall(tmp_path, "mosquitto", config=unlimited_config(tmp_path))
    hall.add("kiosk-1", "kiosk")
    hall.start()
    screen = Screen(1920, 1080)
    app = App(
        screen,
        kiosk_args(
            hall,
            "--size",
            "1920x1080",
            "--simulate",
            "--idle",
            "5",
            "--preview-dir",
            str(tmp_path / "previews"),
        ),
        tmp_path,
        "kiosk",
    )
    try:
        app.wait_screen("home", timeout=30)
        app.wait_target("tile-A")
        shot(screen, "home-landscape")
        app.tap("tile-A")
        app.wait_screen("confirm")
        app.tap("take")
        app.wait_screen("ticket")
        number = target_text(app, "ticket_number")
        assert tickets(hall, number)
        wait_for(lambda: "已打印" in target_text(app, "ticket_status"), 10)
        shot(screen, "ticket-landscape")
        app.tap("done")
        app.wait_screen("home")

        # the controller goes away: the kiosk says numbers cannot be taken and where to go,
        # and keeps the guides, themes and hours it read last (issue 14)
        app.tap("nav_guides")
        app.wait_screen("guides")
        hall.stop_service()
        wait_for(lambda: "nav_book" not in app.targets()["targets"], 15)  # needs the controller
        app.tap("back")
        app.wait_screen("home")
        wait_for(lambda: "暂时无法取号" in target_text(app, "banner"), 5)
        banner = target_text(app, "banner")
        assert "一楼大厅综合窗口" in banner and "0930-12345" in banner  # from the hall file
        assert "今天窗口开放时间" in banner
        assert "无需等候" not in str(app.targets()["targets"])
        time.sleep(0.5)
        shot(screen, "offline")
        app.tap("tile-A")  # a tile opens the guide, not a number
        app.wait_screen("guide")
        assert "居民身份证" in target_text(app, "guide_materials")
        assert "guide_take" not in app.targets()["targets"]
        shot(screen, "offline-guide")
        app.tap("back")
        app.wait_screen("home")
        app.tap("tile-T1")  # a theme's questions and materials stay too
        app.wait_screen("theme")
        assert "theme_take" not in app.targets()["targets"]
        app.tap("back")
        app.wait_screen("home")
        # ...and comes back: the kiosk recovers by itself and issues again
        hall.start()
        wait_for(lambda: "nav_book" in app.targets()["targets"], 30)
        wait_for(lambda: "暂时无法取号" not in target_text(app, "banner"), 5)
        app.tap("tile-B")
        app.wait_screen("confirm")
        app.tap("take")
        app.wait_screen("ticket")
        assert tickets(hall, target_text(app, "ticket_number"))
        app.tap("done")
        app.wait_screen("home")

        # a citizen walks away: the kiosk forgets them and goes home
        app.tap("sample_card")
        wait_for(lambda: "张*三" in target_text(app, "citizen"), 10)
        app.tap("tile-C")
        app.wait_screen("confirm")
        app.wait_screen("home", timeout=12)
        wait_for(lambda: "张*三" not in target_text(app, "citizen"), 5)
    finally:
        app.stop()
        screen.close()
        hall.close()


def test_closed_hall_turns_to_self_service(tmp_path):
    hall = Hall(tmp_path, "embedded", config=closed_config(tmp_path))
    hall.add("kiosk-1", "kiosk")
    hall.start()
    screen = Screen(1080, 1920)
    app = App(screen, kiosk_args(hall), tmp_path, "kiosk")
    try:
        app.wait_screen("home", timeout=30)
        wait_for(lambda: "非办公时间" in target_text(app, "banner"), 10)
        assert "查看指南" in target_text(app, "tile-A")
        shot(screen, "home-closed")
        app.tap("tile-A")
        app.wait_screen("guide")  # no ticket out of hours: the guide instead
        assert "guide_take" not in app.targets()["targets"]
        app.tap("back")
        app.wait_screen("home")
        app.tap("tile-T1")
        app.wait_screen("theme")
        assert "theme_take" not in app.targets()["targets"]
        app.tap("back")
        app.wait_screen("home")
        app.tap("nav_book")
        app.wait_screen("book")
        assert not hall.ctl.store.tickets()
    finally:
        app.stop()
        screen.close()
        hall.close()


def test_a_kiosk_started_while_the_controller_is_down(tmp_path):
    """Without a configuration there is nothing to show but out of service; with the one kept
    by --config-cache from an earlier run, the guides are there from the start."""
    hall = Hall(tmp_path, "mosquitto", config=unlimited_config(tmp_path))
    hall.add("kiosk-1", "kiosk")
    hall.start()
    hall.stop_service()  # the broker stays, the controller is down from the start
    screen = Screen(1080, 1920)
    cache = tmp_path / "cache" / "kiosk-config.json"
    args = kiosk_args(hall, "--simulate", "--config-cache", str(cache))
    app = App(screen, args, tmp_path, "kiosk")
    try:
        app.wait_screen("oos", timeout=30)
        assert "暂停服务" in target_text(app, "oos_text")
        assert "tile-A" not in app.targets()["targets"]
        shot(screen, "out-of-service")
        hall.start()
        app.wait_screen("home", timeout=30)
        app.wait_target("tile-A")
        wait_for(cache.exists, 10)
        assert all(
            "staff" not in w
            for w in json.loads(cache.read_text(encoding="utf-8"))["config"]["windows"]
        )
        app.stop()
        # the kiosk restarts while the controller is down: the kept configuration serves
        hall.stop_service()
        app = App(screen, args, tmp_path, "kiosk2")
        app.wait_screen("home", timeout=30)
        wait_for(lambda: "暂时无法取号" in target_text(app, "banner"), 10)
        app.tap("tile-A")
        app.wait_screen("guide")
        assert "居民身份证" in target_text(app, "guide_materials")
        assert "guide_take" not in app.targets()["targets"]
        app.tap("back")
        app.wait_screen("home")
        hall.start()  # and it recovers by itself
        wait_for(lambda: "nav_book" in app.targets()["targets"], 30)
        app.tap("tile-A")
        app.wait_screen("confirm")
    finally:
        app.stop()
        screen.close()
        hall.close()
