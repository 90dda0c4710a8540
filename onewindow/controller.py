"""The hall controller: the one owner of numbering, queues and windows. No I/O but its store.

Transport-agnostic: `handle(device, payload)` takes one request and returns the reply and the
events to publish once the transaction holding it has committed. Ops live in ops_*.py and are
listed in OPS (ops_registry.py) with the roles that may call them.
"""
from __future__ import annotations

import bisect
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable, Optional

from . import lograte
from .domain import hours as hours_mod
from .domain.errors import DomainError
from .domain.estimate import HandlingTimes, estimate_wait_min
from .domain.model import Hall, Ticket, TicketStatus, WindowStatus
from .domain.numbering import service_day
from .domain.pagekey import page_key
from .domain.routing import upcoming
from .envelope import Args, EnvelopeError, error_reply, ok_reply, parse_request
from .managerpin import SESSION_S
from .store import Store

log = logging.getLogger(__name__)

NEXT_SHOWN = 5      # upcoming tickets listed in a window's state (its caller shows them)

ROLES = ("kiosk", "caller", "display", "led", "rating", "manager", "web")
ALERT_REPEAT = timedelta(minutes=10)   # an unresolved alert is raised again this often
# Idempotency records (replies to ops that change something) are kept `reply_retention_days`,
# and within these bounds: a retry comes within minutes, and a device that floods the hall with
# requests must not fill its disk (a full disk stops ticket issuing)
REPLIES_PER_DEVICE = 2_000
REPLIES_MAX_BYTES = 32 * 1024 * 1024
CLOCK_STEP = timedelta(seconds=30)     # the clock going back more than this is a step, not jitter
CLOCK_ALERT = "clock"


@dataclass(frozen=True)
class Device:
    id: str
    role: str
    windows: frozenset = frozenset()


@dataclass
class Outcome:
    reply: Optional[dict]                                # None: nothing can be addressed
    events: list = field(default_factory=list)           # (kind, payload) for evt/<kind>


@dataclass
class WindowState:
    number: int
    status: WindowStatus = WindowStatus.CLOSED
    staff: Optional[dict] = None
    reason: Optional[str] = None
    since: Optional[datetime] = None
    streak: int = 0


def _order_key(t: Ticket) -> tuple:
    return (not t.priority, t.order_at, t.seq, t.id)


