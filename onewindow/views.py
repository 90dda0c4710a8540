"""What devices see, computed from the controller's state: a ticket, a window, the queues, the
hall, the alerts. Plain dicts, returned in replies and published as retained state; the bus
publishes each when it differs from what it last sent (bus/service.py), so nothing here keeps
track of what changed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .domain import hours as hours_mod
from .domain.estimate import estimate_wait_min
from .domain.model import Ticket, WindowStatus
from .domain.pagekey import page_key
from .domain.routing import upcoming

if TYPE_CHECKING:
    from .controller import Controller

NEXT_SHOWN = 5      # upcoming tickets listed in a window's state (its caller shows them)


class Views:
    def __init__(self, ctl: "Controller"):
        self.ctl = ctl

    # -- one ticket ----------------------------------------------------------------------------

    def open_windows_for(self, code: str) -> int:
        hall, windows = self.ctl.hall, self.ctl.windows
        return sum(1 for w in hall.windows if hall.window_serves(w, code)
                   and windows[w.number].status is WindowStatus.OPEN)

    def estimate(self, code: str, ahead: int) -> int:
        hall = self.ctl.hall
        windows = self.open_windows_for(code) or sum(
            1 for w in hall.windows if hall.window_serves(w, code))
        return estimate_wait_min(ahead, self.ctl.handling.mean(code), windows)

    def ticket(self, t: Ticket) -> dict:
        ctl = self.ctl
        ahead = ctl.queues.ahead_of(t)
        w = ctl.hall.window(t.window) if t.window else None
        return {
            "id": t.id, "number": t.number, "service": t.service,
            "service_name": ctl.code_name(t.service), "issued_at": t.issued_at.isoformat(),
            "ahead": ahead, "est_wait_min": self.estimate(t.service, ahead),
            # the QR code's page key, not the bare id that events carry to every device
            "status_url": ctl.hall.status_url.replace("{ticket_id}", page_key(t.id, ctl.secret)),
            "status": t.status.value, "channel": t.channel, "priority": t.priority,
            "appointment": t.slot_start.isoformat() if t.slot_start else None,
            "citizen": t.citizen_masked, "window": t.window,
            "window_name": w.name if w else None,
            "called_at": t.called_at.isoformat() if t.called_at else None,
            "recalls": t.recalls, "transfers": t.transfers, "printed": t.printed,
            "test": ctl.test_mode,
        }

    # -- retained state ------------------------------------------------------------------------

    def queues(self) -> dict:
        hall = self.ctl.hall
        open_for: dict[str, int] = {}
        serving: dict[str, int] = {}
        for w in hall.windows:      # once for every code: a big hall has a hundred windows
            is_open = self.ctl.windows[w.number].status is WindowStatus.OPEN
            for code in hall.window_order(w):
                serving[code] = serving.get(code, 0) + 1
                open_for[code] = open_for.get(code, 0) + is_open
        out = {}
        for code in hall.queue_codes():
            waiting = self.ctl.queues.count(code)
            windows = open_for.get(code, 0) or serving.get(code, 0)
            out[code] = {"name": self.ctl.code_name(code), "waiting": waiting,
                         "est_wait_min": estimate_wait_min(waiting, self.ctl.handling.mean(code),
                                                           windows),
                         "open_windows": open_for.get(code, 0)}
        return out

    def window(self, number: int) -> dict:
        ctl = self.ctl
        w = ctl.hall.window(number)
        st = ctl.windows[number]
        cur = ctl.queues.at_window(number)
        codes = ctl.hall.window_order(w)
        services = None if w.serves_all() else w.services
        candidates = ctl.queues.candidates(number, codes, NEXT_SHOWN)
        return {
            "window": number, "name": w.name, "name_en": w.name_en, "kind": w.kind,
            "status": st.status.value, "serving": cur.number if cur else None,
            "ticket_id": cur.id if cur else None,
            "ticket_status": cur.status.value if cur else None,
            "services": list(codes), "all": w.serves_all(),
            "staff": st.staff, "reason": st.reason,
            "since": st.since.isoformat() if st.since else None,
            "waiting": ctl.queues.count_for(number, codes),
            # numbers and marks only: the caller's list of who comes next, no one's name
            "next": [{"number": t.number, "service": t.service, "reason": why}
                     for t, why in upcoming(number, services, candidates, ctl.now(),
                                            ctl.hall.rules.routing, NEXT_SHOWN)],
        }

    def window_deps(self, number: int) -> tuple[tuple, tuple]:
        """What a window's view is made of, cheaply: (its own, its queues'). While both are the
        same, the view is; when only the second moved, only `waiting` and `next` can differ.
        The minute is in the second because appointments join the order when their slot begins."""
        ctl = self.ctl
        st = ctl.windows[number]
        cur = ctl.queues.at_window(number)
        own = (ctl.config_version, st.status, repr(st.staff), st.reason, st.since,
               (cur.id, cur.status) if cur else None, ctl.queues.version.get(("at", number)))
        codes = ctl.hall.window_order(ctl.hall.window(number))
        queued = (ctl.queues.versions(codes), ctl.queues.version.get(("to", number), 0),
                  ctl.now().replace(second=0, microsecond=0))
        return own, queued

    def hall(self) -> dict:
        """The hall's state but its time stamp (the bus adds `updated_at` when it sends it)."""
        ctl = self.ctl
        now = ctl.now()
        opening = hours_mod.next_opening(ctl.hall.hours, now)
        zh, en = hours_mod.describe_opening(opening, now.date())
        return {
            "id": ctl.hall.id, "name": ctl.hall.name, "name_en": ctl.hall.name_en,
            "day": ctl.day.isoformat(), "open": hours_mod.is_open(ctl.hall.hours, now),
            "next_opening": opening.isoformat() if opening else None,
            "next_opening_text": zh, "next_opening_text_en": en,
            "notice": ctl.hall.notice, "test_mode": ctl.test_mode,
            "alerts_count": len(ctl.alerts.live),
            "config_version": ctl.config_version,
        }

    def alerts(self) -> dict:
        return {"alerts": self.ctl.alerts.listed()}
