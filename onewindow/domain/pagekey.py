"""The key of a ticket's QR pages: its id and a signature, so the id alone opens nothing.

A ticket's id travels to every device (`evt/call`, `evt/ticket`, window state), so it cannot
be what opens the ticket's status and rating pages. The page key printed in the QR code is the
id followed by a keyed signature of it; only the controller, which holds the key, makes or
checks one. Nothing is stored, so tickets issued before a restart keep their pages.

    >>> key = page_key("hVsIZjW8mAkL", b"secret")
    >>> len(key) - len("hVsIZjW8mAkL"), ticket_of(key, b"secret")
    (16, 'hVsIZjW8mAkL')
    >>> ticket_of("hVsIZjW8mAkL", b"secret") is None      # the bare id is not a key
    True
    >>> import re; bool(re.fullmatch(KEY_PATTERN, key)), bool(re.fullmatch(KEY_PATTERN, "hVsIZjW8mAkL"))
    (True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Optional

SIG_CHARS = 16  # 96 bits of signature, URL-safe base64, no padding
ID_MAX_CHARS = 48  # a ticket id: 12 characters (token_urlsafe(9)); the demo's history, longer
# what a page key can look like: whoever holds no key (the web pages) can refuse anything else
# without asking the controller, and so without spending the web device's request budget
KEY_PATTERN = rf"[A-Za-z0-9_-]{{{SIG_CHARS + 1},{SIG_CHARS + ID_MAX_CHARS}}}"


def _sig(ticket_id: str, secret: bytes) -> bytes:
    mac = hmac.new(secret, b"page:" + ticket_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[: SIG_CHARS * 3 // 4])


def page_key(ticket_id: str, secret: bytes) -> str:
    return ticket_id + _sig(ticket_id, secret).decode("ascii")


def ticket_of(key: str, secret: bytes) -> Optional[str]:
    """The ticket id a page key stands for, or None for anything that is not a key."""
    if len(key) <= SIG_CHARS:
        return None
    ticket_id, sig = key[:-SIG_CHARS], key[-SIG_CHARS:]
    if not hmac.compare_digest(sig.encode("utf-8"), _sig(ticket_id, secret)):
        return None
    return ticket_id
