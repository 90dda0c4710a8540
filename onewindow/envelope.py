"""Request envelopes of the hall bus (protocol v1): parse bytes, check argument types, build replies."""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Optional

from .domain.errors import DomainError, bad_request

PROTOCOL_VERSION = 1
MAX_PAYLOAD = 64 * 1024
ID_RE = re.compile(r"^[\x21-\x7e]{1,64}$")
# JSON's \uXXXX escapes can spell half a surrogate pair ("\ud800"): not a character, so no
# reply, event or database row could hold it. UTF-8 bytes cannot, so only escapes need a look.
_SURROGATE = re.compile("[\ud800-\udfff]")
_MISSING = object()


class EnvelopeError(Exception):
    """A request we cannot act on; `req_id` is set when a reply can still be addressed.
    `message` is English (for the log and `message_en`), `message_zh` its Chinese."""

    def __init__(self, req_id: Optional[str], message: str, message_zh: str):
        super().__init__(message)
        self.req_id = req_id
        self.message = message
        self.message_zh = message_zh


def parse_request(payload: bytes) -> tuple[str, str, dict]:
    """(id, op, args) or EnvelopeError; never anything else, whatever the bytes are."""
    if len(payload) > MAX_PAYLOAD:
        raise EnvelopeError(
            _sniff_id(payload[:4096]),
            f"payload over {MAX_PAYLOAD} bytes",
            f"请求超过 {MAX_PAYLOAD} 字节",
        )
    req = _decode(payload)
    if not isinstance(req, dict):
        raise EnvelopeError(None, "not a JSON object", "不是 JSON 对象")
    if b"\\u" in payload and not valid_text(req):
        raise EnvelopeError(
            _clean_id(req.get("id")),
            "text is not valid Unicode (a lone surrogate)",
            "文本不是有效的 Unicode（孤立的代理项）",
        )
    req_id = req.get("id")
    if not isinstance(req_id, str) or not ID_RE.match(req_id):
        raise EnvelopeError(
            None,
            "id must be a string of 1..64 printable ASCII characters",
            "id 应为 1 至 64 个可打印 ASCII 字符",
        )
    version = req.get("v")
    # exactly the integer 1: JSON true is an int to Python and equals 1
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise EnvelopeError(
            req_id,
            f"unsupported protocol version {json.dumps(version)}; this hall speaks v1",
            f"不支持的协议版本 {json.dumps(version)}，本大厅使用 v1",
        )
    op = req.get("op")
    if not isinstance(op, str) or not op:
        raise EnvelopeError(req_id, "op must be a non-empty string", "op 应为非空字符串")
    args = req.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise EnvelopeError(req_id, "args must be an object", "args 应为 JSON 对象")
    return req_id, op, args


def _decode(payload: bytes) -> Any:
    """The JSON value, or an EnvelopeError saying what is wrong with the bytes."""
    sniffed = _sniff_id(payload[:4096])
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise EnvelopeError(sniffed, "not UTF-8 text", "不是 UTF-8 文本") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise EnvelopeError(sniffed, "JSON nested too deeply", "JSON 嵌套层数过多") from None
    except json.JSONDecodeError as exc:
        raise EnvelopeError(
            sniffed,
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            f"不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列",
        ) from None
    except ValueError:
        # Python refuses to read an integer of more than 4,300 digits (int_max_str_digits)
        raise EnvelopeError(
            sniffed,
            f"a number too long (over {sys.get_int_max_str_digits()} digits)",
            f"数字过长（超过 {sys.get_int_max_str_digits()} 位）",
        ) from None


def valid_text(value) -> bool:
    """No string in it (keys included, at any depth) holds half a surrogate pair."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return False
        elif isinstance(v, dict):
            stack.extend(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return True


def _clean_id(req_id) -> Optional[str]:
    return req_id if isinstance(req_id, str) and ID_RE.match(req_id) else None


def _sniff_id(head: bytes) -> Optional[str]:
    """Best effort: find the id in a payload too big or too broken to parse, so we can answer."""
    m = re.search(rb'"id"\s*:\s*"([\x21\x23-\x5b\x5d-\x7e]{1,64})"', head)
    return m.group(1).decode("ascii") if m else None


def ok_reply(req_id: str, result: dict) -> dict:
    return {"v": PROTOCOL_VERSION, "id": req_id, "ok": True, "result": result}


def error_reply(req_id: str, code: str, message: str, message_en: str = "", detail=None) -> dict:
    err = {"code": code, "message": message}
    if message_en:
        err["message_en"] = message_en
    if detail:
        err["detail"] = detail
    return {"v": PROTOCOL_VERSION, "id": req_id, "ok": False, "error": err}


class Args:
    """Typed access to an op's args; a wrong type or a missing argument is a bad_request."""

    def __init__(self, args: dict):
        self.args = args

    def get(
        self,
        name: str,
        typ: type | tuple,
        default: Any = _MISSING,
        *,
        choices=None,
        minval=None,
        maxval=None,
        maxlen: int = 4096,
    ) -> Any:
        if name not in self.args or self.args[name] is None:
            if default is _MISSING:
                raise bad_request(f"缺少参数 {name}", f"argument {name} is missing")
            return default
        value = self.args[name]
        types = typ if isinstance(typ, tuple) else (typ,)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            zh = "或".join(_TYPE_WORDS.get(t, (t.__name__, t.__name__))[0] for t in types)
            en = " or ".join(_TYPE_WORDS.get(t, (t.__name__, t.__name__))[1] for t in types)
            raise bad_request(f"参数 {name} 应为{zh}", f"argument {name} must be {en}")
        if choices is not None and value not in choices:
            allowed = ", ".join(map(str, choices))
            raise bad_request(
                f"参数 {name} 取值不在 {allowed} 中", f"argument {name} must be one of {allowed}"
            )
        if minval is not None and value < minval or maxval is not None and value > maxval:
            bounds = f"{'' if minval is None else minval}..{'' if maxval is None else maxval}"
            raise bad_request(
                f"参数 {name} 超出范围（{bounds}）", f"argument {name} is out of range ({bounds})"
            )
        if isinstance(value, (str, list, dict)) and len(value) > maxlen:
            raise bad_request(
                f"参数 {name} 过长（最多 {maxlen}）",
                f"argument {name} is too long (at most {maxlen})",
            )
        return value

    def str_list(self, name: str, maxlen: int = 20) -> list[str]:
        value = self.get(name, list, [], maxlen=maxlen)
        if not all(isinstance(v, str) and len(v) <= 200 for v in value):
            raise bad_request(
                f"参数 {name} 应为字符串列表（每项最多 200 字）",
                f"argument {name} must be a list of strings (each at most 200 characters)",
            )
        return value


# how a wrong type is named to the caller: (Chinese, English)
_TYPE_WORDS: dict[type, tuple[str, str]] = {
    str: ("字符串", "a string"),
    int: ("整数", "an integer"),
    float: ("数字", "a number"),
    bool: ("true 或 false", "true or false"),
    list: ("列表", "a list"),
    dict: ("对象", "an object"),
}


def require(cond: bool, code: str, message: str, message_en: str = "", **detail) -> None:
    if not cond:
        raise DomainError(code, message, message_en, **detail)
