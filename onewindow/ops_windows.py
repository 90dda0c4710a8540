"""Ops a window's caller does: call next, recall, start, skip, transfer, finish, open, close, pause."""
from __future__ import annotations

from .domain.errors import DomainError
from .domain.model import Ticket, TicketStatus, WindowStatus
from .domain.routing import choose_next
from .envelope import Args, require


def _window(ctl, dev, a: Args):
    number = a.get("window", int, minval=1, maxval=999)
    w = ctl.hall.window(number)
    if w is None:
        raise DomainError("not_found", f"没有 {number} 号窗口", f"No window {number}")
    if dev.role != "manager" and number not in dev.windows:
        raise DomainError("forbidden", f"此设备不能操作 {number} 号窗口",
                          f"This device may not act on window {number}")
    return w, ctl.windows[number]


def _current(ctl, number: int) -> Ticket:
    t = ctl.current_ticket(number)
    if t is None:
        raise DomainError("no_ticket", "当前没有正在办理的号", "No ticket at this window")
    return t


def _require_open(state) -> None:
    if state.status is WindowStatus.CLOSED:
        raise DomainError("window_closed", "窗口未开启，请先开窗", "The window is closed")
    if state.status is WindowStatus.PAUSED:
        raise DomainError("window_paused", "窗口暂停中，请先恢复服务", "The window is paused")


def _finish(ctl, dev, t: Ticket, auto: bool = False) -> None:
    before = t.status
    now = ctl.now()
    t.status = TicketStatus.DONE
    t.finished_at = now
    ctl.save_ticket(t)
    ctl.handling.add(t.service, (now - (t.served_at or t.called_at)).total_seconds() / 60)
    ctl.audit(dev, "finish", t, from_status=before, detail={"auto": True} if auto else None)
    ctl.emit("ticket", {"event": "done", "ticket_id": t.id, "ticket": t.number,
                        "service": t.service, "window": t.window, "at": now.isoformat()})


def _call_event(ctl, t: Ticket, recall: bool) -> None:
    w = ctl.hall.window(t.window)
    ctl.emit("call", {"ticket": t.number, "ticket_id": t.id, "window": w.number,
                      "window_name": w.name, "window_name_en": w.name_en, "service": t.service,
                      "service_name": ctl.code_name(t.service), "recall": recall,
                      "priority": t.priority, "at": ctl.now().isoformat()})


def _touch(ctl, number: int) -> None:
    ctl.dirty |= {("window", number), "queues"}


def op_call_next(ctl, dev, a: Args) -> dict:
    w, state = _window(ctl, dev, a)
    _require_open(state)
    current = ctl.current_ticket(w.number)
    if current is not None:
        _finish(ctl, dev, current, auto=True)   # 'call next' on a keypad means "done, next"
    services = None if w.serves_all() else w.services
    choice = choose_next(w.number, services, ctl.waiting_for_window(w), ctl.now(),
                         ctl.hall.rules.routing, ctl.hall.rules.fair_share, state.streak)
    _touch(ctl, w.number)
    if choice is None:
        return {"ticket": None}
    t = choice.ticket
    state.streak = state.streak + 1 if choice.jumped else 0
    ctl.store.save_window(w.number, state.status.value, state.staff, state.reason, state.since,
                          state.streak)
    t.status = TicketStatus.CALLED
    t.window = w.number
    t.target_window = None
    t.called_at = ctl.now()
    ctl.save_ticket(t)
    ctl.audit(dev, "call", t, from_status=TicketStatus.WAITING, detail={"reason": choice.reason})
    _call_event(ctl, t, recall=False)
    return {"ticket": ctl.ticket_view(t)}


def op_recall(ctl, dev, a: Args) -> dict:
    w, state = _window(ctl, dev, a)
    t = _current(ctl, w.number)
    require(t.status is not TicketStatus.SERVING, "bad_state", f"{t.number} 已在办理中",
            f"{t.number} is already being served")
    before = t.status
    t.status = TicketStatus.RECALLED
    t.recalls += 1
    ctl.save_ticket(t)
    ctl.audit(dev, "recall", t, from_status=before)
    _call_event(ctl, t, recall=True)
    _touch(ctl, w.number)
    return {"ticket": ctl.ticket_view(t)}


def op_start(ctl, dev, a: Args) -> dict:
    """The citizen has arrived at the window: handling time starts now."""
    w, state = _window(ctl, dev, a)
    t = _current(ctl, w.number)
    if t.status is not TicketStatus.SERVING:
        before = t.status
        t.status = TicketStatus.SERVING
        t.served_at = ctl.now()
        ctl.save_ticket(t)
        ctl.audit(dev, "start", t, from_status=before)
        _touch(ctl, w.number)
    return {"ticket": ctl.ticket_view(t)}


