"""排班建议: the advice for today (windows to open per half hour, and the wait they give) as a
chart, with today's actual figures over it (op report.plan; docs/staffing.md). The advice is
worked out beside the controller and takes a while: the screen asks again until it is ready."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from .. import charts  # noqa: F401  (PlanChart for the kv file)
from ..texts import TEXTS
from . import ConsoleScreen, load_kv

ASK_AGAIN_S = 2.0  # while the advice is being worked out
TARGET_MIN, TARGET_MAX = 5, 60
NOTE_LINE_CHARS = 80  # characters of a note on one line of the screen (14 px, 1,256 px wide)


def _name(group: dict) -> str:
    """A kind of window as the manager knows it; specialist sets with the services they take
    (two sets may share a name: 不动产 F, and F with K)."""
    if group["id"] == "comprehensive":
        return group["name"]
    return f"{group['name']}({group['id']})"


def _weak(slot: dict, pct: str) -> str:
    """A slot met on fewer than 90% of the simulated days, with its predicted wait."""
    return TEXTS(
        "plan_weak_slot",
        slot=slot["slot"],
        pct=pct,
        wait=f"{slot['wait_pct']:.0f}",
        conf=f"{slot['confidence']:.0%}",
        why=TEXTS("plan_weak_break") if slot["before_break"] else "",
    )


def _weak_service(service: dict, pct: str) -> str:
    """A service whose citizens met the target on fewer than 90% of the simulated days."""
    return TEXTS(
        "plan_weak_service",
        code=service["code"],
        name=service["name"],
        pct=pct,
        wait=f"{service['wait_pct']:.0f}",
        conf=f"{service['confidence']:.0%}",
    )


class LegendKey(BoxLayout):
    colour = ListProperty([0, 0, 0, 1])
    text = StringProperty("")


load_kv("plan")


class PlanScreen(ConsoleScreen):
    target = NumericProperty(0)  # minutes; 0 until the controller says (the hall's wait alert)
    target_text = StringProperty("")
    head = StringProperty("")
    notes = StringProperty("")
    notes_lines = NumericProperty(0)  # lines the notes take (each note on lines of its own)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._again = None
        self._asked = 0  # answers to earlier questions (another target) are dropped
        self._pct = "80"

    def shown(self, app) -> None:
        self.load(app)

    def update(self, app, dirty: set) -> None:
        # today's figures move on with the day: asked again with the KPIs, while shown
        if ("figures" in dirty or "all" in dirty) and app.tabs.current == self.name:
            self.load(app)

    def step(self, app, minutes: int) -> None:
        if not self.target:
            return
        self.target = max(TARGET_MIN, min(TARGET_MAX, self.target + minutes))
        self.target_text = TEXTS("plan_target", pct=self._pct, min=f"{self.target:g}")
        self.load(app)

    def load(self, app) -> None:
        if self._again is not None:
            self._again.cancel()
            self._again = None
        self._asked += 1
        asked = self._asked
        args = {"target_wait": self.target} if self.target else {}
        app.request(
            "report.plan", args, done=lambda result, error: self._got(app, asked, result, error)
        )

    def _got(self, app, asked: int, result, error) -> None:
        if asked != self._asked:
            return
        if error is not None:
            self.head = error.message
            return
        self.target = result["target_min"]
        self._pct = pct = f"{result['percentile']:g}"
        self.target_text = TEXTS("plan_target", pct=pct, min=f"{self.target:g}")
        if result["status"] == "computing":
            self.head = TEXTS("plan_computing", since=result["from"], until=result["to"])
            self._note([])
            self._show(result, None)
            if app.tabs.current == self.name:
                self._again = Clock.schedule_once(lambda _dt: self.load(app), ASK_AGAIN_S)
            return
        if result["status"] != "ready":
            self.head = TEXTS("plan_none", why=result.get("message", ""))
            self._note([])
            self._show(result, None)
            return
        plan = result["plan"]
        weekday = TEXTS("plan_weekdays").split("|")[result["weekday"]]
        self.head = TEXTS(
            "plan_head",
            weekday=weekday,
            n=len(plan["history_days"]),
            since=plan["history_days"][0] if plan["history_days"] else result["from"],
            until=plan["history_days"][-1] if plan["history_days"] else result["to"],
            days=plan["simulated_days"],
            conf=f"{plan['confidence']:.0%}",
            stands=TEXTS("plan_stands" if plan["stands"] else "plan_not_stands"),
        )
        names = {g["id"]: _name(g) for g in plan["groups"]}
        notes = []
        if plan["extra"]:
            notes.append(
                TEXTS(
                    "plan_extra",
                    more="、".join(f"{names[gid]} {n} 个" for gid, n in plan["extra"].items()),
                    more_en=", ".join(f"{gid} {n}" for gid, n in plan["extra"].items()),
                )
            )
        if plan["weak"]:
            notes.append(TEXTS("plan_weak", slots="；".join(_weak(w, pct) for w in plan["weak"])))
        if plan.get("weak_services"):
            notes.append(
                TEXTS(
                    "plan_weak_services",
                    services="；".join(_weak_service(w, pct) for w in plan["weak_services"]),
                )
            )
        if plan["unserved"]:
            notes.append(TEXTS("plan_unserved", codes="、".join(plan["unserved"])))
        self._note(notes)
        self._show(result, plan)

    def _note(self, notes: list[str]) -> None:
        self.notes = "\n".join(notes)
        self.notes_lines = sum(-(-len(n) // NOTE_LINE_CHARS) for n in notes)

    def _show(self, result, plan) -> None:
        """The chart and its legend: the advice's slots (or none yet) and today's figures."""
        actual = {a["slot"]: a for a in result.get("actual", [])}
        groups = plan["groups"] if plan else []
        slots = [s["slot"] for s in plan["slots"]] if plan else sorted(actual)
        rows, words = [], []
        for i, slot in enumerate(slots):
            s = plan["slots"][i] if plan else None
            a = actual.get(slot)
            row = {
                "slot": slot,
                "groups": [s["windows"][g["id"]] for g in groups] if s else [],
                "wait": s["wait_pct"] if s else None,
                "actual_windows": a["windows"] if a else None,
                "actual_wait": a["wait_pct"] if a else None,
            }
            rows.append(row)
            text = (
                TEXTS("plan_slot", slot=slot, n=sum(row["groups"]), wait=f"{row['wait']:.1f}")
                if s
                else slot
            )
            if a:
                wait = "—" if a["wait_pct"] is None else f"{a['wait_pct']:.1f}"
                text += TEXTS("plan_slot_actual", n=a["windows"], wait=wait, arrivals=a["arrivals"])
            words.append(text)
        chart = self.ids.chart
        chart.target = self.target
        chart.rows = rows
        chart.text = "\n".join(words)
        legend = self.ids.legend
        legend.clear_widgets()
        key = LegendKey
        for i, g in enumerate(groups):
            legend.add_widget(
                key(colour=charts.GROUP_COLOURS[i % len(charts.GROUP_COLOURS)], text=_name(g))
            )
        pct = f"{result['percentile']:g}"
        legend.add_widget(key(colour=charts.WAIT_COLOUR, text=TEXTS("plan_legend_wait", pct=pct)))
        legend.add_widget(key(colour=(0.1, 0.1, 0.1, 1), text=TEXTS("plan_legend_actual_windows")))
        legend.add_widget(
            key(colour=charts.ACTUAL_COLOUR, text=TEXTS("plan_legend_actual_wait", pct=pct))
        )
        legend.add_widget(key(colour=(0.75, 0.2, 0.2, 1), text=TEXTS("plan_legend_target")))
