"""The hall controller: the one owner of numbering, queues and windows. No I/O but its store.

Transport-agnostic: `handle(device, payload)` takes one request and returns the reply and the
events to publish once the transaction holding it has committed. Ops live in ops_*.py, listed
in OPS (ops_registry.py) with the roles that may call them; each is given a `Request`
(request.py), changes the hall only through it, and announces through it. Every change of a
ticket's status is `move` (the table in domain/lifecycle.py). What devices see is computed by
views.py from this state; the bus publishes whatever differs from what it last sent.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import date, datetime, time, timedelta
from typing import Callable, Optional

from . import lograte
from .alerts import Alerts, scan, scan_ratings
from .configreader import ConfigError
from .domain.clockwatch import ClockStep, ClockWatch
from .domain.errors import DomainError
from .domain.estimate import HandlingTimes
from .domain.lifecycle import Action, advance
from .domain.model import Hall, Ticket, WindowState, WindowStatus
from .domain.numbering import format_number, service_day
from .envelope import Args, EnvelopeError, error_reply, ok_reply, parse_request
from .hallconfig import parse
from .hallschema.words import problems_zh
from .managerpin import Consoles
from .ops_registry import BEFORE_LOGIN, OPS, READS
from .ops_windows import release_held
from .queues import OpenTickets
from .request import Outcome, Request
from .roles import Device
from .store import Store
from .uplink import up_data
from .views import Views

log = logging.getLogger(__name__)

# Idempotency records (replies to ops that change something) are kept `reply_retention_days`,
# and within these bounds: a retry comes within minutes, and a device that floods the hall with
# requests must not fill its disk (a full disk stops ticket issuing)
REPLIES_PER_DEVICE = 2_000
REPLIES_MAX_BYTES = 32 * 1024 * 1024
CLOCK_ALERT = "clock"  # a step back (domain/clockwatch.py says what a step is)
CLOCK_AHEAD_ALERT = "clock-ahead"  # a step forward while tickets wait
CONTROLLER = "controller"  # who the audit log names for the controller's own acts
RATING_SCAN = timedelta(minutes=1)  # bad ratings' deadlines are days: looked at once a minute


class Controller:
    def __init__(
        self,
        hall: Hall,
        raw: dict,
        store: Store,
        clock: Callable[[], datetime],
        secret: bytes,
        source_hash: str = "",
        test_mode: bool = False,
        elapsed: Optional[Callable[[], float]] = None,
        boot: Optional[str] = None,
    ):
        """`elapsed`: seconds truly passed, whatever the clock says (time since boot); without
        it only the clock itself is known, and a step forward cannot be told from time passing.
        `boot`: which count `elapsed` is (the machine's boot id): a restart on the same one
        picks up what the controller before it knew of the clock."""
        self.hall = hall
        self.raw = raw
        self.store = store
        self.clock = clock
        self.secret = secret
        self.source_hash = source_hash
        self.test_mode = test_mode  # commissioning: every screen and ticket says 测试
        self.consoles = Consoles()  # manager consoles' PIN sessions and wrong tries
        self.phones = None  # PhoneVault (phonevault.py): set by open_hall
        self.forms = None  # the filled forms' Vault (phonevault.py): set by open_hall
        self.planner = None  # Planner (planner.py): set by open_hall
        self._ratings_scanned: Optional[datetime] = None  # when overdue follow-ups were looked at
        self.reply_bounds = (REPLIES_PER_DEVICE, REPLIES_MAX_BYTES)
        self.views = Views(self)
        self._sink: list = []  # where events of the work in hand go
        self.elapsed = elapsed or (lambda: self.clock().timestamp())
        self.watch = ClockWatch(boot)  # steps of the clock, told from time truly passing
        self._watch_kept = False  # a clock_watch row is in the database
        self._floor = date.min
        self.order_floor: Optional[datetime] = None
        self.reload()

    # -- state from the database -----------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the in-memory view from the database (at start, and after a failed op)."""
        now = self.now()
        if self.watch.last_clock is None:  # at start
            self._resume_clock_watch()
        saved = self.store.config()
        if saved and saved["raw"] != self.raw:
            # a manager's change that did not commit must not live on in memory (at start the
            # two agree, and the file was parsed moments ago: no second parse)
            self.raw = saved["raw"]
            self.hall = parse(self.raw, "saved configuration")
        self.config_version = hashlib.sha256(repr(self.raw).encode()).hexdigest()[:12]
        self.queues = OpenTickets(self.store.open_tickets())
        tickets = list(self.queues.by_id.values())
        # the latest day numbers were issued for: the service day never goes back before it
        self._floor = max(self._floor, self.store.last_issued_day() or date.min)
        if service_day(now) < self._floor:
            self.watch.found_behind(now, self._floor_start(now))  # behind the hall's data
        # queue times of new tickets never go back before those already waiting
        self.order_floor = max(
            [now] + [t.order_at for t in tickets] + ([self.order_floor] if self.order_floor else [])
        )
        # a hall switched off overnight starts on the day of its oldest open ticket, so the
        # first tick or request rolls the day (expiring yesterday's tickets) and purges
        self.day = min([self.today()] + [t.day for t in tickets])
        self._purge_due = True
        rows = self.store.window_rows()
        self.windows: dict[int, WindowState] = {}
        for w in self.hall.windows:
            r = rows.get(w.number)
            self.windows[w.number] = (
                WindowState(
                    w.number,
                    WindowStatus(r["status"]),
                    r["staff"],
                    r["reason"],
                    datetime.fromisoformat(r["since"]),
                    r["streak"],
                )
                if r
                else WindowState(w.number, since=now)
            )
        self.alerts = Alerts(self.store, self.now, self._emit)
        self.handling = HandlingTimes(
            self.hall.rules.estimate_samples, self.hall.rules.default_handling_min
        )
        self.handling.extend(self.store.recent_handling(self.hall.rules.estimate_samples))

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The service day: the clock's, but never a day earlier than one the hall has already
        issued numbers for or moved to. A clock stepped back a day must neither hand out A001
        a second time nor, once put right, expire the tickets it issued meanwhile."""
        return max(service_day(self.now() - self.watch.ahead), self._floor)

    def _floor_start(self, now: datetime) -> datetime:
        """The start of the latest day the hall issued numbers for or moved to."""
        return datetime.combine(self._floor, time.min, tzinfo=now.tzinfo)

    def _watch_clock(self) -> None:
        self.watch.read(self.now(), self.elapsed(), bool(self.queues.by_id))

    def _keep_clock_watch(self) -> None:
        """While the clock is known to be set wrong, the database knows it too: a controller
        restarted on the same boot would otherwise take the step for time passed, and its first
        tick would expire the waiting (a reboot is a night passed, as ever)."""
        if self.watch.boot is None or self.watch.last_clock is None:
            return
        if self.watch.wrong:
            self.store.set_clock_watch(self.watch.to_dict())
            self._watch_kept = True
        elif self._watch_kept:
            self.store.set_clock_watch(None)
            self._watch_kept = False

    def _resume_clock_watch(self) -> None:
        # a corrupt record (not JSON, not a table: a disk, a hand edit) must not stop the hall:
        # it starts as after a reboot, and the next record kept replaces it (or clears it)
        try:
            record = self.store.clock_watch()  # JSON read: ValueError when it is not JSON
            self._watch_kept = record is not None
            if record is not None:
                self.watch.restore(record)
        except ValueError as exc:
            self._watch_kept = True  # the row is there, whatever it holds
            log.warning(
                "ignoring the unreadable clock record in the database (%s); starting without "
                "what it knew of the clock being set wrong",
                exc,
            )

    def code_name(self, code: str) -> str:
        item = self.hall.service(code) or self.hall.theme(code)
        return item.name if item else code

    # -- requests --------------------------------------------------------------------------

    def handle(self, device: Device, payload: bytes) -> Outcome:
        """One request, in its own savepoint; never raises for anything a device sends."""
        try:
            req_id, op, args = parse_request(payload)
        except EnvelopeError as exc:
            lograte.warn(log, ("bad", device.id), "bad request from %s: %s", device.id, exc.message)
            if exc.req_id is None:
                return Outcome(None)
            return Outcome(
                error_reply(
                    exc.req_id,
                    "bad_request",
                    f"请求格式不正确：{exc.message_zh}",
                    f"Malformed request: {exc.message}",
                )
            )
        entry = OPS.get(op)
        if entry is None:
            lograte.warn(log, ("op", device.id), "unknown op %.64r from %s", op, device.id)
            return Outcome(
                error_reply(
                    req_id, "bad_request", f"不支持的操作 {op[:64]}", f"Unknown op {op[:64]}"
                )
            )
        handler, roles = entry
        if device.role not in roles:
            lograte.warn(
                log,
                ("forbidden", device.id),
                "%s (%s) may not do %s: refused",
                device.id,
                device.role,
                op,
            )
            return Outcome(
                error_reply(
                    req_id, "forbidden", "此设备无权执行该操作", f"A {device.role} may not do {op}"
                )
            )
        if (
            device.role == "manager"
            and op not in BEFORE_LOGIN
            and not self.consoles.in_session(device.id, self.now())
        ):
            # the PIN guards the console's every change and report, also from its secret alone
            return Outcome(
                error_reply(
                    req_id, "login_required", "请先输入管理密码", "Enter the manager PIN first"
                )
            )
        # an idempotency record only for what changes something: a read is simply read again
        remember = op not in READS
        if remember:
            earlier = self.store.reply(device.id, req_id)
            if earlier is not None:
                return Outcome(earlier)  # a retry: same answer, nothing changes
        housekeeping = self._sink = []
        try:
            self._watch_clock()
            if self._day_due():
                # the new day first, in its own savepoint: a request that fails must not take
                # the midnight rollover down with it
                with self.store.transaction():
                    self._roll_day_if_needed()
            req = Request(self, device, Args(args))
            self._sink = req.events
            writes = self.store.changes()
            stale = False
            try:
                with self.store.transaction():
                    reply = ok_reply(req_id, handler(req))
                    # in the op's savepoint: a change is never kept without the reply it got
                    if remember:
                        self.store.save_reply(device.id, req_id, self.now(), reply)
            except DomainError as exc:
                # the op's savepoint is rolled back: a refusal never leaves half a change
                reply = error_reply(req_id, exc.code, exc.message, exc.message_en, exc.detail)
                req.events.clear()
                stale = self.store.changes() != writes  # it wrote before refusing
                if remember:
                    self.store.save_reply(device.id, req_id, self.now(), reply)
            if stale:
                lograte.warn(
                    log,
                    ("stale", op),
                    "op %s refused after writing; memory reloaded from the database",
                    op,
                )
                self.reload()
        except Exception:
            lograte.error(
                log,
                ("failed", op),
                "op %s from %s failed; state reloaded from the database",
                op,
                device.id,
                exc_info=True,
            )
            self.reload()
            return Outcome(
                error_reply(
                    req_id,
                    "internal",
                    "系统繁忙，请稍后再试",
                    "The hall system hit an error; please try again",
                )
            )
        finally:
            self._sink = []
        return Outcome(reply, housekeeping + req.events)

    def _emit(self, kind: str, payload: dict) -> None:
        self._sink.append((kind, payload))
        self.record(kind, payload)

    def record(self, kind: str, payload: dict) -> None:
        """Every event the hall emits (an op's `req.emit`, an alert, the day's roll) passes
        here: kept in the outbox for the city, numbered in the transaction of the change, so
        a change and its event are kept or lost together (uplink.py)."""
        data = up_data(self, kind, payload)
        if data is not None:
            self.store.outbox_add(kind, self.now(), data)

    def housekeeping(self, work: Callable[[Alerts], None]) -> list:
        """Work from outside any request (the bus noticing a device go): its events."""
        events = self._sink = []
        try:
            with self.store.transaction():
                work(self.alerts)
        finally:
            self._sink = []
        return events

    def clear_alert(self, key: str) -> list:
        """An alert ended from outside any request (a device settled): its events."""
        return self.housekeeping(lambda alerts: alerts.clear(key))

    # -- the changes ops make, each saved, indexed and audited as one ---------------------------

    def issue(self, device: Device, *, item, **fields) -> Ticket:
        """A new ticket for a service or theme, numbered on the hall's day. Its time never goes
        back before the last one's: a clock stepped back must not put it in front of those
        already waiting, nor make it look a day old once put right."""
        seq = self.store.next_seq(self.day, item.prefix)
        at = self.order_floor = max(self.now(), self.order_floor)
        t = Ticket(
            id=secrets.token_urlsafe(9),
            day=self.day,
            prefix=item.prefix,
            seq=seq,
            number=format_number(item.prefix, seq),
            service=item.code,
            issued_at=at,
            order_at=at,
            **fields,
        )
        self.store.insert_ticket(t)
        self.queues.put(t)
        self.audit(
            device,
            "issue",
            t,
            detail={
                "channel": t.channel,
                "priority": t.priority,
                **({"declared": t.declared} if t.declared else {}),
            },
        )
        return t

    def move(
        self,
        device: Device | str,
        t: Ticket,
        action: Action,
        detail: Optional[dict] = None,
        audit_window: Optional[int] = None,
        **changes,
    ) -> None:
        before = advance(t, action, self.now(), **changes)
        self.store.save_ticket(t)
        self.queues.put(t)
        self.audit(device, action.value, t, window=audit_window, from_status=before, detail=detail)
        if t.status.final:
            self._end_form(device, t)

    def _end_form(self, device: Device | str, t: Ticket) -> None:
        """一表申请: a ticket's form goes with its end, or is kept for its 容缺 case (accepted in
        this same savepoint) until the case's due day; the day's roll drops what is left."""
        if not self.store.has_form(t.id):
            return
        case = self.store.case(t.id)
        if case is not None and case["status"] == "open":
            self.store.keep_form(t.id, date.fromisoformat(case["due"]))
            self.audit(device, "form_keep", t, detail={"until": case["due"]})
        else:
            self.store.drop_form(t.id)
            self.audit(device, "form_drop", t)

    def update(
        self, device: Device, t: Ticket, action: str, detail: Optional[dict] = None, **changes
    ) -> None:
        for name, value in changes.items():
            if name == "status" or not hasattr(t, name):
                raise TypeError(f"update() cannot set {name!r}")
            setattr(t, name, value)
        if changes:
            self.store.save_ticket(t)
            self.queues.put(t)
        self.audit(device, action, t, from_status=t.status, detail=detail)

    def set_window(
        self, device: Device, number: int, action: Optional[str] = None, **changes
    ) -> WindowState:
        st = self.windows[number]
        before = st.status
        for name, value in changes.items():
            setattr(st, name, value)
        if "status" in changes:
            st.since = self.now()
        self.store.save_window(number, st.status.value, st.staff, st.reason, st.since, st.streak)
        if action:
            self.audit(
                device,
                action,
                window=number,
                from_status=before.value,
                detail={"reason": st.reason} if st.reason else None,
            )
        return st

    def set_config(self, device: Device, raw: dict, action: str, detail: dict) -> None:
        try:
            hall = parse(raw, "manager change")
        except ConfigError as exc:
            # the Chinese for the manager (place, option, what to do), the English as checked
            raise DomainError(
                "bad_config",
                "设置未保存：" + problems_zh(exc.problems),
                "Invalid settings: " + "; ".join(exc.problems),
            ) from None
        self.store.save_config(raw, self.now(), device.id)
        self.audit(device, action, detail=detail)
        self.hall, self.raw = hall, raw
        self.config_version = hashlib.sha256(repr(raw).encode()).hexdigest()[:12]
        for w in hall.windows:
            self.windows.setdefault(w.number, WindowState(w.number, since=self.now()))

    def audit(
        self,
        device: Device | str,
        action: str,
        ticket: Ticket | None = None,
        window: int | None = None,
        from_status=None,
        detail: dict | None = None,
    ) -> None:
        self.store.audit(
            self.now(),
            device if isinstance(device, str) else device.id,
            action,
            ticket.id if ticket else None,
            window if window is not None else (ticket.window if ticket else None),
            from_status.value if hasattr(from_status, "value") else from_status,
            ticket.status.value if ticket else None,
            detail,
        )

    # -- the day ------------------------------------------------------------------------------

    def _day_due(self) -> bool:
        return self._purge_due or self.watch.untold or self.today() != self.day

    def _roll_day_if_needed(self) -> None:
        if not self._day_due():
            return
        while (step := self.watch.next_step(self._floor_start(self.now()))) is not None:
            self._tell_clock(step)
        today = self.today()
        if today != self.day:
            log.info("new service day %s: earlier days' open tickets expire", today)
        for t in list(self.queues.by_id.values()):
            if t.day < today:
                self.move(CONTROLLER, t, Action.EXPIRE, detail={"reason": "day_end"})
        for w in self.windows.values():
            w.streak = 0
        r = self.hall.rules
        self.store.purge(
            self.now() - timedelta(days=r.reply_retention_days),
            today - timedelta(days=r.retention_days),
            today,
        )
        dropped = self.store.purge_forms(today)
        if dropped:
            self.audit(CONTROLLER, "form_purge", detail={"forms": dropped})
        self._purge_due = False
        self.day = today
        self._floor = max(self._floor, today)

    def _release_holds(self) -> None:
        """Held (挂起) tickets whose time at their window ran out fall back to their queue."""
        now = self.now()
        due = [t for t in self.queues.held() if t.held_until is not None and t.held_until <= now]
        if not due:
            return
        req = Request(self, Device(CONTROLLER, "controller"), Args({}))
        for t in due:
            release_held(req, t, "hold_expired")
        self._sink.extend(req.events)

    def _tell_clock(self, step: ClockStep) -> None:
        """A clock stepped: the managers hear it, and the hall stays on its day. Back: issuing
        goes on on the hall's day, until the clock catches up. Forward while tickets waited:
        the waiting keep their places until the clock is put right, the tickets are all done,
        or the time truly passed reaches the next day."""
        was, to, day = step.was, step.to, self.today()
        if step.forward:
            assert was is not None  # a step forward is always between two readings
            log.warning(
                "the system clock jumped forward from %s to %s with tickets waiting; the hall "
                "stays on %s and expires none of them (check the time synchronisation)",
                was.isoformat(),
                to.isoformat(),
                day,
            )
            self.alerts.clear(CLOCK_AHEAD_ALERT)  # a second step: told anew
            key = CLOCK_AHEAD_ALERT
            words = (
                f"系统时钟向前跳变（从 {was:%m-%d %H:%M:%S} 到 {to:%m-%d %H:%M:%S}），"
                "等候中的号票保留"
            )
        else:
            log.warning(
                "the system clock went back%s to %s; numbers go on for %s (check the time "
                "synchronisation)",
                f" from {was.isoformat()}" if was else "",
                to.isoformat(),
                day,
            )
            behind = f"从 {was:%m-%d %H:%M:%S} " if was else ""
            key, words = CLOCK_ALERT, f"系统时钟回拨（{behind}到 {to:%m-%d %H:%M:%S}）"
        self.alerts.raise_(
            key,
            "clock",
            f"{words}，号码继续按 {day:%m-%d} 发放，请检查时间同步",
            day=day.isoformat(),
        )

    def _settle_clock_ahead(self) -> None:
        """The forward step is over once the clock is put right, or once no ticket waits."""
        if self.watch.settle(bool(self.queues.by_id)):
            log.info("no ticket waits: the service day follows the clock again")
        if not self.watch.ahead and CLOCK_AHEAD_ALERT in self.alerts:
            self.alerts.clear(CLOCK_AHEAD_ALERT)

    def tick(self) -> list:
        """Periodic work on the controller's thread: day rollover, alerts, bounds."""
        events = self._sink = []
        try:
            self._watch_clock()
            with self.store.transaction():
                self._settle_clock_ahead()
                self._keep_clock_watch()
                self._roll_day_if_needed()
                self._release_holds()
                if CLOCK_ALERT in self.alerts and self.watch.back_over(self.now()):
                    self.alerts.clear(CLOCK_ALERT)  # the clock has caught up with the hall
                self.store.trim_replies(*self.reply_bounds)
            now = self.now()
            # in a transaction: an alert and its outbox row are kept together
            with self.store.transaction():
                scan(self)
                if (
                    self._ratings_scanned is None
                    or not timedelta(0) <= now - self._ratings_scanned < RATING_SCAN
                ):
                    self._ratings_scanned = now
                    scan_ratings(self)
        finally:
            self._sink = []
        return events
