"""What a hall is made of (services, windows, themes, rules) and what moves through it (tickets)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Optional

from .forms import FormTemplate


class TicketStatus(str, enum.Enum):
    WAITING = "waiting"
    CALLED = "called"
    RECALLED = "recalled"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    HELD = "held"  # 挂起: stepped away from the window, reserved there for a while

    @property
    def at_window(self) -> bool:
        return self in (TicketStatus.CALLED, TicketStatus.RECALLED, TicketStatus.SERVING)

    @property
    def final(self) -> bool:
        return self in (TicketStatus.DONE, TicketStatus.CANCELLED)


class WindowStatus(str, enum.Enum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass
class WindowState:
    """A window's status as the hall lives it (the configuration's Window says what it serves)."""

    number: int
    status: WindowStatus = WindowStatus.CLOSED
    staff: Optional[dict[str, Any]] = None
    reason: Optional[str] = None
    since: Optional[datetime] = None
    streak: int = 0  # queue jumps in a row (routing's fair share)


class Priority(str, enum.Enum):
    ELDER = "elder"
    DISABLED = "disabled"
    VETERAN = "veteran"
    PREGNANT = "pregnant"
    OTHER = "other"


# what a citizen may declare at a kiosk (绿色通道); the elderly are found from the ID card
DECLARABLE = ("disabled", "veteran", "pregnant")
PRIORITY_CHECKS = ("declared", "confirmed", "withdrawn")

CHANNELS = ("kiosk", "web", "staff", "appointment")
WINDOW_KINDS = ("comprehensive", "specialist", "pickup")
ROUTING_MODES = ("fifo", "service_order")

Ranges = tuple[tuple[time, time], ...]  # opening ranges of one day, sorted, non-overlapping


@dataclass(frozen=True)
class Hours:
    week: tuple[Ranges, ...]  # 7 entries, Monday first
    closed_dates: frozenset[date] = frozenset()
    extra_days: dict[date, Ranges] = field(
        default_factory=dict
    )  # date -> Ranges (调休 working days, events)


@dataclass(frozen=True)
class Material:
    name: str
    originals: int = 1
    copies: int = 0
    missing_ok: bool = False  # 容缺: may be handed in later
    issuer: str = ""
    electronic: bool = False
    note: str = ""


@dataclass(frozen=True)
class Guide:
    conditions: str = ""
    process: str = ""
    materials: tuple[Material, ...] = ()
    # None: not stated in the hall file, and then not shown (domain/guide.py): never defaulted
    legal_limit_days: Optional[int] = None
    time_limit_days: Optional[int] = None  # promised; 0 = 即办 (settled on the spot)
    fee: Optional[str] = None
    place: str = ""
    phone: str = ""
    url: str = ""
    visits: Optional[int] = None  # 到现场次数: 0 = 零跑腿, 1 = 最多跑一次
    faq: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    department: str
    prefix: str
    name_en: str = ""
    item_code: str = ""  # GB/T 39046 implementation code (实施编码)
    basic_code: str = ""  # GB/T 39046 basic code (基本编码)
    item_type: str = ""
    daily_quota: int = 0  # 0 = no quota
    appointments: bool = True
    appointment_per_slot: int = 2
    pickup: bool = False  # the 出件 queue
    hours: Optional[Hours] = None  # None = the hall's hours
    guide: Guide = Guide()
    form: Optional[FormTemplate] = None  # 一表申请: its application form, None: none


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    text_en: str = ""
    adds: tuple[str, ...] = ()  # service codes that apply when answered yes


@dataclass(frozen=True)
class Theme:
    """一件事: several items, one ticket, served at a comprehensive window."""

    code: str
    name: str
    prefix: str
    lead_department: str
    items: tuple[str, ...]  # always included
    name_en: str = ""
    questions: tuple[Question, ...] = ()
    time_limit_days: Optional[int] = None  # None: not stated; 0 = 即办
    daily_quota: int = 0
    form_title: str = ""  # the merged form's title; "": the theme's name + 申请表


@dataclass(frozen=True)
class Window:
    number: int
    name: str
    kind: str = "specialist"
    services: tuple[str, ...] = ()  # ordered; empty with kind comprehensive = everything
    name_en: str = ""
    location: str = ""

    def serves_all(self) -> bool:
        return self.kind == "comprehensive" and not self.services


@dataclass(frozen=True)
class Rules:
    elder_age: int = 60
    routing: str = "fifo"
    fair_share: int = 3  # jumps in a row before the longest-waiting ordinary ticket goes
    no_show_grace_min: int = 30  # a skipped ticket may be reinstated this long
    hold_min: int = 15  # a held (挂起) ticket stays reserved at its window this long
    missing_days: int = 5  # 容缺受理: working days to bring a missing material
    reinstate_after: int = 2  # ... placed after this many waiting people
    wait_alert_min: int = 20
    idle_alert_min: int = 15
    pause_alert_min: int = 30
    estimate_samples: int = 20
    default_handling_min: int = 8
    appointment_slot_min: int = 30
    appointment_days: int = 7
    appointment_early_min: int = 30  # check-in allowed this early
    appointment_late_min: int = 15  # ... and this late
    retention_days: int = 180  # citizen keys and masked names are purged after this
    reply_retention_days: int = 7  # idempotency memory


@dataclass(frozen=True)
class RatingRules:
    """好差评: what a bad rating offers as reasons, and its follow-up deadlines (working days)."""

    reasons: tuple[str, ...] = ("态度", "效率", "材料反复要求", "等候太久", "环境", "其他")
    contact_days: int = 1
    rectify_days: int = 15
    phone_retention_days: int = 30


@dataclass(frozen=True)
class MobileRules:
    """The citizen's phone: numbers taken from the entrance QR page, and call-ahead SMS."""

    notice_ahead: int = 3  # the SMS goes when this many are ahead (and again at the call)
    tickets_per_phone: int = 2  # numbers one phone may take a day
    daily_max: int = 0  # numbers taken from phones a day, all phones together; 0: no cap
    entrance_url: str = ""  # the entrance page, with {token}; empty: no numbers from phones


