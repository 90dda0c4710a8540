"""Ops a window's caller does: call next, recall, start, skip, transfer, hold and resume (挂起),
finish, open, close, pause."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional

from .domain.errors import DomainError
from .domain.lifecycle import Action
from .domain.model import Ticket, TicketStatus, WindowStatus
from .domain.routing import choose_next
from .envelope import require
from .hallconfig import window_table
from .request import Request


def _window(req: Request):
    number = req.args.get("window", int, minval=1, maxval=999)
    w = req.hall.window(number)
    if w is None:
        raise DomainError("not_found", f"没有 {number} 号窗口", f"No window {number}")
    if req.device.role != "manager" and number not in req.device.windows:
        raise DomainError(
            "forbidden",
            f"此设备不能操作 {number} 号窗口",
            f"This device may not act on window {number}",
        )
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


def _finish(req: Request, t: Ticket, detail: Optional[dict] = None) -> None:
    req.move(t, Action.FINISH, detail=detail)
    req.record_handling(
        t.service, (t.finished_at - (t.served_at or t.called_at)).total_seconds() / 60
    )
    req.emit(
        "ticket",
        {
            "event": "done",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "window": t.window,
            "at": req.now.isoformat(),
        },
    )


def _call_event(req: Request, t: Ticket, recall: bool, resumed: bool = False) -> None:
    w = req.hall.window(t.window)
    req.emit(
        "call",
        {
            "ticket": t.number,
            "ticket_id": t.id,
            "window": w.number,
            "window_name": w.name,
            "window_name_en": w.name_en,
            "window_name_bo": window_table(req.raw, w.number).get("name_bo", ""),
            "service": t.service,
            "service_name": req.code_name(t.service),
            "recall": recall,
            **({"resumed": True} if resumed else {}),
            "priority": t.priority,
            "at": req.now.isoformat(),
        },
    )


CURRENT_CHOICES = ("no_show", "done")


def _settle_current(req: Request, number: int, choice) -> None:
    """What 'call next' does with the ticket still at the window. One being served is finished
    (the staff served them); one called but never started is either a no-show or done, and only
    the staff know which: without an explicit `current` the call is refused, so a no-show is
    never counted as served (and a served citizen never as a no-show)."""
    current = req.queues.at_window(number)
    if current is None:
        return
    if current.status is TicketStatus.SERVING:
        require(
            choice != "no_show",
            "bad_state",
            f"{current.number} 已在办理中，不能记为过号",
            f"{current.number} is being served: it cannot be a no-show",
        )
        _finish(req, current, {"by": "call_next"})
    elif choice is None:
        raise DomainError(
            "no_show_or_done",
            f"{current.number} 号已呼叫但未开始办理：请选择「过号」或「已办结」",
            f"{current.number} was called but never started: choose no-show or done",
            ticket=current.number,
            ticket_id=current.id,
            choices=list(CURRENT_CHOICES),
        )
    elif choice == "no_show":
        _skip(req, current, number, {"by": "call_next", "current": "no_show"})
    else:
        _finish(req, current, {"by": "call_next", "current": "done"})


def op_call_next(req: Request) -> dict:
    w, state = _window(req)
    _require_open(state)
    _settle_current(req, w.number, req.args.get("current", str, None, choices=CURRENT_CHOICES))
    codes = req.hall.window_order(w)
    choice = choose_next(
        w.number,
        None if w.serves_all() else w.services,
        req.queues.candidates(w.number, codes),
        req.now,
        req.hall.rules.routing,
        req.hall.rules.fair_share,
        state.streak,
    )
    if choice is None:
        return {"ticket": None}
    t = choice.ticket
    req.set_window(w.number, streak=state.streak + 1 if choice.jumped else 0)
    staff = state.staff or {}
    req.move(
        t,
        Action.CALL,
        detail={"reason": choice.reason},
        window=w.number,
        target_window=None,
        staff=staff.get("id") or None,
        staff_name=staff.get("name") or None,
    )
    _call_event(req, t, recall=False)
    return {"ticket": req.ticket_view(t)}


def op_recall(req: Request) -> dict:
    w, state = _window(req)
    t = _current(req, w.number)
    require(
        t.status is not TicketStatus.SERVING,
        "bad_state",
        f"{t.number} 已在办理中",
        f"{t.number} is already being served",
    )
    req.move(t, Action.RECALL, recalls=t.recalls + 1)
    _call_event(req, t, recall=True)
    return {"ticket": req.ticket_view(t)}


def op_start(req: Request) -> dict:
    """The citizen has arrived at the window: handling time starts now."""
    w, state = _window(req)
    t = _current(req, w.number)
    if t.status is not TicketStatus.SERVING:
        req.move(t, Action.START)
        req.emit(
            "ticket",
            {
                "event": "serving",
                "ticket_id": t.id,
                "ticket": t.number,
                "service": t.service,
                "window": w.number,
                "at": req.now.isoformat(),
            },
        )
    return {"ticket": req.ticket_view(t)}


def op_skip(req: Request) -> dict:
    w, state = _window(req)
    t = _current(req, w.number)
    require(
        t.status is not TicketStatus.SERVING,
        "bad_state",
        f"{t.number} 已在办理中，不能记为过号",
        f"{t.number} is being served",
    )
    _skip(req, t, w.number)
    return {"ticket": req.ticket_view(t)}


def _skip(req: Request, t: Ticket, window: int, detail: Optional[dict] = None) -> None:
    req.move(t, Action.SKIP, detail=detail)
    req.emit(
        "ticket",
        {
            "event": "no_show",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "window": window,
            "at": req.now.isoformat(),
        },
    )


def op_transfer(req: Request) -> dict:
    """Back into a queue with its original issue time: to a service, or to one window."""
    w, state = _window(req)
    to_service = req.args.get("to_service", str, None, maxlen=16)
    to_window = req.args.get("to_window", int, None, minval=1, maxval=999)
    if (to_service is None) == (to_window is None):
        raise DomainError(
            "bad_request", "请指定转往的业务或窗口（二选一）", "Give either to_service or to_window"
        )
    t = _current(req, w.number)
    if to_service is not None:
        require(
            bool(req.hall.service(to_service) or req.hall.theme(to_service)),
            "not_found",
            "没有这项业务",
            f"No service {to_service}",
        )
    else:
        require(
            req.hall.window(to_window) is not None,
            "not_found",
            f"没有 {to_window} 号窗口",
            f"No window {to_window}",
        )
        require(to_window != w.number, "bad_request", "不能转给本窗口", "Cannot transfer to itself")
    req.move(
        t,
        Action.TRANSFER,
        audit_window=w.number,
        detail={"to_service": to_service, "to_window": to_window},
        origin_service=t.origin_service or t.service,
        service=to_service or t.service,
        target_window=to_window,
        transfers=t.transfers + 1,
        window=None,
    )
    req.emit(
        "ticket",
        {
            "event": "transferred",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "from_window": w.number,
            "to_window": to_window,
            "at": req.now.isoformat(),
        },
    )
    return {"ticket": req.ticket_view(t)}


def op_hold(req: Request) -> dict:
    """挂起: the citizen steps away (to fetch a material); the window serves others meanwhile.
    The ticket stays reserved at this window for `rules.hold_min` minutes, then falls back to
    its queue keeping its queue time (Controller.tick releases it)."""
    w, state = _window(req)
    t = _current(req, w.number)
    until = req.now + timedelta(minutes=req.hall.rules.hold_min)
    req.move(
        t,
        Action.HOLD,
        detail={"until": until.isoformat()},
        held_until=until,
        holds=t.holds + 1,
        target_window=None,
    )
    req.emit(
        "ticket",
        {
            "event": "held",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "window": w.number,
            "until": until.isoformat(),
            "at": req.now.isoformat(),
        },
    )
    return {"ticket": req.ticket_view(t)}


def op_resume_held(req: Request) -> dict:
    """The held citizen is back: called to this window again (announced), served as before."""
    w, state = _window(req)
    _require_open(state)
    held = req.queues.held(w.number)
    ticket_id = req.args.get("ticket_id", str, None, maxlen=64)
    if ticket_id is not None:
        t = next((h for h in held if h.id == ticket_id), None)
        require(
            t is not None,
            "not_found",
            "本窗口没有挂起的这个号",
            "No such held ticket at this window",
        )
    else:
        require(bool(held), "no_ticket", "本窗口没有挂起的号", "No ticket is held at this window")
        require(
            len(held) == 1,
            "bad_request",
            "本窗口挂起了多个号，请指明恢复哪一个（ticket_id）",
            "Several tickets are held here: give ticket_id",
        )
        t = held[0]
    _require_free(req, w.number)
    req.move(t, Action.RESUME, held_until=None)
    _call_event(req, t, recall=False, resumed=True)
    return {"ticket": req.ticket_view(t)}


def release_held(req: Request, t: Ticket, reason: str) -> None:
    """A held ticket falls back to its queue with its queue time (hold over, window closed)."""
    window = t.window
    req.move(
        t,
        Action.RELEASE,
        audit_window=window,
        detail={"reason": reason},
        held_until=None,
        window=None,
    )
    req.emit(
        "ticket",
        {
            "event": "released",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "window": window,
            "reason": reason,
            "at": req.now.isoformat(),
        },
    )


def op_finish(req: Request) -> dict:
    """Done; with `missing` (容缺受理) the case is recorded as accepted with those materials due."""
    from .ops_cases import accept

    w, state = _window(req)
    t = _current(req, w.number)
    missing = list(dict.fromkeys(req.args.str_list("missing", maxlen=20)))
    days = req.args.get("missing_days", int, None, minval=1, maxval=60)
    case = accept(req, t, missing, days) if missing else None
    _finish(req, t)
    req.emit(
        "rating",
        {
            "event": "invite",
            "window": w.number,
            "ticket_id": t.id,
            "ticket": t.number,
            "at": req.now.isoformat(),
        },
    )
    return {"ticket": req.ticket_view(t), **({"case": case} if case else {})}


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
    require(
        cur is None,
        "busy",
        f"请先办结或挂起当前的 {cur.number if cur else ''} 号",
        "Finish or hold the current ticket first",
    )


def op_close(req: Request) -> dict:
    w, state = _window(req)
    _require_free(req, w.number)
    for t in req.queues.held(w.number):  # nobody will resume them here: back to the queue
        release_held(req, t, "window_closed")
    return _set_status(req, w, WindowStatus.CLOSED, "close", staff=None, reason=None)


def op_pause(req: Request) -> dict:
    w, state = _window(req)
    reason = req.args.get("reason", str, "", maxlen=100)
    require(
        state.status is not WindowStatus.CLOSED,
        "window_closed",
        "窗口未开启",
        "The window is closed",
    )
    _require_free(req, w.number)
    return _set_status(req, w, WindowStatus.PAUSED, "pause", reason=reason or None)


def op_resume(req: Request) -> dict:
    w, state = _window(req)
    require(
        state.status is WindowStatus.PAUSED,
        "bad_state",
        "窗口不在暂停状态",
        "The window is not paused",
    )
    return _set_status(req, w, WindowStatus.OPEN, "resume", reason=None)
