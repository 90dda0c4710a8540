"""What devices see, computed from the controller's state: a ticket, a window, the queues, the
hall, the alerts. Plain dicts, returned in replies and published as retained state; the bus
publishes each when it differs from what it last sent (bus/service.py), so nothing here keeps
track of what changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .domain import estimate as est
from .domain import hours as hours_mod
from .domain.model import Ticket, TicketStatus, WindowStatus
from .domain.pagekey import page_key
from .domain.routing import upcoming
from .hallconfig import queue_tables, window_table
from .i18n import hall_languages

if TYPE_CHECKING:
    from .controller import Controller

NEXT_SHOWN = 5  # upcoming tickets listed in a window's state (its caller shows them)


class Views:
    def __init__(self, ctl: "Controller"):
        self.ctl = ctl
        self._queues_memo: tuple = (None, None)  # (what they depend on, the queues view)

    # -- one ticket ----------------------------------------------------------------------------

    def servers(self) -> list[est.Server]:
        """Every window as the estimate sees it (services as routing takes them)."""
        ctl = self.ctl
        return [
            est.Server(
                w.number,
                None if w.serves_all() else tuple(w.services),
                ctl.windows[w.number].status is WindowStatus.OPEN,
                ctl.queues.at_window(w.number) is not None,
                ctl.windows[w.number].streak,
            )
            for w in ctl.hall.windows
        ]

    def estimate(self, t: Ticket, servers: list | None = None) -> est.Estimate:
        """The one estimate (domain/estimate.py) over what the windows able to serve `t` could
        call; when none of them is open, calling starts at the next opening of its hours."""
        ctl = self.ctl
        servers = servers if servers is not None else self.servers()
        hall = ctl.hall
        numbers, codes, merged = [], {}, set()
        for s in est.serving(t, servers):
            numbers.append(s.number)
            # windows serving the same queues share them: each queue is read once, not once
            # per window (a big hall has a hundred comprehensive windows, one order tuple)
            order = hall.window_order(hall.window(s.number))
            if id(order) not in merged:
                merged.add(id(order))
                codes.update(dict.fromkeys(order))
        now = ctl.now()
        item = hall.service(t.service)
        hours = item.hours if item is not None and item.hours is not None else hall.hours
        # within the hours, windows may open any moment: no time to promise
        opening = None if hours_mod.is_open(hours, now) else hours_mod.next_opening(hours, now)
        closes = hours_mod.last_closing(hours, now)
        return replace(self._estimate(t, servers, numbers, codes, now, opening), closes_at=closes)

    def _estimate(self, t, servers, numbers, codes, now, opening) -> est.Estimate:
        ctl, hall = self.ctl, self.ctl.hall
        if est.last_in_line(t, hall.rules.routing) and ctl.queues.last_in(t, codes):
            # the same figure from counts: every ticket issued and every queue's newcomer
            counts = ctl.queues.counts()
            if t.id in ctl.queues.by_id and t.status is TicketStatus.WAITING:
                counts[t.service] = counts.get(t.service, 0) - 1
            for code in hall.queue_codes():
                counts.setdefault(code, 0)
            held = [(h.service, h.window) for h in ctl.queues.held()]
            return est.estimate_from_counts(
                t, servers, counts, ctl.queues.sent(), ctl.handling.mean, opening, held
            )
        waiting = ctl.queues.for_windows(numbers, codes)
        return est.estimate(
            t,
            servers,
            waiting,
            now,
            ctl.handling.mean,
            hall.rules.routing,
            hall.rules.fair_share,
            opening,
        )

    def wait_fields(self, e: est.Estimate) -> dict:
        """The estimate as devices get it (docs/protocol.md: ticket, queues)."""
        now = self.ctl.now()
        zh, en = est.describe(e, now)
        return {
            "ahead": e.ahead,
            "est_wait_min": e.wait_min,
            "open_windows": e.open_windows,
            "opens_at": e.opens_at.isoformat() if e.opens_at else None,
            # the facts the sentences are made of, for devices to word in any language
            "wait_kind": est.kind(e, now),
            "opens_in_days": (e.opens_at.date() - now.date()).days if e.opens_at else None,
            "wait_text": zh,
            "wait_text_en": en,
        }

    def ticket(self, t: Ticket) -> dict:
        ctl = self.ctl
        w = ctl.hall.window(t.window) if t.window else None
        if t.status is TicketStatus.WAITING:
            wait = self.wait_fields(self.estimate(t))
        else:  # called, served, held or gone: nobody is ahead, and no wait to tell
            wait = {
                "ahead": 0,
                "est_wait_min": 0,
                "open_windows": None,
                "opens_at": None,
                "wait_text": "",
                "wait_text_en": "",
            }
        return {
            "id": t.id,
            "number": t.number,
            "service": t.service,
            "service_name": ctl.code_name(t.service),
            "issued_at": t.issued_at.isoformat(),
            **wait,
            # the QR code's page key, not the bare id that events carry to every device
            "status_url": ctl.hall.status_url.replace("{ticket_id}", page_key(t.id, ctl.secret)),
            "status": t.status.value,
            "channel": t.channel,
            "priority": t.priority,
            "appointment": t.slot_start.isoformat() if t.slot_start else None,
            "citizen": t.citizen_masked,
            "window": t.window,
            "window_name": w.name if w else None,
            "called_at": t.called_at.isoformat() if t.called_at else None,
            "recalls": t.recalls,
            "transfers": t.transfers,
            "printed": t.printed,
            "held_until": t.held_until.isoformat() if t.held_until else None,
            # 绿色通道: what the citizen declared, and whether staff confirmed or withdrew it
            "declared": t.declared,
            "priority_check": t.priority_check,
            "supplement": t.supplement is not None,  # 补件 for a 容缺 case
            "test": ctl.test_mode,
        }

    def case(self, case: dict, today=None) -> dict:
        """A 容缺受理 case as devices get it (docs/protocol.md: case): the citizen masked, never
        their key; `page_url` the accepted ticket's QR page, where the case is shown."""
        ctl = self.ctl
        today = today or ctl.now().date()
        w = ctl.hall.window(case["window"])
        return {
            "id": case["id"],
            "number": case["number"],
            "service": case["service"],
            "service_name": ctl.code_name(case["service"]),
            "window": case["window"],
            "window_name": w.name if w else None,
            "citizen": case["citizen_masked"],
            "materials": case["materials"],
            "accepted_at": case["accepted_at"],
            "due": case["due"],
            "status": case["status"],
            "overdue": case["status"] == "open" and case["due"] < today.isoformat(),
            "returned_at": case["returned_at"],
            "page_url": ctl.hall.status_url.replace(
                "{ticket_id}", page_key(case["id"], ctl.secret)
            ),
        }

    # -- retained state ------------------------------------------------------------------------

    def queues_key(self) -> tuple:
        """What the queues' view depends on, cheaply: a newcomer's estimate only changes with the
        queues' sizes, the windows, the handling times and the minute (hours, 明天)."""
        ctl = self.ctl
        now = ctl.now()
        return (
            id(ctl.hall),
            ctl.queues.shape(),
            tuple(self.servers()),
            now.replace(second=0, microsecond=0),
            ctl.day,
            tuple(ctl.handling.mean(c) for c in ctl.hall.queue_codes()),
        )

    def queues(self) -> dict:
        """Per queue: how many wait for it, and the estimate for someone taking a number now
        (who may have more ahead than `waiting`: a comprehensive window calls across queues)."""
        ctl = self.ctl
        key = self.queues_key()
        if self._queues_memo[0] == key:
            return self._queues_memo[1]
        servers = list(key[2])
        now = ctl.now()
        codes = ctl.hall.queue_codes()
        tables = queue_tables(ctl.raw)
        out = {}
        for code in codes:
            e = self.estimate(est.newcomer(code, now, ctl.day), servers)
            table = tables.get(code) or {}
            out[code] = {
                "name": ctl.code_name(code),
                # the hall screen shows them under the Chinese ("" where the file gives none)
                "name_en": table.get("name_en") or "",
                "name_bo": table.get("name_bo") or "",
                "waiting": ctl.queues.count(code),
                **self.wait_fields(e),
            }
        self._queues_memo = (key, out)
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
            "window": number,
            "name": w.name,
            "name_en": w.name_en,
            "name_bo": window_table(ctl.raw, number).get("name_bo", ""),
            "kind": w.kind,
            "status": st.status.value,
            "serving": cur.number if cur else None,
            "ticket_id": cur.id if cur else None,
            "ticket_status": cur.status.value if cur else None,
            "services": list(codes),
            "all": w.serves_all(),
            "staff": st.staff,
            "reason": st.reason,
            "since": st.since.isoformat() if st.since else None,
            "waiting": ctl.queues.count_for(number, codes),
            # 挂起: reserved here until `until`, then back to their queue (numbers only)
            "held": [
                {
                    "number": h.number,
                    "ticket_id": h.id,
                    "service": h.service,
                    "until": h.held_until.isoformat() if h.held_until else None,
                }
                for h in ctl.queues.held(number)
            ],
            # numbers and marks only: the caller's list of who comes next, no one's name
            "next": [
                {"number": t.number, "service": t.service, "reason": why}
                for t, why in upcoming(
                    number, services, candidates, ctl.now(), ctl.hall.rules.routing, NEXT_SHOWN
                )
            ],
        }

    def window_deps(self, number: int) -> tuple[tuple, tuple]:
        """What a window's view is made of, cheaply: (its own, its queues'). While both are the
        same, the view is; when only the second moved, only `waiting` and `next` can differ.
        The minute is in the second because appointments join the order when their slot begins."""
        ctl = self.ctl
        st = ctl.windows[number]
        cur = ctl.queues.at_window(number)
        own = (
            ctl.config_version,
            st.status,
            repr(st.staff),
            st.reason,
            st.since,
            (cur.id, cur.status) if cur else None,
            ctl.queues.version.get(("at", number)),
        )
        codes = ctl.hall.window_order(ctl.hall.window(number))
        queued = (
            ctl.queues.versions(codes),
            ctl.queues.version.get(("to", number), 0),
            ctl.now().replace(second=0, microsecond=0),
        )
        return own, queued

    def hall(self) -> dict:
        """The hall's state but its time stamp (the bus adds `updated_at` when it sends it)."""
        ctl = self.ctl
        now = ctl.now()
        is_open = hours_mod.is_open(ctl.hall.hours, now)
        opening = hours_mod.next_opening(ctl.hall.hours, now)
        # open with no opening ahead (around the clock): no fact to tell, so no sentence either;
        # "另行通知" is for a closed hall that does not know when it opens
        zh, en = (
            ("", "")
            if is_open and opening is None
            else hours_mod.describe_opening(opening, now.date())
        )
        raw_hall = ctl.raw.get("hall") or {}
        return {
            "id": ctl.hall.id,
            "name": ctl.hall.name,
            "name_en": ctl.hall.name_en,
            # the citizens' languages and the hall's texts in them ([hall] languages)
            "languages": hall_languages(raw_hall),
            "name_bo": raw_hall.get("name_bo", ""),
            "notice_en": raw_hall.get("notice_en", ""),
            "notice_bo": raw_hall.get("notice_bo", ""),
            "day": ctl.day.isoformat(),
            "open": is_open,
            "next_opening": opening.isoformat() if opening else None,
            "next_opening_text": zh,
            "next_opening_text_en": en,
            # its distance from today, for devices to word 今天/明天 in any language
            "next_opening_in_days": (opening.date() - now.date()).days if opening else None,
            "notice": ctl.hall.notice,
            "test_mode": ctl.test_mode,
            "alerts_count": len(ctl.alerts.live),
            "config_version": ctl.config_version,
        }

    def alerts(self) -> dict:
        return {"alerts": self.ctl.alerts.listed()}