@dataclass(frozen=True)
class Hall:
    id: str
    name: str
    timezone: str
    hours: Hours
    rules: Rules
    services: tuple[Service, ...]
    windows: tuple[Window, ...]
    themes: tuple[Theme, ...] = ()
    name_en: str = ""
    address: str = ""
    phone: str = ""
    status_url: str = ""  # with {ticket_id}
    notice: str = ""
    area_code: str = ""  # 行政区划代码 (GB/T 2260)
    rating: RatingRules = RatingRules()
    voice_languages: tuple[str, ...] = ("zh",)  # calls are announced in these, in order
    voice_pause: bool = True  # the displays announce a window pausing
    voice_no_show: bool = False  # the displays announce a ticket marked 过号
    mobile: MobileRules = MobileRules()
    uplink_keep_days: int = 30  # events the city never acknowledged are given up after this

    def service(self, code: str) -> Optional[Service]:
        return self._index().get(code)

    def theme(self, code: str) -> Optional[Theme]:
        return next((t for t in self.themes if t.code == code), None)

    def window(self, number: int) -> Optional[Window]:
        idx = self.__dict__.get("_win_index")
        if idx is None:  # a hall may have a hundred windows, looked up on every view
            idx = {w.number: w for w in self.windows}
            object.__setattr__(self, "_win_index", idx)
        return idx.get(number)

    def queue_codes(self) -> list[str]:
        """Every code a ticket can be issued for: services and themes."""
        return [s.code for s in self.services] + [t.code for t in self.themes]

    def window_serves(self, window: Window, code: str) -> bool:
        if window.serves_all():
            return True
        return code in window.services

    def window_order(self, window: Window) -> tuple[str, ...]:
        if not window.serves_all():
            return window.services
        every = self.__dict__.get("_every_code")
        if every is None:  # the same tuple for every comprehensive window: built once
            every = tuple(self.queue_codes())
            object.__setattr__(self, "_every_code", every)
        return every

    def _index(self) -> dict[str, Service]:
        idx = self.__dict__.get("_svc_index")
        if idx is None:
            idx = {s.code: s for s in self.services}
            object.__setattr__(self, "_svc_index", idx)
        return idx


@dataclass(slots=True)  # a big hall keeps thousands: ~0.4 KB each instead of ~1.5 KB
class Ticket:
    id: str
    day: date
    prefix: str
    seq: int
    number: str
    service: str  # service or theme code it waits for now
    channel: str
    issued_at: datetime
    order_at: datetime  # queue position; issue time unless reinstated
    status: TicketStatus = TicketStatus.WAITING
    priority: Optional[str] = None
    appointment_id: Optional[str] = None
    slot_start: Optional[datetime] = None
    citizen_key: Optional[str] = None
    citizen_masked: Optional[str] = None
    target_window: Optional[int] = None  # transferred to a given window
    window: Optional[int] = None  # where it is (or was last) at a window
    called_at: Optional[datetime] = None
    served_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    skipped_at: Optional[datetime] = None
    recalls: int = 0
    transfers: int = 0
    origin_service: Optional[str] = None
    answers: Optional[dict[str, Any]] = None  # 一件事 情形 answers
    printed: bool = True
    staff: Optional[str] = None  # who called it: the window's staff id...
    staff_name: Optional[str] = None  # ...and name then (the staff report)
    held_until: Optional[datetime] = None  # held: reserved at `window` until then
    holds: int = 0  # how often it was held
    declared: Optional[str] = None  # 绿色通道 the citizen declared at a kiosk
    supplement: Optional[str] = None  # 补件: the 容缺 case (its ticket id) it brings
    priority_check: Optional[str] = None  # declared -> confirmed / withdrawn (staff)
    # where citizen_key came from: card (a kiosk's reader), staff (the duty desk), typed (a
    # number typed on a phone: a claim, never proof; docs/phone.md)
    citizen_from: Optional[str] = None

    @property
    def jumps_queue(self) -> bool:
        return bool(self.target_window or self.priority or self.appointment_id)
