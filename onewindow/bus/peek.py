"""A request's id and op read without handling it: to address a refusal, and to spend a budget
per op (guard.py)."""

from __future__ import annotations

import re
from typing import Optional

from ..envelope import EnvelopeError, parse_request

# the id where every OneWindow device (and most JSON encoders) puts it: first, or after "v": 1
_LEADING_ID = re.compile(
    rb'\A\s*\{\s*(?:"v"\s*:\s*1\s*,\s*)?"id"\s*:\s*'
    rb'"([\x21\x23-\x5b\x5d-\x7e]{1,64})"\s*[,}]'
)


def peek_op(payload: bytes) -> Optional[str]:
    """The request's op, for a role with a budget per op: parsed in full (a hostile device may
    write its envelope in any order); None for what the controller will refuse anyway."""
    try:
        return parse_request(payload)[1]
    except EnvelopeError:
        return None


def peek_id(payload: bytes) -> Optional[str]:
    """The request id, to address a refusal: read off the front when it is there (a flood is
    refused without parsing each request), else from the parsed envelope."""
    m = _LEADING_ID.match(payload)
    if m:
        return m.group(1).decode("ascii")
    try:
        return parse_request(payload)[0]
    except EnvelopeError as exc:
        return exc.req_id
