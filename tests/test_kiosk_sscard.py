"""The kiosk identifies a citizen by the social security card, through pcscd and the vpcd reader."""

from __future__ import annotations

from kioskutil import ELDER_ID, kiosk_args, target_text, tickets
from pcscutil import wait_until

from busutil import Hall, unlimited_config, wait_for
from drivers.sscard import SocialSecurityReader
from drivers.sscard_sim import VirtualSSCard
from kivyutil import App, Screen


def test_social_security_card_identifies_the_citizen_at_the_kiosk(tmp_path, vpcd):
    hall = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path))
    hall.add("kiosk-1", "kiosk")
    hall.start()
    screen = Screen(1080, 1920)
    app = App(screen, kiosk_args(hall, "--sscard"), tmp_path, "kiosk")
    card = VirtualSSCard("B98765432", ELDER_ID, "王建国")
    try:
        app.wait_screen("home", timeout=30)
        card.insert()
        wait_for(lambda: "王*国" in target_text(app, "citizen"), 15)
        app.tap("tile-A")
        app.wait_screen("confirm")
        app.tap("take")
        app.wait_screen("ticket")
        issued = tickets(hall, target_text(app, "ticket_number"))[0]
        assert issued.priority == "elder" and issued.citizen_masked == "王*国"
        raw = app.targets_path.read_text(encoding="utf-8") + app.read_log()
        assert "王建国" not in raw and ELDER_ID not in raw
    finally:
        card.remove()
        wait_until(lambda: not SocialSecurityReader(vpcd).card_present())
        app.stop()
        screen.close()
        hall.close()
