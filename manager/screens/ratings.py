"""Bad ratings (差评): the follow-up list with its contact and rectify deadlines."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from ..texts import TEXTS
from ..widgets import TButton, TLabel
from . import ConsoleScreen, load_kv

ROW_H = 64

load_kv("ratings")


class RatingsScreen(ConsoleScreen):
    def shown(self, app) -> None:
        self.load(app)

    def update(self, app, dirty: set) -> None:
        if "ratings" in dirty and self.manager and self.manager.current == self.name:
            self.load(app)

    def load(self, app) -> None:
        app.request("report.ratings", {"days": 30},
                        done=lambda result, error: result is not None and self._fill(app, result["rows"]))

    def _fill(self, app, rows) -> None:
        box = self.ids.rows
        box.clear_widgets()
        if not rows:
            box.add_widget(TLabel(text=TEXTS("ratings_none"), size_hint_y=None, height=40,
                                  test_id="ratings-none"))
        for r in rows:
            row = BoxLayout(size_hint_y=None, height=ROW_H, spacing=6)
            overdue = TEXTS(f"overdue_{r['overdue']}") if r.get("overdue") else ""
            label = TLabel(text=TEXTS("rating_row", at=r["at"][:16].replace("T", " "),
                                      window=r.get("window_name") or "—", level=r["level_name"],
                                      service=r.get("service_name") or "", ticket=r.get("ticket") or "",
                                      reasons="、".join(r["reasons"]) or "—",
                                      contact_by=r.get("contact_by") or "—",
                                      rectify_by=r.get("rectify_by") or "—",
                                      status=TEXTS(f"follow_{r['follow_status']}"), overdue=overdue),
                           test_id=f"rating-{r['id']}", font_size=15, shorten=False)
            if overdue:
                label.color = (0.75, 0.15, 0.1, 1)
            row.add_widget(label)
            for status in ("contacted", "rectified"):
                row.add_widget(TButton(
                    text=TEXTS(f"rating_{status}"), size_hint_x=None, width=96,
                    test_id=f"rating-{r['id']}-{status}",
                    disabled=_order(r["follow_status"]) >= _order(status),
                    on_press=lambda b, rid=r["id"], s=status: app.act(
                        "rating.follow", {"rating_id": rid, "status": s}, TEXTS(f"rating_{s}"),
                        then=lambda result: self.load(app))))
            box.add_widget(row)


def _order(status: str) -> int:
    return ("open", "contacted", "rectified", "closed").index(status or "open")
