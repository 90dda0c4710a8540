"""Ops a window's caller does: call next, recall, start, skip, transfer, finish, open, close, pause."""
from __future__ import annotations

from .domain.errors import DomainError
from .domain.lifecycle import Action
from .domain.model import Ticket, TicketStatus, WindowStatus
from .domain.routing import choose_next
from .envelope import require
from .request import Request


def _window(req: Request):
    number = req.args.get("window", int, minval=1, maxval=999)
    w = req.hall.window(number)
    if w is None:
        raise DomainError("not_found", f"没有 {number} 号窗口", f"No window {number}")
    if req.device.role != "manager" and number not in req.device.windows:
        raise DomainError("forbidden", f"此设备不能操作 {number} 号窗口",
                          f"This device may not act on window {number}")
    return w, req.window(number)


def _current(req: Request, number: int) -> Ticket:
    t = req.queues.at_window(number)
    if t is None:
        raise DomainError("no_ticket", "当前没有正在办理的号", "No ticket at this window")
    return t


def _require_open(state) -> None:
    if state.status is WindowStatus.CLOSED:
        raise DomainError("window_closed", "窗口未开启，请先开窗", "The window is closed")
    if state.status is WindowStatus.PAUSED:
        raise DomainError("window_paused", "窗口暂停中，请先恢复服务", "The window is paused")


def _finish(req: Request, t: Ticket, auto: bool = False) -> None:
    req.move(t, Action.FINISH, detail={"auto": True} if auto else None)
    req.record_handling(t.service, (t.finished_at - (t.served_at or t.called_at)).total_seconds() / 60)
    req.emit("ticket", {"event": "done", "ticket_id": t.id, "ticket": t.number,
                        "service": t.service, "window": t.window, "at": req.now.isoformat()})


def _call_event(req: Request, t: Ticket, recall: bool) -> None:
    w = req.hall.window(t.window)
    req.emit("call", {"ticket": t.number, "ticket_id": t.id, "window": w.number,
                      "window_name": w.name, "window_name_en": w.name_en, "service": t.service,
                      "service_name": req.code_name(t.service), "recall": recall,
                      "priority": t.priority, "at": req.now.isoformat()})


def op_call_next(req: Request) -> dict:
    w, state = _window(req)
    _require_open(state)
    current = req.queues.at_window(w.number)
    if current is not None:
        _finish(req, current, auto=True)   # 'call next' on a keypad means "done, next"
    codes = req.hall.window_order(w)
    choice = choose_next(w.number, None if w.serves_all() else w.services,
                         req.queues.candidates(w.number, codes), req.now,
                         req.hall.rules.routing, req.hall.rules.fair_share, state.streak)
    if choice is None:
        return {"ticket": None}
    t = choice.ticket
    req.set_window(w.number, streak=state.streak + 1 if choice.jumped else 0)
    req.move(t, Action.CALL, detail={"reason": choice.reason}, window=w.number,
             target_window=None)
    _call_event(req, t, recall=False)
    return {"ticket": req.ticket_view(t)}


def op_recall(req: Request) -> dict:
    w, state = _window(req)
    t = _current(req, w.number)
    require(t.status is not TicketStatus.SERVING, "bad_state", f"{t.number} 已在办理中",
            f"{t.number} is already being served")
    req.move(t, Action.RECALL, recalls=t.recalls + 1)
    _call_event(req, t, recall=True)
    return {"ticket": req.ticket_view(t)}


def op_start(req: Request) -> dict:
    """The citizen has arrived at the window: handling time starts now."""
    w, state = _window(req)
    t = _current(req, w.number)
    if t.status is not TicketStatus.SERVING:
        req.move(t, Action.START)
        req.emit("ticket", {"event": "serving", "ticket_id": t.id, "ticket": t.number,
                            "service": t.service, "window": w.number, "at": req.now.isoformat()})
    return {"ticket": req.ticket_view(t)}


