"""Dashboard: who waits where, the windows at a glance, alerts to clear, today's KPIs."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from .. import charts  # noqa: F401  (BarChart for the kv file)
from ..texts import TEXTS
from ..widgets import TButton, TLabel
from . import ConsoleScreen, load_kv, minutes

KPI_GROUPS = ("window", "service", "department")
KPI_ROWS_MAX = 30
KPI_HINTS = (0.28, 0.1, 0.1, 0.1, 0.14, 0.14, 0.14)  # name, issued ... satisfaction

load_kv("dashboard")


class DashboardScreen(ConsoleScreen):
    group = StringProperty("window")
    longest = StringProperty("")
    cases = StringProperty("")  # 容缺受理: open and overdue (case.list)
    cases_overdue = BooleanProperty(False)
    kpi_hall = StringProperty("")

    def shown(self, app) -> None:
        self.update(app, {"all"})

    def update(self, app, dirty: set) -> None:
        every = "all" in dirty
        if every or "queues" in dirty:
            self._waiting(app)
        if every or "window" in dirty:
            self._windows(app)
        if every or "alerts" in dirty:
            self._alerts(app)
        if every or "figures" in dirty or "queues" in dirty:
            self._longest(app)
            self._cases(app)
        if every or "figures" in dirty:
            self.load_kpis(app)

    # -- waiting ------------------------------------------------------------------------------

    def _waiting(self, app) -> None:
        queues = app.client.state.get("queues") or {}
        box = self.ids.waiting
        box.clear_widgets()
        busy = [(code, q) for code, q in queues.items() if q.get("waiting")]
        total = sum(q["waiting"] for _, q in busy)
        self.ids.waiting_total.text = TEXTS("waiting_total", n=total)
        if not busy:
            box.add_widget(
                TLabel(
                    text=TEXTS("nobody_waiting"), size_hint_y=None, height=30, test_id="wait-none"
                )
            )
        for code, q in sorted(busy, key=lambda cq: -cq[1]["waiting"]):
            box.add_widget(
                TLabel(
                    text=TEXTS(
                        "waiting_row",
                        code=code,
                        name=q.get("name", code),
                        n=q["waiting"],
                        wait=q.get("wait_text") or "—",
                        wait_en=q.get("wait_text_en") or "—",
                    ),
                    size_hint_y=None,
                    height=44,
                    font_size=14,
                    shorten=False,
                    test_id=f"wait-{code}",
                )
            )
        self.ids.waiting_chart.items = [(code, q["waiting"]) for code, q in busy]

    def _longest(self, app) -> None:
        def done(result, error):
            if not result:
                return
            worst = max(result["queues"].items(), key=lambda cq: cq[1].get("longest_min") or -1)
            code, q = worst
            self.longest = (
                TEXTS("longest", number=q["longest"], name=q["name"], min=int(q["longest_min"]))
                if q.get("longest")
                else TEXTS("longest_none")
            )

        app.request("report.waiting", {}, done=done)

    def _cases(self, app) -> None:
        def done(result, error):
            if not result:
                return
            overdue = [c for c in result["cases"] if c["overdue"]]
            self.cases_overdue = bool(overdue)
            self.cases = (
                TEXTS(
                    "cases_line",
                    open=result["open"],
                    overdue=result["overdue"],
                    late="、".join(f"{c['number']}({c['due'][5:]})" for c in overdue[:6]),
                )
                if result["open"]
                else ""
            )

        app.request("case.list", {}, done=done)

    # -- windows and alerts ------------------------------------------------------------------------

    def _windows(self, app) -> None:
        counts = {"busy": 0, "idle": 0, "paused": 0, "closed": 0}
        for w in app.client.state.get("windows", {}).values():
            if w["status"] == "open":
                counts["busy" if w.get("serving") else "idle"] += 1
            else:
                counts[w["status"]] = counts.get(w["status"], 0) + 1
        for kind, n in counts.items():
            self.ids[f"count_{kind}"].text = TEXTS(f"count_{kind}", n=n)

    def _alerts(self, app) -> None:
        alerts = app.client.state.get("alerts") or []
        box = self.ids.alerts
        box.clear_widgets()
        if not alerts:
            box.add_widget(
                TLabel(text=TEXTS("no_alerts"), size_hint_y=None, height=40, test_id="alerts-none")
            )
        for a in reversed(alerts):
            row = BoxLayout(size_hint_y=None, height=46, spacing=6)
            at = (a.get("at") or "")[11:16]
            kind = TEXTS(f"kind_{a.get('kind')}")
            row.add_widget(
                TLabel(
                    text=f"{at} 【{kind}】{a.get('message', '')}",
                    test_id=f"alert-{a['key']}",
                    font_size=15,
                )
            )
            row.add_widget(
                TButton(
                    text=TEXTS("alert_clear"),
                    size_hint_x=None,
                    width=84,
                    test_id=f"clear-{a['key']}",
                    on_press=lambda btn, key=a["key"]: app.act(
                        "alert.clear", {"key": key}, TEXTS("alert_clear")
                    ),
                )
            )
            box.add_widget(row)

    # -- KPIs ------------------------------------------------------------------------------------

    def pick_group(self, app, group: str) -> None:
        self.group = group
        self.load_kpis(app)

    def load_kpis(self, app) -> None:
        def hall(result, error):
            rows = (result or {}).get("rows") or []
            r = rows[0] if rows else {}
            self.kpi_hall = TEXTS(
                "kpi_hall",
                issued=r.get("issued", 0),
                served=r.get("served", 0),
                no_show=r.get("no_show", 0),
                wait=minutes(r.get("avg_wait_min")),
                handle=minutes(r.get("avg_handle_min")),
                sat="—" if r.get("satisfaction") is None else f"{r['satisfaction']}%",
            )

        app.request("report.kpis", {"group": "hall"}, done=hall)
        group = self.group
        app.request(
            "report.kpis",
            {"group": group},
            done=lambda result, error: (
                result and group == self.group and self._kpi_table(result["rows"])
            ),
        )

    def _kpi_table(self, rows) -> None:
        grid = self.ids.kpi_table
        grid.clear_widgets()
        # the name wide, the figures narrow: a window's name is the longest cell
        head = BoxLayout(size_hint_y=None, height=28, spacing=4)
        for i, text in enumerate(TEXTS("kpi_head").split("|")):
            head.add_widget(TLabel(text=text, bold=True, font_size=14, size_hint_x=KPI_HINTS[i]))
        grid.add_widget(head)
        rows = [r for r in rows if r["key"] != "-"][:KPI_ROWS_MAX]
        for r in rows:
            sat = "—" if r.get("satisfaction") is None else f"{r['satisfaction']}%"
            cells = (
                r["name"],
                r["issued"],
                r["served"],
                r["no_show"],
                minutes(r["avg_wait_min"]),
                minutes(r["avg_handle_min"]),
                sat,
            )
            line = BoxLayout(size_hint_y=None, height=28, spacing=4)
            for i, value in enumerate(cells):
                line.add_widget(
                    TLabel(
                        text=str(value),
                        font_size=14,
                        size_hint_x=KPI_HINTS[i],
                        test_id=f"kpi-{r['key']}-{i}",
                    )
                )
            grid.add_widget(line)
        self.ids.kpi_chart.items = [(r["name"].replace("窗口", ""), r["served"]) for r in rows]
