"""Bad ratings (差评): the cases with their working-day deadlines, and one case worked through:
each step (contacted, rectified, invalid, cannot rectify) or note with who and what was done,
the trail of every step, the citizen's phone masked and opened only for the call."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ..texts import TEXTS
from ..widgets import TButton, TLabel
from . import ConsoleScreen, load_kv

ROW_H = 64
PHONE_SHOWN_S = 30  # a number opened for the call is masked again after this

load_kv("ratings")


class RatingsScreen(ConsoleScreen):
    status = StringProperty("")  # the open case's follow-up status, "" when none
    has_phone = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.case_id = None
        self._case: dict = {}

    def shown(self, app) -> None:
        self.load(app)

    def update(self, app, dirty: set) -> None:
        if "ratings" in dirty and self.manager and self.manager.current == self.name:
            self.load(app)

    def load(self, app) -> None:
        app.request(
            "report.ratings",
            {"days": 90},
            done=lambda result, error: result is not None and self._fill(app, result["rows"]),
        )
        if self.case_id:
            self.open_case(app, self.case_id)

    def _fill(self, app, rows) -> None:
        box = self.ids.rows
        box.clear_widgets()
        if not rows:
            box.add_widget(
                TLabel(
                    text=TEXTS("ratings_none"), size_hint_y=None, height=40, test_id="ratings-none"
                )
            )
        for r in rows:
            row = BoxLayout(size_hint_y=None, height=ROW_H, spacing=6)
            overdue = TEXTS(f"overdue_{r['overdue']}") if r.get("overdue") else ""
            label = TLabel(
                text=TEXTS(
                    "rating_row",
                    at=r["at"][:16].replace("T", " "),
                    window=r.get("window_name") or "—",
                    level=r["level_name"],
                    ticket=r.get("ticket") or "",
                    reasons="、".join(r["reasons"]) or "—",
                    contact_by=r.get("contact_by") or "—",
                    rectify_by=r.get("rectify_by") or "—",
                    status=r.get("status_name") or "",
                    overdue=overdue,
                ),
                test_id=f"rating-{r['id']}",
                font_size=14,
                shorten=False,
            )
            if overdue:
                label.color = (0.75, 0.15, 0.1, 1)
            row.add_widget(label)
            row.add_widget(
                TButton(
                    text=TEXTS("case_open"),
                    size_hint_x=None,
                    width=76,
                    test_id=f"case-{r['id']}",
                    on_press=lambda b, rid=r["id"]: self.open_case(app, rid),
                )
            )
            box.add_widget(row)

    def open_case(self, app, rating_id: str) -> None:
        def done(result, error):
            if result is None:
                return
            if rating_id != self.case_id:
                self.ids.note.text = ""
            self.case_id = rating_id
            self._show(result)

        app.request("rating.case", {"rating_id": rating_id}, done=done)

    def _show(self, result: dict) -> None:
        r = self._case = result["rating"]
        self.status = r.get("follow_status") or ""
        self.has_phone = bool(r.get("phone")) and self.status in ("open", "rectifying")
        overdue = TEXTS(f"overdue_{r['overdue']}") if r.get("overdue") else ""
        self.ids.detail.text = TEXTS(
            "case_detail",
            ticket=r.get("ticket") or "—",
            window=r.get("window_name") or "—",
            service=r.get("service_name") or "",
            level=r["level_name"],
            reasons="、".join(r["reasons"]) or "—",
            text=r.get("text") or "—",
            at=r["at"][:16].replace("T", " "),
            status=r.get("status_name") or "",
            contact_by=r.get("contact_by") or "—",
            rectify_by=r.get("rectify_by") or "—",
            phone=r.get("phone") or TEXTS("case_no_phone"),
            overdue=overdue,
        )
        lines = [
            TEXTS(
                "trail_line",
                at=n["at"][:16].replace("T", " "),
                who=n.get("by") or n["device"],
                action=TEXTS(f"step_{n['action']}"),
                note=n["note"] or "—",
            )
            for n in result.get("notes") or []
        ]
        self.ids.trail.text = "\n".join(lines) or TEXTS("trail_none")

    def _args(self, **more) -> dict:
        args = {"rating_id": self.case_id, "note": self.ids.note.text.strip(), **more}
        by = self.ids.by.text.strip()
        if by:
            args["by"] = by
        return args

    def step(self, app, action: str) -> None:
        if not self.case_id:
            return
        app.act(
            "rating.follow",
            self._args(action=action),
            TEXTS(f"step_{action}"),
            then=lambda result: self._after(app),
        )

    def add_note(self, app) -> None:
        if not self.case_id:
            return
        app.act(
            "rating.note", self._args(), TEXTS("step_note"), then=lambda result: self._after(app)
        )

    def _after(self, app) -> None:
        self.ids.note.text = ""
        self.load(app)

    def show_phone(self, app) -> None:
        """The number in clear for the call, for PHONE_SHOWN_S; the controller audits each look."""
        case = self.case_id

        def done(result, error):
            if result is None:
                app.message = error.message if error else ""
                return
            self.ids.detail.text += "\n" + TEXTS("case_phone_clear", phone=result["phone"])
            Clock.schedule_once(
                lambda dt: case == self.case_id and self.open_case(app, case), PHONE_SHOWN_S
            )

        app.request("rating.phone", {"rating_id": case}, done=done)
