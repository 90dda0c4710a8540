"""The entrance QR code's token: the hall's key and the day, so a number can be taken from a
phone only with today's code, seen in the hall.

A link copied out of the hall works until midnight and no longer; yesterday's code and a
made-up one are refused. Nothing is stored: the controller, which holds the key, makes and
checks it.

    >>> t = entrance_token(date(2026, 11, 23), b"secret")
    >>> len(t), entrance_ok(t, date(2026, 11, 23), b"secret"), entrance_ok(t, date(2026, 11, 24), b"secret")
    (16, True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date

TOKEN_CHARS = 16  # 96 bits, URL-safe base64


def entrance_token(day: date, secret: bytes) -> str:
    mac = hmac.new(secret, b"entrance:" + day.isoformat().encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[: TOKEN_CHARS * 3 // 4]).decode("ascii")


def entrance_ok(token: str, day: date, secret: bytes) -> bool:
    return hmac.compare_digest(token.encode("utf-8"), entrance_token(day, secret).encode("ascii"))


def phone_key(phone_id: str, secret: bytes) -> str:
    """The key a phone's browser is counted by (its cookie's random id never stored)."""
    return hmac.new(secret, b"phone:" + phone_id.encode("utf-8"), hashlib.sha256).hexdigest()
