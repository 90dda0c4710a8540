"""A rating pad's bad rating at the window: the caller screen shows which key picks which reason
(evt/rating `reason_prompt`) until the citizen presses one or the pad gives up, then thanks
them (`submitted`)."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.factory import Factory

from onewindow.i18n import reason_text

from .caller_lines import parse_time

THANKS_S = 3.0  # the thanks stays this long


def reason_prompt(app, data: dict) -> None:
    """One evt/rating of this window, on the UI thread."""
    if data.get("event") == "reason_prompt":
        keys = "\n".join(
            app.TEXTS("reason_key", app.lang, n=i + 1, reason=reason_text(r, app.lang))
            for i, r in enumerate(data.get("reasons") or [])
        )
        level = data.get("level_name", "")
        popup = Factory.ReasonPromptPopup()
        popup.text = app.TEXTS("reason_prompt", app.lang, level=level, keys=keys)
        app.open_popup("reason_prompt", popup)
        until = parse_time(data.get("until"))
        wait = (until - app.hall_now()).total_seconds() if until else 60
        Clock.schedule_once(lambda dt, p=popup: _end(app, p), max(1.0, min(wait, 120)))
    elif data.get("event") == "submitted" and app.popup_name == "reason_prompt":
        app.popup.text = app.TEXTS("rating_thanks", app.lang)
        Clock.schedule_once(lambda dt, p=app.popup: _end(app, p), THANKS_S)


def _end(app, popup) -> None:
    if popup is app.popup:  # not when another popup took its place
        app.close_popup()
