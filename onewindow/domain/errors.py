"""The controller's expected failures: a stable code for machines and a sentence for citizens."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the hall cannot grant; `message` is zh-CN text fit to show a citizen."""

    def __init__(self, code: str, message: str, message_en: str = "", **detail: Any):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.message_en = message_en or message
        self.detail = detail

    def as_error(self) -> dict[str, Any]:
        err: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }
        if self.detail:
            err["detail"] = self.detail
        return err


def bad_request(what_zh: str, what_en: str) -> DomainError:
    return DomainError("bad_request", f"请求格式不正确：{what_zh}", f"Malformed request: {what_en}")


def not_found(what_zh: str, what_en: str) -> DomainError:
    return DomainError("not_found", f"找不到{what_zh}", f"No such {what_en}")
