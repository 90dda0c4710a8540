"""Every op of the hall bus and the roles that may call it: the one table to read for permissions."""

from __future__ import annotations

from . import ops_appointments as appt
from . import ops_cases as cases
from . import ops_config as cfg
from . import ops_followup as follow
from . import ops_forms as forms
from . import ops_mobile as mobile
from . import ops_plan as plan
from . import ops_platform as platform
from . import ops_rating as rating
from . import ops_reports as reports
from . import ops_tickets as tickets
from . import ops_windows as win
from .roles import ROLES

ANY = ROLES
WINDOW = ("caller", "manager")  # a caller only for its own windows (checked in the op)

OPS = {
    "ticket.issue": (tickets.op_issue, ("kiosk", "caller", "web", "manager")),
    "ticket.cancel": (tickets.op_cancel, ("kiosk", "caller", "web", "manager")),
    "ticket.reinstate": (tickets.op_reinstate, ("kiosk", "caller", "manager")),
    "ticket.printed": (tickets.op_printed, ("kiosk", "manager")),
    "ticket.priority": (tickets.op_priority, ("caller", "manager")),
    "queue.status": (tickets.op_queue_status, ANY),
    "window.call_next": (win.op_call_next, WINDOW),
    "window.recall": (win.op_recall, WINDOW),
    "window.start": (win.op_start, WINDOW),
    "window.skip": (win.op_skip, WINDOW),
    "window.transfer": (win.op_transfer, WINDOW),
    "window.finish": (win.op_finish, WINDOW),
    "window.hold": (win.op_hold, WINDOW),
    "window.resume_held": (win.op_resume_held, WINDOW),
    "window.open": (win.op_open, WINDOW),
    "window.close": (win.op_close, WINDOW),
    "window.pause": (win.op_pause, WINDOW),
    "window.resume": (win.op_resume, WINDOW),
    "rating.submit": (rating.op_submit, ("rating", "kiosk", "web")),
    "rating.prompt": (rating.op_prompt, ("rating",)),
    "appointment.slots": (appt.op_slots, ANY),
    "appointment.book": (appt.op_book, ("kiosk", "web", "manager")),
    "appointment.cancel": (appt.op_cancel, ("kiosk", "web", "manager")),
    "appointment.find": (appt.op_find, ("kiosk", "web", "manager")),
    "appointment.platform": (platform.op_platform, ("platform", "manager")),
    "config.get": (cfg.op_get, ANY),
    "config.window": (cfg.op_window, ("manager",)),
    "config.service": (cfg.op_service, ("manager",)),
    "config.service_add": (cfg.op_service_add, ("manager",)),
    "config.service_retire": (cfg.op_service_retire, ("manager",)),
    "config.hours": (cfg.op_hours, ("manager",)),
    "config.day": (cfg.op_day, ("manager",)),
    "config.lunch": (cfg.op_lunch, ("manager",)),
    "config.rules": (cfg.op_rules, ("manager",)),
    "config.pin": (cfg.op_pin, ("manager",)),
    "config.notice": (cfg.op_notice, ("manager",)),
    "config.export": (cfg.op_export, ("manager",)),
    "help.request": (cfg.op_help, ("kiosk",)),
    "alert.clear": (cfg.op_clear_alert, ("manager",)),
    "device.health": (cfg.op_health, ANY),
    "device.clock": (cfg.op_clock, ANY),
    "manager.login": (cfg.op_login, ("manager",)),
    "manager.logout": (cfg.op_logout, ("manager",)),
    "report.kpis": (reports.op_kpis, ("caller", "manager")),
    "report.audit": (reports.op_audit, ("manager",)),
    "report.waiting": (reports.op_waiting, ("manager",)),
    "report.sheet": (reports.op_sheet, ("manager", "web")),
    "report.ratings": (follow.op_ratings, ("manager",)),
    "report.plan": (plan.op_plan, ("manager",)),
    "rating.follow": (follow.op_follow, ("manager",)),
    "rating.note": (follow.op_note, ("manager",)),
    "rating.case": (follow.op_case, ("manager",)),
    "rating.phone": (follow.op_phone, ("manager",)),
    "ticket.find": (reports.op_find, ("manager",)),
    "case.list": (cases.op_list, ("manager",)),
    "case.find": (cases.op_find, ("kiosk", "caller", "manager")),
    "case.checkin": (cases.op_checkin, ("kiosk", "caller", "manager")),
    "entrance.url": (mobile.op_entrance, ("manager", "display")),
    "entrance.check": (mobile.op_entrance_check, ("web",)),
    "notice.subscribe": (mobile.op_subscribe, ("web",)),
    "notice.cancel": (mobile.op_unsubscribe, ("web",)),
    "notice.pending": (mobile.op_pending, ("notifier",)),
    "notice.sent": (mobile.op_sent, ("notifier",)),
    "form.template": (forms.op_template, ("kiosk", "caller", "manager")),
    "form.get": (forms.op_get, ("caller", "manager", "kiosk")),
}

# Ops that change nothing: no idempotency record is kept for them (a retry simply reads again),
# so a device asking over and over cannot grow the database. Any op not listed here is kept.
# what a manager console may do before its PIN is checked: log in, and what every device may
# read or report; everything else of the manager role needs a session (manager.login)
BEFORE_LOGIN = frozenset(
    {
        "manager.login",
        "manager.logout",
        "config.get",
        "queue.status",
        "device.clock",
        "device.health",
        "appointment.slots",
    }
)
READS = frozenset(
    {
        "queue.status",
        "appointment.slots",
        "appointment.find",
        "config.get",
        "config.export",
        "report.kpis",
        "report.sheet",
        "report.audit",
        "report.waiting",
        "report.ratings",
        "report.plan",
        "ticket.find",
        "rating.case",
        "case.list",
        "case.find",
        "form.template",
        # a number shown in clear is never kept as a stored reply
        "rating.phone",
        "notice.pending",
        "entrance.url",
        "entrance.check",
        "form.get",
    }
)
