"""The follow-up of a bad rating (差评整改) as one table, as GB/T 39046 names its statuses.

    open --contact--> rectifying --rectify--> done
    open/rectifying --invalid--> invalid           (a malicious or mistaken rating, with why)
    rectifying --cannot--> cannot_rectify          (with why: e.g. the law does not allow it)

Every step carries a note (what was said, what was done, the evidence); the three final
statuses close the case, and the citizen's phone number goes with it.
"""

from __future__ import annotations

from .errors import DomainError

OPEN, RECTIFYING, DONE, INVALID, CANNOT = "open", "rectifying", "done", "invalid", "cannot_rectify"
STATUSES = (OPEN, RECTIFYING, DONE, INVALID, CANNOT)
FINAL = (DONE, INVALID, CANNOT)
NAMES = {
    OPEN: ("待处理", "open"),
    RECTIFYING: ("整改中", "in rectification"),
    DONE: ("已整改", "done"),
    INVALID: ("无效评价", "invalid"),
    CANNOT: ("无法整改", "cannot rectify"),
}

# action -> (from statuses, to status)
STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "contact": ((OPEN,), RECTIFYING),
    "rectify": ((RECTIFYING,), DONE),
    "invalid": ((OPEN, RECTIFYING), INVALID),
    "cannot": ((RECTIFYING,), CANNOT),
}
NOTE_MAX = 1000  # characters of one note


def step(status: str, action: str) -> str:
    """The status `action` moves a case in `status` to; DomainError bad_state when it may not."""
    if action not in STEPS:
        raise DomainError(
            "bad_request",
            f"不支持的整改操作 {action[:32]}",
            f"Unknown follow-up action {action[:32]}",
        )
    sources, target = STEPS[action]
    if status not in sources:
        zh, en = NAMES.get(status, (status, status))
        raise DomainError(
            "bad_state",
            f"该差评{zh}，不能执行此操作",
            f"The case is {en}: it cannot be moved by {action}",
        )
    return target


def overdue(status: str, contact_by: str | None, rectify_by: str | None, today: str) -> str | None:
    """Which deadline (ISO dates, each the last day allowed) has passed: contact, rectify, None."""
    if status == OPEN and contact_by and contact_by < today:
        return "contact"
    if status in (OPEN, RECTIFYING) and rectify_by and rectify_by < today:
        return "rectify"
    return None