class Controller:
    def __init__(self, hall: Hall, raw: dict, store: Store, clock: Callable[[], datetime],
                 secret: bytes, source_hash: str = "", test_mode: bool = False):
        self.hall = hall
        self.test_mode = test_mode          # commissioning: every screen and ticket says 测试
        self.login_fails: dict[str, list] = {}   # console -> its recent wrong PINs (lockout)
        self.sessions: dict[str, datetime] = {}  # console -> when its PIN session ends
        self.raw = raw
        self.store = store
        self.clock = clock
        self.secret = secret
        self.source_hash = source_hash
        self.tickets: dict[str, Ticket] = {}
        self.windows: dict[int, WindowState] = {}
        self.handling = HandlingTimes(hall.rules.estimate_samples, hall.rules.default_handling_min)
        self.alerts: dict[str, dict] = {}
        self.dirty: set = set()
        self._events: list = []
        self.day = None
        self.reply_bounds = (REPLIES_PER_DEVICE, REPLIES_MAX_BYTES)
        self._last_clock: Optional[datetime] = None     # the clock's previous reading
        self._clock_step: Optional[tuple] = None        # (from, to): a step back, not yet told
        self._clock_back_from: Optional[datetime] = None  # the clock alert lasts until then
        self._floor = date.min
        self.order_floor: Optional[datetime] = None
        self.reload()

    # -- state from the database -----------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the in-memory view from the database (at start, and after a rolled-back op)."""
        now = self.now()
        saved = self.store.config()
        if saved and saved["raw"] != self.raw:
            # a manager's change that did not commit must not live on in memory (at start the
            # two agree, and the file was parsed moments ago: no second parse)
            from .hallconfig import parse
            self.raw = saved["raw"]
            self.hall = parse(self.raw, "saved configuration")
        active = [s.value for s in TicketStatus if not s.final]
        marks = ",".join("?" * len(active))
        self.tickets = {}
        self._by_code: dict[str, dict[str, Ticket]] = {}
        self._to_window: dict[int, dict[str, Ticket]] = {}
        self._where: dict[str, tuple] = {}
        self._order: dict[str, list] = {}       # per service: waiting tickets' call-order keys
        for t in self.store.tickets(f"status IN ({marks})", active):
            self.tickets[t.id] = t
            self._index(t)
        # the latest day numbers were issued for: the service day never goes back before it
        self._floor = max(self._floor, self.store.last_issued_day() or date.min)
        if service_day(now) < self._floor:
            self._clock_step = (None, now)    # started with a clock behind the hall's data
        # queue times of new tickets never go back before those already waiting
        self.order_floor = max([now] + [t.order_at for t in self.tickets.values()]
                               + ([self.order_floor] if self.order_floor else []))
        # a hall switched off overnight starts on the day of its oldest open ticket, so the
        # first tick or request rolls the day (expiring yesterday's tickets) and purges
        self.day = min([self.today()] + [t.day for t in self.tickets.values()])
        self._purge_due = True
        rows = self.store.window_rows()
        self.windows = {}
        for w in self.hall.windows:
            r = rows.get(w.number)
            self.windows[w.number] = WindowState(
                w.number, WindowStatus(r["status"]), r["staff"], r["reason"],
                datetime.fromisoformat(r["since"]), r["streak"]) if r else WindowState(w.number, since=now)
        self.alerts = self.store.alerts()
        self.handling = HandlingTimes(self.hall.rules.estimate_samples,
                                      self.hall.rules.default_handling_min)
        self.handling.extend(self.store.recent_handling(self.hall.rules.estimate_samples))
        self.dirty = {"hall", "queues"} | {("window", n) for n in self.windows}

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The service day: the clock's, but never a day earlier than one the hall has already
        issued numbers for or moved to. A clock stepped back a day must neither hand out A001
        a second time nor, once put right, expire the tickets it issued meanwhile."""
        return max(service_day(self.now()), self._floor)

    def _watch_clock(self) -> None:
        """Note a step back of the clock (once per step) for the clock alert."""
        now = self.now()
        if self._last_clock is not None and now < self._last_clock - CLOCK_STEP:
            self._clock_step = (self._last_clock, now)
        self._last_clock = now

    # -- tickets: every change goes through here, so memory, index and database agree --------

    def save_ticket(self, t: Ticket, new: bool = False) -> None:
        if new:
            self.store.insert_ticket(t)
        else:
            self.store.save_ticket(t)
        if t.status.final:
            self.tickets.pop(t.id, None)
        else:
            self.tickets[t.id] = t
        self._index(t)

    def _index(self, t: Ticket) -> None:
        """Waiting tickets by queue code, and those sent to one window: calls scan only these.
        Per service, their order keys sorted, so "how many ahead" is a bisection, not a scan."""
        where = self._where.pop(t.id, None)
        if where is not None:
            kind, bucket, service, key = where
            (self._by_code if kind == "code" else self._to_window)[bucket].pop(t.id, None)
            keys = self._order[service]
            del keys[bisect.bisect_left(keys, key)]
        if t.status is not TicketStatus.WAITING:
            return
        key = _order_key(t)
        if t.target_window is not None:
            where = ("window", t.target_window, t.service, key)
            self._to_window.setdefault(t.target_window, {})[t.id] = t
        else:
            where = ("code", t.service, t.service, key)
            self._by_code.setdefault(t.service, {})[t.id] = t
        bisect.insort(self._order.setdefault(t.service, []), key)
        self._where[t.id] = where

    def waiting_count(self, window) -> int:
        """How many tickets this window could call, from the indexes (no list built)."""
        return len(self._to_window.get(window.number, {})) + sum(
            len(self._by_code.get(code, {})) for code in self.hall.window_order(window))

    def waiting_for_window(self, window) -> list[Ticket]:
        """Candidates for a window's call: its services' queues and what was sent to it."""
        codes = self.hall.window_order(window)
        out = list(self._to_window.get(window.number, {}).values())
        for code in codes:
            out.extend(self._by_code.get(code, {}).values())
        return out

    # -- requests --------------------------------------------------------------------------

    def handle(self, device: Device, payload: bytes) -> Outcome:
        """One request, in its own savepoint; never raises for anything a device sends."""
        try:
            req_id, op, args = parse_request(payload)
        except EnvelopeError as exc:
            lograte.warn(log, ("bad", device.id), "bad request from %s: %s", device.id, exc.message)
            if exc.req_id is None:
                return Outcome(None)
            return Outcome(error_reply(exc.req_id, "bad_request", f"请求格式不正确：{exc.message}",
                                       f"Malformed request: {exc.message}"))
        from .ops_registry import BEFORE_LOGIN, OPS, READS
        entry = OPS.get(op)
        if entry is None:
            lograte.warn(log, ("op", device.id), "unknown op %.64r from %s", op, device.id)
            return Outcome(error_reply(req_id, "bad_request", f"不支持的操作 {op[:64]}",
                                       f"Unknown op {op[:64]}"))
        handler, roles = entry
        if device.role not in roles:
            lograte.warn(log, ("forbidden", device.id), "%s (%s) may not do %s: refused",
                         device.id, device.role, op)
            return Outcome(error_reply(req_id, "forbidden", "此设备无权执行该操作",
                                       f"A {device.role} may not do {op}"))
        if device.role == "manager" and op not in BEFORE_LOGIN:
            # the PIN guards the console's every change and report, also from its secret alone
            expires = self.sessions.get(device.id)
            if expires is None or self.now() >= expires:
                self.sessions.pop(device.id, None)
                return Outcome(error_reply(req_id, "login_required", "请先输入管理密码",
                                           "Enter the manager PIN first"))
            self.sessions[device.id] = self.now() + timedelta(seconds=SESSION_S)
        # an idempotency record only for what changes something: a read is simply read again
        remember = op not in READS
        if remember:
            earlier = self.store.reply(device.id, req_id)
            if earlier is not None:
                return Outcome(earlier)       # a retry: same answer, nothing changes
        self._events = []
        dirty_before = set(self.dirty)
        try:
            self._watch_clock()
            if self._day_due():
                # the new day first, in its own savepoint: a request that fails must not take
                # the midnight rollover down with it
                with self.store.transaction():
                    self._roll_day_if_needed()
            housekeeping, self._events = self._events, []
            writes = self.store.db.total_changes
            stale = False
            try:
                with self.store.transaction():
                    reply = ok_reply(req_id, handler(self, device, Args(args)))
                    # in the op's savepoint: a change is never kept without the reply it got
                    if remember:
                        self.store.save_reply(device.id, req_id, self.now(), reply)
            except DomainError as exc:
                # the op's savepoint is rolled back: a refusal never leaves half a change
                reply = error_reply(req_id, exc.code, exc.message, exc.message_en, exc.detail)
                self._events = []
                stale = self.store.db.total_changes != writes   # it wrote before refusing
                if remember:
                    self.store.save_reply(device.id, req_id, self.now(), reply)
            if stale:
                lograte.warn(log, ("stale", op), "op %s refused after writing; memory reloaded "
                             "from the database", op)
                self.reload()
                self.dirty |= dirty_before
        except Exception:
            lograte.error(log, ("failed", op), "op %s from %s failed; state reloaded from the "
                          "database", op, device.id, exc_info=True)
            self.reload()
            self.dirty |= dirty_before
            return Outcome(error_reply(req_id, "internal", "系统繁忙，请稍后再试",
                                       "The hall system hit an error; please try again"))
        events, self._events = housekeeping + self._events, []
        return Outcome(reply, events)

    def emit(self, kind: str, payload: dict) -> None:
        self._events.append((kind, payload))

    def audit(self, device: Device | str, action: str, ticket: Ticket | None = None,
              window: int | None = None, from_status=None, detail: dict | None = None) -> None:
        self.store.audit(self.now(), device if isinstance(device, str) else device.id, action,
                         ticket.id if ticket else None,
                         window if window is not None else (ticket.window if ticket else None),
                         from_status.value if hasattr(from_status, "value") else from_status,
                         ticket.status.value if ticket else None, detail)

    # -- the day ------------------------------------------------------------------------------

    def _day_due(self) -> bool:
        return self._purge_due or self._clock_step is not None or self.today() != self.day

    def _roll_day_if_needed(self) -> None:
        if not self._day_due():
            return
        if self._clock_step is not None:
            self._tell_clock_step()
        today = self.today()
        if today != self.day:
            log.info("new service day %s: earlier days' open tickets expire", today)
        for t in list(self.tickets.values()):
            if t.day < today:
                before = t.status
                t.status = TicketStatus.CANCELLED
                t.finished_at = self.now()
                self.save_ticket(t)
                self.audit("controller", "expire", t, from_status=before, detail={"reason": "day_end"})
        for w in self.windows.values():
            w.streak = 0
        r = self.hall.rules
        self.store.purge(self.now() - timedelta(days=r.reply_retention_days),
                         today - timedelta(days=r.retention_days))
        self._purge_due = False
        self.day = today
        self._floor = max(self._floor, today)
        self.dirty |= {"hall", "queues"} | {("window", n) for n in self.windows}

    def _tell_clock_step(self) -> None:
        """A clock stepped back: the managers hear it, and issuing goes on on the hall's day."""
        from .alerts import raise_alert
        was, now = self._clock_step
        self._clock_step = None
        self._clock_back_from = was or datetime.combine(self._floor, time.min, tzinfo=now.tzinfo)
        behind = f"从 {was:%m-%d %H:%M:%S} " if was else ""
        log.warning("the system clock went back%s to %s; numbers go on for %s (check the time "
                    "synchronisation)", f" from {was.isoformat()}" if was else "",
                    now.isoformat(), self.today())
        raise_alert(self, CLOCK_ALERT, "clock",
                    f"系统时钟回拨（{behind}到 {now:%m-%d %H:%M:%S}），号码继续按 "
                    f"{self.today():%m-%d} 发放，请检查时间同步", day=self.today().isoformat())

    def tick(self) -> list:
        """Periodic work on the controller's thread: day rollover, alerts, bounds."""
        self._events = []
        self._watch_clock()
        with self.store.transaction():
            self._roll_day_if_needed()
            if CLOCK_ALERT in self.alerts and (self._clock_back_from is None
                                               or self.now() >= self._clock_back_from):
                from .alerts import clear_alert
                clear_alert(self, CLOCK_ALERT)      # the clock has caught up with the hall
                self._clock_back_from = None
            self.store.trim_replies(*self.reply_bounds)
        from .alerts import scan
        scan(self)
        events, self._events = self._events, []
        return events

    # -- views (plain dicts, published as state and returned in replies) ----------------------

    def code_name(self, code: str) -> str:
        item = self.hall.service(code) or self.hall.theme(code)
        return item.name if item else code

    def waiting(self, code: Optional[str] = None) -> list[Ticket]:
        if code is None:
            out = [t for queue in self._by_code.values() for t in queue.values()]
        else:
            out = list(self._by_code.get(code, {}).values())
        for queue in self._to_window.values():
            out.extend(t for t in queue.values() if code is None or t.service == code)
        return out

    def open_windows_for(self, code: str) -> int:
        return sum(1 for w in self.hall.windows if self.hall.window_serves(w, code)
                   and self.windows[w.number].status is WindowStatus.OPEN)

    def estimate(self, code: str, ahead: int) -> int:
        windows = self.open_windows_for(code) or sum(
            1 for w in self.hall.windows if self.hall.window_serves(w, code))
        return estimate_wait_min(ahead, self.handling.mean(code), windows)

    def ahead_of(self, t: Ticket) -> int:
        """Waiting tickets of the same service before this one: priority first, then queue time."""
        if t.status is not TicketStatus.WAITING:
            return 0
        return bisect.bisect_left(self._order.get(t.service, []), _order_key(t))

    def ticket_view(self, t: Ticket) -> dict:
        ahead = self.ahead_of(t)
        w = self.hall.window(t.window) if t.window else None
        return {
            "id": t.id, "number": t.number, "service": t.service,
            "service_name": self.code_name(t.service), "issued_at": t.issued_at.isoformat(),
            "ahead": ahead, "est_wait_min": self.estimate(t.service, ahead),
            # the QR code's page key, not the bare id that events carry to every device
            "status_url": self.hall.status_url.replace("{ticket_id}", page_key(t.id, self.secret)),
            "status": t.status.value, "channel": t.channel, "priority": t.priority,
            "appointment": t.slot_start.isoformat() if t.slot_start else None,
            "citizen": t.citizen_masked, "window": t.window,
            "window_name": w.name if w else None,
            "called_at": t.called_at.isoformat() if t.called_at else None,
            "recalls": t.recalls, "transfers": t.transfers, "printed": t.printed,
            "test": self.test_mode,
        }

    def state_queues(self) -> dict:
        out = {}
        for code in self.hall.queue_codes():
            waiting = len(self.waiting(code))
            out[code] = {"name": self.code_name(code), "waiting": waiting,
                         "est_wait_min": self.estimate(code, waiting),
                         "open_windows": self.open_windows_for(code)}
        return out

    def current_ticket(self, window: int) -> Optional[Ticket]:
        for t in self.tickets.values():
            if t.window == window and t.status.at_window:
                return t
        return None

    def state_window(self, number: int) -> dict:
        w = self.hall.window(number)
        st = self.windows[number]
        cur = self.current_ticket(number)
        return {
            "window": number, "name": w.name, "name_en": w.name_en, "kind": w.kind,
            "status": st.status.value, "serving": cur.number if cur else None,
            "ticket_id": cur.id if cur else None,
            "ticket_status": cur.status.value if cur else None,
            "services": list(self.hall.window_order(w)), "all": w.serves_all(),
            "staff": st.staff, "reason": st.reason,
            "since": st.since.isoformat() if st.since else None,
            "waiting": self.waiting_count(w),
            # numbers and marks only: the caller's list of who comes next, no one's name
            "next": [{"number": t.number, "service": t.service, "reason": why}
                     for t, why in upcoming(number, None if w.serves_all() else w.services,
                                            self.waiting_for_window(w), self.now(),
                                            self.hall.rules.routing, NEXT_SHOWN)],
        }

    def state_hall(self) -> dict:
        now = self.now()
        opening = hours_mod.next_opening(self.hall.hours, now)
        zh, en = hours_mod.describe_opening(opening, now.date())
        return {
            "id": self.hall.id, "name": self.hall.name, "name_en": self.hall.name_en,
            "day": self.day.isoformat(), "open": hours_mod.is_open(self.hall.hours, now),
            "next_opening": opening.isoformat() if opening else None,
            "next_opening_text": zh, "next_opening_text_en": en,
            "notice": self.hall.notice, "test_mode": self.test_mode,
            "alerts": sorted(self.alerts.values(), key=lambda a: a["at"]),
            "config_version": hashlib.sha256(repr(self.raw).encode()).hexdigest()[:12],
            "updated_at": now.isoformat(),
        }
