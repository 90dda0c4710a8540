"""The caller's popups where staff pick one of several: where to transfer the citizen (the
hall's services, the other windows: from config.get) and which held (挂起) citizen to resume.
Each returns the popup filled; the app opens it."""

from __future__ import annotations

from kivy.factory import Factory

from .caller_lines import hhmm


def transfer_popup(app):
    popup = Factory.TransferPopup()
    popup.title_text = app.TEXTS("transfer_title", app.lang, number=app.ticket_number)
    for s in app.config_data.get("services") or []:
        name = s.get("name_en") if app.lang == "en" and s.get("name_en") else s.get("name", "")
        label = f"{s['code']} {name}"
        _target_button(
            app,
            popup.ids.services,
            f"transfer_service_{s['code']}",
            label,
            {"to_service": s["code"]},
        )
    for w in app.config_data.get("windows") or []:
        if w.get("window") == app.window_no:
            continue
        name = w.get("name_en") if app.lang == "en" and w.get("name_en") else w.get("name", "")
        _target_button(
            app,
            popup.ids.windows,
            f"transfer_window_{w['window']}",
            name or str(w["window"]),
            {"to_window": w["window"]},
        )
    return popup


def _target_button(app, grid, test_id: str, label: str, target: dict) -> None:
    b = Factory.TargetButton(text=label)
    b.test_id = test_id
    b.bind(on_release=lambda *_: app.transfer_to(target, label))
    grid.add_widget(b)


def held_popup(app):
    popup = Factory.HeldPopup()
    for h in app.held:
        b = Factory.TargetButton(
            text=app.TEXTS("held_item", app.lang, number=h["number"], until=hhmm(h.get("until")))
        )
        b.test_id = f"held_{h['number']}"
        b.bind(on_release=lambda *_, i=h["ticket_id"]: app.resume_ticket(i))
        popup.ids.held.add_widget(b)
    return popup
