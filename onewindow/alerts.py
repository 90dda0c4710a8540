"""Electronic supervision (电子监察): the hall's live alerts, and the ones time raises (long waits,
idle or long-paused windows). Faults, help requests and bad ratings are raised by their ops."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from .domain.model import WindowStatus

KINDS = (
    "wait",
    "idle",
    "paused",
    "help",
    "printer",
    "device",
    "bad_rating",
    "rating_overdue",
    "config",
    "clock",
)
IDLE_ACTIONS = ("call", "finish", "open", "resume")  # what shows a window is working


class Alerts:
    """The live list: raised once per key, kept in the store (a help request outlives a
    restart), each change told as an `alert` event."""

    def __init__(self, store, clock: Callable[[], datetime], emit: Callable[[str, dict], None]):
        self.store = store
        self.clock = clock
        self.emit = emit
        self.live: dict[str, dict] = store.alerts()

    def __contains__(self, key: str) -> bool:
        return key in self.live

    def keys(self) -> list[str]:
        return list(self.live)

    def listed(self) -> list[dict]:
        return sorted(self.live.values(), key=lambda a: a["at"])

    def raise_(self, key: str, kind: str, message: str, **fields) -> None:
        if key in self.live:
            return
        alert = {
            "key": key,
            "kind": kind,
            "message": message,
            "at": self.clock().isoformat(),
            **fields,
        }
        self.live[key] = alert
        self.store.put_alert(alert)
        self.emit("alert", {"event": "raised", **alert})

    def clear(self, key: str) -> None:
        alert = self.live.pop(key, None)
        if alert is not None:
            self.store.drop_alert(key)
            self.emit(
                "alert",
                {
                    "event": "cleared",
                    "key": key,
                    "kind": alert["kind"],
                    "at": self.clock().isoformat(),
                },
            )


def scan(ctl) -> None:
    """Conditions that come from time passing, not from a request (the controller's tick)."""
    now = ctl.now()
    r = ctl.hall.rules
    alerts = ctl.alerts
    wait_limit = timedelta(minutes=r.wait_alert_min)
    longest: dict[str, object] = {}
    for t in ctl.queues.waiting():
        if t.order_at.date() == now.date() and (
            t.service not in longest or t.issued_at < longest[t.service].issued_at
        ):
            longest[t.service] = t
    for code in ctl.hall.queue_codes():
        t = longest.get(code)
        key = f"wait:{code}"
        if t is not None and now - t.issued_at > wait_limit:
            minutes = int((now - t.issued_at).total_seconds() // 60)
            alerts.raise_(
                key,
                "wait",
                f"{ctl.code_name(code)} 有群众已等候 {minutes} 分钟（{t.number}）",
                service=code,
            )
        else:
            alerts.clear(key)
    for w in ctl.hall.windows:
        st = ctl.windows[w.number]
        since = now - (st.since or now)
        paused_key, idle_key = f"paused:{w.number}", f"idle:{w.number}"
        if st.status is WindowStatus.PAUSED and since > timedelta(minutes=r.pause_alert_min):
            alerts.raise_(
                paused_key,
                "paused",
                f"{w.name} 已暂停 {int(since.total_seconds() // 60)} 分钟（{st.reason or '未填原因'}）",
                window=w.number,
            )
        else:
            alerts.clear(paused_key)
        limit = timedelta(minutes=r.idle_alert_min)
        idle = (
            st.status is WindowStatus.OPEN
            and ctl.queues.at_window(w.number) is None
            and ctl.queues.count_for(w.number, ctl.hall.window_order(w)) > 0
            and since > limit
            and _idle_for(ctl, w.number, now) > limit
        )
        if idle:
            alerts.raise_(idle_key, "idle", f"{w.name} 有群众等候但长时间未叫号", window=w.number)
        else:
            alerts.clear(idle_key)


def scan_ratings(ctl) -> None:
    """Bad ratings' follow-up past a working-day deadline (ops_followup.scan_overdue)."""
    from .ops_followup import scan_overdue

    scan_overdue(ctl.store, ctl.alerts, ctl.hall, ctl.today())


def _idle_for(ctl, number: int, now: datetime) -> timedelta:
    last = ctl.store.last_window_action(number, IDLE_ACTIONS)
    return timedelta.max if last is None else now - last
