"""Hypothesis strategies over the hall bus's requests, and the checks every answer must pass.

Used by tests/test_fuzz.py (a few hundred examples a run) and bench/fuzz_soak.py (tens of
thousands). A request is drawn from: raw bytes, any JSON, or an envelope for a real op (or a
made-up one) from a device of any role, its arguments mixing plausible values (tickets, windows
and services that exist) with hostile ones (lone surrogates, bidi overrides, NUL, non-ASCII
digits, dates at the ends of the calendar, huge numbers, wrong types, deep nesting).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections import Counter
from pathlib import Path

from hypothesis import strategies as st

from busutil import unlimited_config
from ctlutil import ELDER_ID, MONDAY_10, YOUNG_ID, Clock, logged_in
from onewindow.domain.pagekey import page_key
from onewindow.ops_config import RULE_FIELDS, SERVICE_FIELDS, WINDOW_FIELDS
from onewindow.ops_registry import OPS
from onewindow.roles import Device
from onewindow.startup import open_hall

DEVICES = [
    Device("kiosk-1", "kiosk"),
    Device("caller-2", "caller", frozenset({2, 4})),
    Device("display-1", "display"),
    Device("led-1", "led"),
    Device("rating-3", "rating", frozenset({3})),
    Device("manager-1", "manager"),
    Device("web-1", "web"),
    Device("notifier-1", "notifier"),
    Device("platform-1", "platform"),
]

# ticket.issue's refusals that come from the hall's (fuzzed) configuration, not from a fault
HALL_RULES_SAY_NO = {"closed", "unknown_service", "quota_exhausted"}

# every op's arguments: test_fuzz checks this against the ops' own source, so a new op or
# argument cannot be left out of the fuzzing
ARGS = {
    "ticket.issue": (
        "service",
        "channel",
        "priority",
        "declared",
        "appointment_id",
        "answers",
        "printed",
        "citizen",
        "entrance",
        "phone_id",
        "form",
    ),
    "ticket.cancel": ("ticket_id", "reason"),
    "ticket.reinstate": ("ticket_id",),
    "ticket.printed": ("ticket_id", "printed", "reason", "reprint"),
    "ticket.priority": ("decision", "window", "ticket_id"),
    "entrance.url": (),
    "entrance.check": ("token",),
    "notice.subscribe": ("ticket_id", "phone", "consent", "lang"),
    "notice.cancel": ("ticket_id",),
    "notice.pending": (),
    "notice.sent": ("ticket_id", "stage", "ok", "reason"),
    "case.list": ("status",),
    "case.find": ("citizen",),
    "case.checkin": ("citizen", "case_id", "printed"),
    "form.template": ("service", "answers"),
    "form.get": ("window", "ticket_id", "purpose"),
    "queue.status": ("ticket_id",),
    "window.call_next": ("window", "current"),
    "window.recall": ("window",),
    "window.start": ("window",),
    "window.skip": ("window",),
    "window.finish": ("window", "missing", "missing_days"),
    "window.close": ("window",),
    "window.resume": ("window",),
    "window.hold": ("window",),
    "window.resume_held": ("window", "ticket_id"),
    "window.transfer": ("window", "to_service", "to_window"),
    "window.open": ("window", "staff"),
    "window.pause": ("window", "reason"),
    "rating.submit": (
        "level",
        "channel",
        "reasons",
        "text",
        "ticket_id",
        "window",
        "phone",
        "consent",
    ),
    "rating.prompt": ("window", "level", "keys"),
    "appointment.slots": ("service", "days"),
    "appointment.book": ("service", "citizen", "slot_start", "channel"),
    "appointment.cancel": ("appointment_id", "citizen"),
    "appointment.platform": ("records",),
    "appointment.find": ("citizen",),
    "config.get": (),
    "config.export": (),
    "config.window": ("window",) + tuple(WINDOW_FIELDS),
    "config.service": ("code",) + tuple(SERVICE_FIELDS),
    "config.notice": ("notice",),
    "config.service_add": ("code", "name", "department", "windows") + tuple(SERVICE_FIELDS),
    "config.service_retire": ("code",),
    # not the weekdays: a hostile [] for "mon" would close the fuzzed Monday's hall, and the
    # checks after the fuzzing need it open (tests/test_config_ops.py covers them)
    "config.hours": ("code", "closed_dates", "extra_days"),
    "config.day": ("date", "kind", "ranges"),
    "config.lunch": ("start", "end"),
    "config.rules": tuple(RULE_FIELDS),
    "config.pin": ("old", "new"),
    "help.request": ("place",),
    "alert.clear": ("key",),
    "device.health": ("part", "status", "reason"),
    "device.clock": ("now",),
    "manager.login": ("pin",),
    "manager.logout": (),
    "report.kpis": ("group", "window", "month", "day"),
    "report.audit": ("day", "limit"),
    "report.waiting": (),
    "report.plan": ("day", "target_wait", "percentile"),
    "report.sheet": ("period", "pin"),
    "report.ratings": ("days", "open_only"),
    "rating.follow": ("rating_id", "status", "action", "note", "by"),
    "rating.note": ("rating_id", "note", "by"),
    "rating.case": ("rating_id",),
    "rating.phone": ("rating_id",),
    "ticket.find": ("number", "day"),
}

NASTY = [
    "\ud800",
    "a\udfffb",
    "\udbff\udbff",
    "\u202e\u2066evil",
    "\x00",
    "\x1b[31m",
    "",
    " ",
    "\u0661\u0662\u0663",
    "\uff11\uff12",
    "9" * 40,
    "A" * 5000,
    "<script>",
    "'; --",
    "0001-01-01T00:00:00+08:00",
    "9999-12-31T23:59:59-12:00",
    "2026-11-23T10:30:00",
    "2026-02-30",
    "9999-12",
    "0000-01",
    "\U0001f600",
    "ABC" + "\u0661" * 12,
]
SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.lists(SURROGATE | st.characters(), min_size=1, max_size=4).map("".join),
)
NUMBER = st.one_of(
    st.integers(-3, 20),
    st.integers(),
    st.sampled_from([10**30, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBER | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
CODES = ["A", "B", "C", "F", "K", "L", "T1", "ZZ", "a"]
IDS = [
    YOUNG_ID,
    ELDER_ID,
    "110105194912310021",
    "ABC123456789012",
    "ABC" + "\u0661" * 12,
    "\uff11" * 17 + "X",
    "11010519491231002x",
]


def citizen_values():
    return st.one_of(
        st.fixed_dictionaries(
            {
                "id_number": st.sampled_from(IDS) | TEXT,
                "name": st.sampled_from(["李小明", "王建国", ""]) | TEXT,
            },
            optional={  # the card's other data, sent with a 一表申请 form
                "sex": st.sampled_from(["男", "女"]) | JSON,
                "birth": st.sampled_from(["2000-01-01", "x"]) | JSON,
                "address": TEXT | JSON,
            },
        ),
        JSON,
    )


def plausible(name: str, pools: dict):
    """Values an honest device might send for `name` (or near misses), given what exists."""
    known = {
        "service": st.sampled_from(CODES),
        "code": st.sampled_from(CODES),
        "to_service": st.sampled_from(CODES),
        "window": st.integers(0, 14),
        "to_window": st.integers(0, 14),
        "channel": st.sampled_from(["kiosk", "web", "staff", "appointment", "pad", "qrcode", "x"]),
        "priority": st.sampled_from(["elder", "disabled", "veteran", "pregnant", "other", "vip"]),
        "citizen": citizen_values(),
        "level": st.integers(0, 6),
        "days": st.integers(0, 500),
        "limit": st.integers(0, 30000),
        "printed": st.booleans(),
        "reprint": st.booleans(),
        "open_only": st.booleans(),
        "reasons": st.lists(
            st.sampled_from(["态度", "效率", "其他", "态度不好"]) | TEXT, max_size=25
        ),
        "action": st.sampled_from(["contact", "rectify", "invalid", "cannot", "x"]),
        "note": st.sampled_from(["已电话联系", ""]) | TEXT,
        "by": st.sampled_from(["李科长"]) | TEXT,
        "phone": st.sampled_from(["13812345678", "1381234567", "+8613812345678"]) | TEXT,
        "consent": st.booleans(),
        "keys": st.integers(0, 12),
        "staff": st.fixed_dictionaries({"id": TEXT, "name": TEXT}) | JSON,
        "answers": st.dictionaries(
            st.sampled_from(["q1", "q2", "married"]) | TEXT, JSON, max_size=5
        ),
        "group": st.sampled_from(["hall", "window", "service", "department", "x"]),
        "part": st.sampled_from(["printer", "idcard", "led", "screen", "x" * 40]),
        "status": st.sampled_from(["ok", "ready", "paper_end", "contacted", "rectified", "closed"]),
        "month": st.sampled_from(["2026-11", "2026-13", "9999-12", "0001-01"]),
        "day": st.sampled_from(["2026-11-23", "2026-11-31", "9999-12-31", "0001-01-01"]),
        "now": st.sampled_from(
            ["2026-11-23T10:00:00+08:00", "2026-11-23T10:00:00", "x"] + NASTY[14:18]
        ),
        "pin": st.sampled_from(["1234", "12a4", "", "0" * 40]),
        "slot_start": st.sampled_from(pools["slots"] + NASTY[14:18]),
        "kind": st.sampled_from(["comprehensive", "specialist", "pickup", "x"]),
        "services": st.lists(st.sampled_from(CODES), max_size=4),
        "hours": JSON,
        "guide": JSON,
        "date": st.sampled_from(["2026-12-05", "2026-02-30", "x"]),
        "period": st.sampled_from(["2026-11", "2026-11-23", "2026-13", "x"]),
        "start": st.sampled_from(["12:00", "12:30", "25:00", "x"]),
        "end": st.sampled_from(["13:00", "14:00", "11:00"]),
        "windows": st.lists(st.integers(0, 14), max_size=3),
        "current": st.sampled_from(["no_show", "done", "x"]),
        "declared": st.sampled_from(["disabled", "veteran", "pregnant", "elder", "x"]),
        "decision": st.sampled_from(["confirm", "withdraw", "x"]),
        "missing": st.lists(st.sampled_from(["近期免冠照片", "居民户口簿"]) | TEXT, max_size=3),
        "missing_days": st.integers(0, 70),
        "purpose": st.sampled_from(["view", "reveal", "print", "x"]),
        "form": st.fixed_dictionaries(
            {
                "values": st.fixed_dictionaries(
                    {},
                    optional={
                        "phone": st.sampled_from(["13912345678", "123"]) | JSON,
                        "relation": st.sampled_from(["父亲", "舅舅"]) | JSON,
                        "baby_birth": st.sampled_from(["2026-11-20", "2026-02-30"]) | JSON,
                        "birth_cert": st.sampled_from(["Q620012345", ""]) | TEXT,
                        "baby_sex": st.sampled_from(["女", "x"]),
                        "name": TEXT,
                    },
                )
                | JSON
            }
        )
        | JSON,
    }
    for key, pool in (
        ("ticket_id", "tickets"),
        ("appointment_id", "appointments"),
        ("rating_id", "ratings"),
        ("key", "alerts"),
        ("number", "numbers"),
    ):
        # an index, not sampled_from(pool): the pools grow as examples run, and hypothesis
        # must see the same choices each time it replays an example
        known[key] = st.integers(0, 63).map(lambda i, p=pools[pool]: p[i % len(p)] if p else "none")
    return known.get(name, TEXT)


def requests(data, pools: dict) -> tuple[Device, bytes]:
    """One request (the device it comes from, its bytes), drawn with hypothesis's st.data():
    mostly well-formed envelopes for real ops, half of them from a device allowed to call the op
    with honest arguments (so that requests get far into the ops), half hostile."""
    kind = data.draw(
        st.sampled_from(["honest"] * 4 + ["mixed"] * 4 + ["json", "bytes", "envelope"]),
        label="kind",
    )
    device = data.draw(st.sampled_from(DEVICES), label="device")
    if kind == "bytes":
        return device, data.draw(st.binary(max_size=200), label="bytes")
    if kind == "json":
        return device, json.dumps(data.draw(JSON, label="json")).encode()
    if kind == "envelope":
        req = data.draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "v": JSON | st.just(1),
                    "id": JSON | TEXT,
                    "op": TEXT | st.sampled_from(list(OPS)),
                    "args": JSON,
                },
            ),
            label="envelope",
        )
        return device, json.dumps(req).encode()
    op = data.draw(st.sampled_from(sorted(ARGS)), label="op")
    ways = ["plausible"] * 3 + ["absent"] + ([] if kind == "honest" else ["hostile"] * 2)
    if kind == "honest":
        roles = OPS[op][1]
        device = data.draw(st.sampled_from([d for d in DEVICES if d.role in roles]), label="device")
    args = {}
    for name in ARGS[op]:
        how = data.draw(st.sampled_from(ways), label=name)
        if how == "plausible":
            args[name] = data.draw(plausible(name, pools), label=name)
        elif how == "hostile":
            args[name] = data.draw(JSON, label=name)
    if kind == "mixed" and data.draw(st.booleans(), label="extra arg"):
        args[data.draw(TEXT, label="extra name")] = data.draw(JSON, label="extra value")
    req_id = f"f{data.draw(st.integers(0, 10**9), label='n')}"
    if kind == "mixed" and data.draw(st.integers(0, 9), label="odd id") == 0:
        req_id = data.draw(TEXT, label="id")
    return device, json.dumps({"v": 1, "id": req_id, "op": op, "args": args}).encode()


class FuzzHall:
    """A controller on a real database, a day's worth of state in it, and the checks."""

    def __init__(self, tmp: Path):
        tmp.mkdir(parents=True, exist_ok=True)
        self.clock = Clock(MONDAY_10)
        self.ctl = open_hall(unlimited_config(tmp), tmp / "data", clock=self.clock)
        self.codes: Counter = Counter()
        self.requests = 0
        self.reloads = 0
        real = self.ctl.reload

        def noting():
            self.reloads += 1
            real()

        self.ctl.reload = noting
        self._seed()

    def close(self) -> None:
        self.ctl.store.close()

    def _do(self, device: Device, op: str, **args) -> dict:
        payload = json.dumps({"v": 1, "id": f"seed-{self.requests}", "op": op, "args": args})
        self.requests += 1
        return self.ctl.handle(device, payload.encode()).reply

    def _seed(self) -> None:
        kiosk, manager = DEVICES[0], DEVICES[5]
        logged_in(self.ctl, manager)  # its session lasts the fuzzing's first 15 minutes
        for n in range(1, 14):
            self._do(manager, "window.open", window=n)
        for code in ("A", "A", "B", "F", "T1"):
            self._do(
                kiosk,
                "ticket.issue",
                service=code,
                citizen={"id_number": YOUNG_ID, "name": "李小明"},
            )
        for n in (2, 3, 4):
            self._do(manager, "window.call_next", window=n)
        self._do(manager, "window.finish", window=3)
        self._do(kiosk, "rating.submit", window=3, level=1, reasons=["态度"])  # a case to follow
        self.slots = [
            s["start"]
            for s in self._do(kiosk, "appointment.slots", service="F")["result"]["slots"][:6]
        ]
        self._do(
            kiosk,
            "appointment.book",
            service="F",
            slot_start=self.slots[0],
            citizen={"id_number": ELDER_ID, "name": "王建国"},
        )
        self._do(kiosk, "help.request", place="1号自助机")

    def pools(self) -> dict:
        store = self.ctl.store
        tickets = [
            r["id"] for r in store.db.execute("SELECT id FROM tickets ORDER BY rowid DESC LIMIT 40")
        ]
        return {
            "tickets": tickets + [page_key(t, self.ctl.secret) for t in tickets[:10]],
            "numbers": [r[0] for r in store.db.execute("SELECT number FROM tickets LIMIT 20")],
            "appointments": [r[0] for r in store.db.execute("SELECT id FROM appointments")],
            "ratings": [r[0] for r in store.db.execute("SELECT id FROM ratings")],
            "alerts": self.ctl.alerts.keys(),
            "slots": self.slots,
        }

    def fingerprint(self) -> str:
        """Everything a request could change but its own stored reply: tables and memory.
        The tables are flattened by SQLite itself (a soak's tables grow to thousands of rows);
        the audit log is append-only, so its length and last row say enough."""
        db = self.ctl.store.db
        if not hasattr(self, "_table_sql"):
            self._table_sql = []
            for table in (
                "tickets",
                "counters",
                "windows",
                "appointments",
                "ratings",
                "alerts",
                "config",
            ):
                cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                row = " || '|' || ".join(f"quote({c})" for c in cols)
                self._table_sql.append(
                    f"SELECT group_concat({row}, char(10)) FROM "
                    f"(SELECT * FROM {table} ORDER BY rowid)"
                )
        h = hashlib.sha256()
        for sql in self._table_sql:
            h.update(str(db.execute(sql).fetchone()[0]).encode("utf-8", "backslashreplace"))
        h.update(
            repr(tuple(db.execute("SELECT COUNT(*), MAX(seq) FROM audit").fetchone())).encode()
        )
        h.update(
            repr(
                tuple(db.execute("SELECT COUNT(*), MAX(seq) FROM rating_notes").fetchone())
            ).encode()
        )
        ctl = self.ctl
        h.update(
            repr(
                sorted(
                    (t.id, t.status.value, t.window, t.order_at.isoformat())
                    for t in ctl.queues.by_id.values()
                )
            ).encode()
        )
        h.update(
            repr(
                sorted(
                    (n, w.status.value, w.staff, w.reason, w.streak) for n, w in ctl.windows.items()
                )
            ).encode("utf-8", "backslashreplace")
        )
        h.update(repr(sorted(ctl.alerts.keys())).encode("utf-8", "backslashreplace"))
        h.update(repr(ctl.raw).encode("utf-8", "backslashreplace"))
        return h.hexdigest()

    def check(self, device: Device, payload: bytes) -> dict | None:
        """Send one request and assert what must hold whatever it was."""
        if device.role == "manager" and self.requests % 10:
            # the console's session expires as the fuzz clock runs: log in again, as staff do,
            # or a long run would only ever meet `login_required` (one request in ten still does)
            logged_in(self.ctl, device)
        before = self.fingerprint()
        reloads = self.reloads
        reply = self.ctl.handle(device, payload).reply
        self.requests += 1
        self.clock.advance(seconds=1)
        refused = reply is None or not reply.get("ok")
        code = "ok" if not refused else ("no reply" if reply is None else reply["error"]["code"])
        self.codes[code] += 1
        assert code != "internal", (device, payload, reply)
        assert self.reloads == reloads, ("a full reload", device, payload, reply)
        if reply is not None:
            json.dumps(reply, ensure_ascii=False).encode("utf-8")  # fit to send
        if refused:
            assert self.fingerprint() == before, (
                "a refused request changed something",
                device,
                payload,
                reply,
            )
        self.assert_consistent()
        return reply

    def assert_consistent(self) -> None:
        """Memory and database agree on every open ticket (no half-made change)."""
        rows = {
            r[0]: r[1]
            for r in self.ctl.store.db.execute(
                "SELECT id, status FROM tickets WHERE status NOT IN ('done', 'cancelled')"
            )
        }
        assert rows == {t.id: t.status.value for t in self.ctl.queues.by_id.values()}

    def alive(self) -> None:
        """The controller still does its everyday work."""
        reply = self._do(DEVICES[0], "ticket.issue", service="A")
        # the fuzzed console may have retired A, capped it, or the clock may be at a lunch no
        # window covers: the hall's own rules saying no is an answer, anything else is not
        assert reply["ok"] or reply["error"]["code"] in HALL_RULES_SAY_NO, reply
        assert self._do(DEVICES[2], "queue.status")["ok"]

    def later(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        self.ctl.tick()


def ops_arguments() -> dict[str, set]:
    """The argument names each op reads, from its source (and the helpers it names)."""
    seen: dict[str, set] = {}
    for op, (handler, _roles) in OPS.items():
        src = inspect.getsource(handler)
        names = set(re.findall(r'(?:\ba|req\.args)\.(?:get|str_list)\(\s*"(\w+)"', src))
        if "_window(req)" in src:
            names.add("window")
        if "read_citizen(req.secret" in src:
            names.add("citizen")
        if "WINDOW_FIELDS" in src:
            names |= set(WINDOW_FIELDS)
        if "SERVICE_FIELDS" in src:
            names |= set(SERVICE_FIELDS)
        seen[op] = names
    return seen
