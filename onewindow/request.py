"""What an op is given: one request's context. Ops read the hall and change it only through it,
and what they announce comes back as the request's events; they never touch the controller.

    def op_recall(req: Request) -> dict:
        t = current(req, req.args.get("window", int))
        req.move(t, Action.RECALL, recalls=t.recalls + 1)
        req.emit("call", {...})
        return {"ticket": req.ticket_view(t)}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from .domain.errors import not_found
from .domain.lifecycle import Action
from .domain.model import Hall, Ticket, WindowState
from .domain.pagekey import ticket_of
from .envelope import Args
from .roles import Device

if TYPE_CHECKING:  # the controller hands itself in; ops never import it
    from .controller import Controller
    from .store import Store


@dataclass
class Outcome:
    reply: Optional[dict]  # None: nothing can be addressed
    events: list = field(default_factory=list)  # (kind, payload) for evt/<kind>


class Request:
    def __init__(self, ctl: "Controller", device: Device, args: Args):
        self._ctl = ctl
        self.device = device
        self.args = args
        self.events: list[tuple[str, dict]] = []

    # -- the hall as it is ----------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self._ctl.now()

    @property
    def hall(self) -> Hall:
        return self._ctl.hall

    @property
    def raw(self) -> dict:
        """The live configuration, as the hall file's TOML would hold it."""
        return self._ctl.raw

    @property
    def day(self):
        return self._ctl.day

    @property
    def secret(self) -> bytes:
        return self._ctl.secret

    @property
    def planner(self):
        """排班建议 worked out beside the controller (planner.py)."""
        return self._ctl.planner

    @property
    def phones(self):
        """The vault for follow-up phone numbers (phonevault.py), None without `cryptography`."""
        return self._ctl.phones

    @property
    def forms(self):
        """The vault for filled forms (phonevault.py), None without `cryptography`."""
        return self._ctl.forms

    @property
    def store(self) -> "Store":
        """Named reads and records (appointments, ratings, figures); tickets change by `move`."""
        return self._ctl.store

    @property
    def queues(self):
        return self._ctl.queues

    @property
    def alerts(self):
        return self._ctl.alerts

    @property
    def consoles(self):
        return self._ctl.consoles

    def window(self, number: int) -> WindowState:
        return self._ctl.windows[number]

    def ticket(self, ticket_id: str) -> Ticket:
        """A ticket by its id or its page key; the web pages (role web) only by the page key of
        the QR code they serve, since every device sees ticket ids."""
        from_key = ticket_of(ticket_id, self.secret)
        if from_key is not None:
            ticket_id = from_key
        elif self.device.role == "web":
            raise not_found("该号票", "ticket")
        t = self._ctl.queues.get(ticket_id) or self._ctl.store.ticket(ticket_id)
        if t is None:
            raise not_found("该号票", "ticket")
        return t

    def code_name(self, code: str) -> str:
        return self._ctl.code_name(code)

    def ticket_view(self, t: Ticket) -> dict:
        return self._ctl.views.ticket(t)

    def window_view(self, number: int) -> dict:
        return self._ctl.views.window(number)

    def queues_view(self) -> dict:
        return self._ctl.views.queues()

    def case_view(self, case: dict, today=None) -> dict:
        return self._ctl.views.case(case, today)

    # -- changing it ----------------------------------------------------------------------------

    def issue(self, **fields) -> Ticket:
        """A new ticket: numbered, saved, indexed, audited."""
        return self._ctl.issue(self.device, **fields)

    def move(
        self,
        t: Ticket,
        action: Action,
        detail: Optional[dict] = None,
        audit_window: Optional[int] = None,
        **changes,
    ) -> None:
        """The one way a ticket changes status (domain/lifecycle.py): checked, stamped, saved,
        re-indexed and audited (under `audit_window`, else the ticket's window)."""
        self._ctl.move(self.device, t, action, detail=detail, audit_window=audit_window, **changes)

    def update(self, t: Ticket, action: str, detail: Optional[dict] = None, **changes) -> None:
        """A change that leaves the status as it is (printed or not), saved and audited."""
        self._ctl.update(self.device, t, action, detail=detail, **changes)

    def set_window(self, number: int, action: Optional[str] = None, **changes) -> WindowState:
        """A window's status, staff, reason or fair-share streak; audited when `action` names it."""
        return self._ctl.set_window(self.device, number, action, **changes)

    def set_config(self, raw: dict, action: str, detail: dict) -> None:
        """A manager's change to the configuration: validated whole (DomainError bad_config)."""
        self._ctl.set_config(self.device, raw, action, detail)

    def record_handling(self, code: str, minutes: float) -> None:
        self._ctl.handling.add(code, minutes)

    def audit(
        self,
        action: str,
        ticket: Optional[Ticket] = None,
        window: Optional[int] = None,
        from_status=None,
        detail: Optional[dict] = None,
    ) -> None:
        self._ctl.audit(self.device, action, ticket, window, from_status, detail)

    def emit(self, kind: str, payload: dict) -> None:
        """Announce on `evt/<kind>` once committed; kept for the city in the same transaction."""
        self.events.append((kind, payload))
        self._ctl.record(kind, payload)