def op_skip(req: Request) -> dict:
    w, state = _window(req)
    t = _current(req, w.number)
    require(t.status is not TicketStatus.SERVING, "bad_state",
            f"{t.number} 已在办理中，不能记为过号", f"{t.number} is being served")
    req.move(t, Action.SKIP)
    req.emit("ticket", {"event": "no_show", "ticket_id": t.id, "ticket": t.number,
                        "service": t.service, "window": w.number, "at": req.now.isoformat()})
    return {"ticket": req.ticket_view(t)}


def op_transfer(req: Request) -> dict:
    """Back into a queue with its original issue time: to a service, or to one window."""
    w, state = _window(req)
    to_service = req.args.get("to_service", str, None, maxlen=16)
    to_window = req.args.get("to_window", int, None, minval=1, maxval=999)
    if (to_service is None) == (to_window is None):
        raise DomainError("bad_request", "请指定转往的业务或窗口（二选一）",
                          "Give either to_service or to_window")
    t = _current(req, w.number)
    if to_service is not None:
        require(bool(req.hall.service(to_service) or req.hall.theme(to_service)), "not_found",
                "没有这项业务", f"No service {to_service}")
    else:
        require(req.hall.window(to_window) is not None, "not_found", f"没有 {to_window} 号窗口",
                f"No window {to_window}")
        require(to_window != w.number, "bad_request", "不能转给本窗口", "Cannot transfer to itself")
    req.move(t, Action.TRANSFER, audit_window=w.number,
             detail={"to_service": to_service, "to_window": to_window},
             origin_service=t.origin_service or t.service, service=to_service or t.service,
             target_window=to_window, transfers=t.transfers + 1, window=None)
    req.emit("ticket", {"event": "transferred", "ticket_id": t.id, "ticket": t.number,
                        "service": t.service, "from_window": w.number, "to_window": to_window,
                        "at": req.now.isoformat()})
    return {"ticket": req.ticket_view(t)}


def op_finish(req: Request) -> dict:
    w, state = _window(req)
    t = _current(req, w.number)
    _finish(req, t)
    req.emit("rating", {"event": "invite", "window": w.number, "ticket_id": t.id,
                        "ticket": t.number, "at": req.now.isoformat()})
    return {"ticket": req.ticket_view(t)}


def _set_status(req: Request, w, status: WindowStatus, action: str, **changes) -> dict:
    req.set_window(w.number, action, status=status, **changes)
    view = req.window_view(w.number)
    req.emit("window", {"event": action, **view, "at": req.now.isoformat()})
    return {"window": view}


def op_open(req: Request) -> dict:
    w, state = _window(req)
    staff = req.args.get("staff", dict, None, maxlen=4)
    if staff is not None:
        staff = {"id": str(staff.get("id", ""))[:32], "name": str(staff.get("name", ""))[:32]}
    return _set_status(req, w, WindowStatus.OPEN, "open", staff=staff or state.staff, reason=None)


def _require_free(req: Request, number: int) -> None:
    cur = req.queues.at_window(number)
    require(cur is None, "busy", f"请先办结当前的 {cur.number if cur else ''} 号",
            "Finish the current ticket first")


def op_close(req: Request) -> dict:
    w, state = _window(req)
    _require_free(req, w.number)
    return _set_status(req, w, WindowStatus.CLOSED, "close", staff=None, reason=None)


def op_pause(req: Request) -> dict:
    w, state = _window(req)
    reason = req.args.get("reason", str, "", maxlen=100)
    require(state.status is not WindowStatus.CLOSED, "window_closed", "窗口未开启", "The window is closed")
    _require_free(req, w.number)
    return _set_status(req, w, WindowStatus.PAUSED, "pause", reason=reason or None)


def op_resume(req: Request) -> dict:
    w, state = _window(req)
    require(state.status is WindowStatus.PAUSED, "bad_state", "窗口不在暂停状态", "The window is not paused")
    return _set_status(req, w, WindowStatus.OPEN, "resume", reason=None)
