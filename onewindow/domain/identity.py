"""Citizen identity without keeping it: ID number checks, masking for screens and tickets, keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII only: \d would take full-width digits


def id_check_digit(first17: str) -> str:
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("need the first 17 digits of an ID number")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def valid_id_number(id_number: str) -> bool:
    """True for an 18-character resident ID number whose check digit and birth date are right."""
    s = id_number.strip().upper()
    if not _ID_RE.match(s):
        return False
    if id_check_digit(s[:17]) != s[17]:
        return False
    try:
        birth_date_from_id(s)
    except ValueError:
        return False
    return True


def birth_date_from_id(id_number: str) -> date:
    s = id_number.strip()
    return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mask_name(name: str) -> str:
    """张三 -> 张*, 张小三 -> 张*三, 欧阳小明 -> 欧**明; a Latin name keeps its first letter."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(id_number: str) -> str:
    """First 6 and last 4 kept: 620102********1234."""
    s = (id_number or "").strip()
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_mobile(mobile: str) -> str:
    s = (mobile or "").strip()
    if len(s) < 7:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def citizen_key(id_number: str, secret: bytes) -> str:
    """A keyed hash that finds one citizen's tickets without storing the number itself."""
    return hmac.new(secret, id_number.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()
