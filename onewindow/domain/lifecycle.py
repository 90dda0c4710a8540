"""A ticket's life as one table: which action moves it from which status to which (no I/O).

    waiting --call--> called --recall--> recalled
    called/recalled --start--> serving
    called/recalled/serving --finish--> done
    called/recalled --skip--> no_show --reinstate--> waiting
    called/recalled/serving --transfer--> waiting (keeping its queue time)
    called/recalled/serving --hold--> held (挂起: reserved at its window until held_until)
    held --resume--> called (back at its window, announced again)
    held --release--> waiting (the hold ran out or the window closed: its queue, its queue time)
    waiting/no_show --cancel--> cancelled
    any open status --expire--> cancelled (the day ended)

Every change of a ticket's status goes through `advance`, which checks the table and stamps the
time the action happened; the controller's one `move` then saves, re-indexes and audits it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from .errors import DomainError
from .model import Ticket, TicketStatus

W, C, R, S, H = (
    TicketStatus.WAITING,
    TicketStatus.CALLED,
    TicketStatus.RECALLED,
    TicketStatus.SERVING,
    TicketStatus.HELD,
)
DONE, NO_SHOW, CANCELLED = TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.CANCELLED


class Action(str, enum.Enum):
    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    SKIP = "skip"
    REINSTATE = "reinstate"
    TRANSFER = "transfer"
    CANCEL = "cancel"
    EXPIRE = "expire"
    HOLD = "hold"
    RESUME = "resume"
    RELEASE = "release"


TRANSITIONS: dict[tuple[TicketStatus, Action], TicketStatus] = {
    (W, Action.CALL): C,
    (C, Action.RECALL): R,
    (R, Action.RECALL): R,
    (C, Action.START): S,
    (R, Action.START): S,
    (C, Action.FINISH): DONE,
    (R, Action.FINISH): DONE,
    (S, Action.FINISH): DONE,
    (C, Action.SKIP): NO_SHOW,
    (R, Action.SKIP): NO_SHOW,
    (NO_SHOW, Action.REINSTATE): W,
    (C, Action.TRANSFER): W,
    (R, Action.TRANSFER): W,
    (S, Action.TRANSFER): W,
    (C, Action.HOLD): H,
    (R, Action.HOLD): H,
    (S, Action.HOLD): H,
    (H, Action.RESUME): C,
    (H, Action.RELEASE): W,
    (W, Action.CANCEL): CANCELLED,
    (NO_SHOW, Action.CANCEL): CANCELLED,
    **{(s, Action.EXPIRE): CANCELLED for s in (W, C, R, S, NO_SHOW, H)},
}

# the time each action stamps on the ticket
STAMPS: dict[Action, str] = {
    Action.CALL: "called_at",
    Action.START: "served_at",
    Action.FINISH: "finished_at",
    Action.SKIP: "skipped_at",
    Action.CANCEL: "finished_at",
    Action.EXPIRE: "finished_at",
}

_WORDS = {
    TicketStatus.WAITING: ("在等候", "waiting"),
    TicketStatus.CALLED: ("已呼叫", "called"),
    TicketStatus.RECALLED: ("已重呼", "recalled"),
    TicketStatus.SERVING: ("在办理中", "being served"),
    TicketStatus.DONE: ("已办结", "done"),
    TicketStatus.NO_SHOW: ("已过号", "a no-show"),
    TicketStatus.CANCELLED: ("已取消", "cancelled"),
    TicketStatus.HELD: ("已挂起", "held"),
}


_PAST = {
    Action.HOLD: "held",
    Action.RESUME: "resumed",
    Action.RELEASE: "released",
    Action.EXPIRE: "expired",
    Action.REINSTATE: "reinstated",
    Action.SKIP: "skipped",
    Action.CALL: "called",
    Action.RECALL: "recalled",
    Action.TRANSFER: "transferred",
}


def allowed(status: TicketStatus, action: Action) -> bool:
    return (status, action) in TRANSITIONS


def advance(t: Ticket, action: Action, at: datetime, **changes: object) -> TicketStatus:
    """Move `t` by `action` at `at` (its status, the action's time stamp, and `changes` to other
    fields); returns the status it had. DomainError `bad_state` when the table forbids it."""
    before = t.status
    after = TRANSITIONS.get((before, action))
    if after is None:
        zh, en = _WORDS[before]
        raise DomainError(
            "bad_state",
            f"{t.number} {zh}，不能执行此操作",
            f"{t.number} is {en}: it cannot be {_PAST.get(action, action.value + 'ed')}",
        )
    for name, value in changes.items():
        if name == "status" or not hasattr(t, name):
            raise TypeError(f"advance() cannot set {name!r}")
        setattr(t, name, value)
    t.status = after
    stamp = STAMPS.get(action)
    if stamp:
        setattr(t, stamp, at)
    return before