def op_skip(ctl, dev, a: Args) -> dict:
    w, state = _window(ctl, dev, a)
    t = _current(ctl, w.number)
    require(t.status is not TicketStatus.SERVING, "bad_state",
            f"{t.number} 已在办理中，不能记为过号", f"{t.number} is being served")
    before = t.status
    t.status = TicketStatus.NO_SHOW
    t.skipped_at = ctl.now()
    ctl.save_ticket(t)
    ctl.audit(dev, "skip", t, from_status=before)
    ctl.emit("ticket", {"event": "no_show", "ticket_id": t.id, "ticket": t.number,
                        "service": t.service, "window": w.number, "at": ctl.now().isoformat()})
    _touch(ctl, w.number)
    return {"ticket": ctl.ticket_view(t)}


def op_transfer(ctl, dev, a: Args) -> dict:
    """Back into a queue with its original issue time: to a service, or to one window."""
    w, state = _window(ctl, dev, a)
    to_service = a.get("to_service", str, None, maxlen=16)
    to_window = a.get("to_window", int, None, minval=1, maxval=999)
    if (to_service is None) == (to_window is None):
        raise DomainError("bad_request", "请指定转往的业务或窗口（二选一）",
                          "Give either to_service or to_window")
    t = _current(ctl, w.number)
    if to_service is not None:
        require(bool(ctl.hall.service(to_service) or ctl.hall.theme(to_service)), "not_found",
                "没有这项业务", f"No service {to_service}")
    else:
        require(ctl.hall.window(to_window) is not None, "not_found", f"没有 {to_window} 号窗口",
                f"No window {to_window}")
        require(to_window != w.number, "bad_request", "不能转给本窗口", "Cannot transfer to itself")
    before = t.status
    t.origin_service = t.origin_service or t.service
    t.service = to_service or t.service
    t.target_window = to_window
    t.status = TicketStatus.WAITING
    t.transfers += 1
    t.window = None
    ctl.save_ticket(t)
    ctl.audit(dev, "transfer", t, window=w.number, from_status=before,
              detail={"to_service": to_service, "to_window": to_window})
    ctl.emit("ticket", {"event": "transferred", "ticket_id": t.id, "ticket": t.number,
                        "service": t.service, "from_window": w.number, "to_window": to_window,
                        "at": ctl.now().isoformat()})
    _touch(ctl, w.number)
    if to_window:
        _touch(ctl, to_window)
    return {"ticket": ctl.ticket_view(t)}


def op_finish(ctl, dev, a: Args) -> dict:
    w, state = _window(ctl, dev, a)
    t = _current(ctl, w.number)
    _finish(ctl, dev, t)
    ctl.emit("rating", {"event": "invite", "window": w.number, "ticket_id": t.id,
                        "ticket": t.number, "at": ctl.now().isoformat()})
    _touch(ctl, w.number)
    return {"ticket": ctl.ticket_view(t)}


def _set_status(ctl, dev, w, state, status: WindowStatus, action: str, **changes) -> dict:
    before = state.status
    state.status = status
    state.since = ctl.now()
    for key, value in changes.items():
        setattr(state, key, value)
    ctl.store.save_window(w.number, status.value, state.staff, state.reason, state.since,
                          state.streak)
    ctl.audit(dev, action, window=w.number, from_status=before.value,
              detail={"reason": state.reason} if state.reason else None)
    view = ctl.state_window(w.number)
    ctl.emit("window", {"event": action, **view, "at": ctl.now().isoformat()})
    _touch(ctl, w.number)
    return {"window": view}


def op_open(ctl, dev, a: Args) -> dict:
    w, state = _window(ctl, dev, a)
    staff = a.get("staff", dict, None, maxlen=4)
    if staff is not None:
        staff = {"id": str(staff.get("id", ""))[:32], "name": str(staff.get("name", ""))[:32]}
    return _set_status(ctl, dev, w, state, WindowStatus.OPEN, "open", staff=staff or state.staff,
                       reason=None)


def op_close(ctl, dev, a: Args) -> dict:
    w, state = _window(ctl, dev, a)
    cur = ctl.current_ticket(w.number)
    require(cur is None, "busy", f"请先办结当前的 {cur.number if cur else ''} 号",
            "Finish the current ticket first")
    return _set_status(ctl, dev, w, state, WindowStatus.CLOSED, "close", staff=None, reason=None)


def op_pause(ctl, dev, a: Args) -> dict:
    w, state = _window(ctl, dev, a)
    reason = a.get("reason", str, "", maxlen=100)
    require(state.status is not WindowStatus.CLOSED, "window_closed", "窗口未开启", "The window is closed")
    cur = ctl.current_ticket(w.number)
    require(cur is None, "busy", f"请先办结当前的 {cur.number if cur else ''} 号",
            "Finish the current ticket first")
    return _set_status(ctl, dev, w, state, WindowStatus.PAUSED, "pause", reason=reason or None)


def op_resume(ctl, dev, a: Args) -> dict:
    w, state = _window(ctl, dev, a)
    require(state.status is WindowStatus.PAUSED, "bad_state", "窗口不在暂停状态", "The window is not paused")
    return _set_status(ctl, dev, w, state, WindowStatus.OPEN, "resume", reason=None)
