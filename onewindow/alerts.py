"""Electronic supervision (电子监察): long waits, idle or long-paused windows, help requests, faults."""
from __future__ import annotations

from datetime import timedelta

from .domain.model import WindowStatus

KINDS = ("wait", "idle", "paused", "help", "printer", "device", "bad_rating", "config", "clock")


def raise_alert(ctl, key: str, kind: str, message: str, **fields) -> None:
    """Raise once per key; the manager console and displays read the live list in state/hall."""
    now = ctl.now()
    if key in ctl.alerts:
        return
    alert = {"key": key, "kind": kind, "message": message, "at": now.isoformat(), **fields}
    ctl.alerts[key] = alert
    ctl.store.put_alert(alert)
    ctl.emit("alert", {"event": "raised", **alert})
    ctl.dirty.add("hall")


def clear_alert(ctl, key: str) -> None:
    alert = ctl.alerts.pop(key, None)
    if alert is not None:
        ctl.store.drop_alert(key)
        ctl.emit("alert", {"event": "cleared", "key": key, "kind": alert["kind"],
                           "at": ctl.now().isoformat()})
        ctl.dirty.add("hall")


def scan(ctl) -> None:
    """Conditions that come from time passing, not from a request."""
    now = ctl.now()
    r = ctl.hall.rules
    wait_limit = timedelta(minutes=r.wait_alert_min)
    longest: dict[str, object] = {}
    for t in ctl.waiting():
        if t.order_at.date() == now.date() and (t.service not in longest or t.issued_at < longest[t.service].issued_at):
            longest[t.service] = t
    for code in ctl.hall.queue_codes():
        t = longest.get(code)
        key = f"wait:{code}"
        if t is not None and now - t.issued_at > wait_limit:
            minutes = int((now - t.issued_at).total_seconds() // 60)
            raise_alert(ctl, key, "wait", f"{ctl.code_name(code)} 有群众已等候 {minutes} 分钟（{t.number}）",
                        service=code)
        else:
            clear_alert(ctl, key)
    for w in ctl.hall.windows:
        st = ctl.windows[w.number]
        since = now - (st.since or now)
        paused_key, idle_key = f"paused:{w.number}", f"idle:{w.number}"
        if st.status is WindowStatus.PAUSED and since > timedelta(minutes=r.pause_alert_min):
            raise_alert(ctl, paused_key, "paused",
                        f"{w.name} 已暂停 {int(since.total_seconds() // 60)} 分钟（{st.reason or '未填原因'}）",
                        window=w.number)
        else:
            clear_alert(ctl, paused_key)
        idle = (st.status is WindowStatus.OPEN and ctl.current_ticket(w.number) is None
                and ctl.waiting_count(w) > 0
                and since > timedelta(minutes=r.idle_alert_min) and _idle_for(ctl, w.number, now) > timedelta(minutes=r.idle_alert_min))
        if idle:
            raise_alert(ctl, idle_key, "idle", f"{w.name} 有群众等候但长时间未叫号", window=w.number)
        else:
            clear_alert(ctl, idle_key)


def _idle_for(ctl, number: int, now) -> timedelta:
    rows = ctl.store.db.execute("SELECT MAX(at) FROM audit WHERE window = ? AND action IN "
                                "('call', 'finish', 'open', 'resume')", (number,)).fetchone()
    if not rows or not rows[0]:
        return timedelta.max
    from datetime import datetime
    return now - datetime.fromisoformat(rows[0])
