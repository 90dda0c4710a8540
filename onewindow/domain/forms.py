"""一表申请: the application form of a service, and the one merged form of a 一件事 theme built
from the items its answers select; the check of a filled form. No I/O.

Every form opens with the applicant's basic data as the ID card gives it (`CARD_FIELDS`) and
the contact phone (`CONTACT_FIELDS`); the hall file adds each service's own fields
(`[[services.form.fields]]`). The merge rule (docs/forms.md):

1. the card fields, then the phone: once, at the top, whatever the items;
2. then each selected item's own fields, in the theme's item order (its `items`, then the
   services its yes answers add, in question order);
3. a field key already on the form is not repeated: the first item's label stays, and the
   field lists every item that asks for it (`items`); `config check` refuses the same key
   with another type or other choices in two services, so a merged field means one thing.

    >>> from onewindow.domain.model import Service
    >>> a = Service("A", "户籍", "公安", "A", form=FormTemplate("户籍申请表", (
    ...     FormField("baby_name", "新生儿姓名", "text"),)))
    >>> e = Service("E", "医保", "医保", "E", form=FormTemplate("医保申请表", (
    ...     FormField("baby_name", "婴儿姓名", "text"), FormField("bank", "银行卡号", "digits"))))
    >>> [(f.key, f.label, f.items) for f in merge_services("一件事", (a, e)).fields[7:]]
    [('baby_name', '新生儿姓名', ('A', 'E')), ('bank', '银行卡号', ('E',))]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

if TYPE_CHECKING:
    from .model import Hall, Service, Theme

FIELD_TYPES = ("text", "digits", "phone", "date", "choice")
SOURCES = ("card", "contact", "item")
MAX_VALUE = 100  # characters of one value
MOBILE = re.compile(r"1[3-9][0-9]{9}")  # a mainland mobile number (as phonevault.MOBILE)
DIGITS = re.compile(r"[0-9A-Z]{1,40}")  # 编号: ASCII digits, a capital check letter allowed
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    type: str  # one of FIELD_TYPES
    label_en: str = ""
    required: bool = False
    options: tuple[str, ...] = ()  # type choice
    source: str = "item"  # card | contact | item
    items: tuple[str, ...] = ()  # the service codes that ask for it (merged forms)

    @property
    def personal(self) -> bool:
        """Masked on screens unless staff reveal it (and audited when they do)."""
        return self.key == "id_number"


@dataclass(frozen=True)
class FormTemplate:
    """A service's form in the hall file: its title and its own fields (the card and contact
    fields are every form's and are not written in the file)."""

    title: str
    fields: tuple[FormField, ...] = ()


@dataclass(frozen=True)
class MergedForm:
    title: str
    items: tuple[str, ...]  # the service codes applied for (with a form of their own or not)
    fields: tuple[FormField, ...] = field(default=())

    def field(self, key: str) -> Optional[FormField]:
        return next((f for f in self.fields if f.key == key), None)


CARD_FIELDS = (
    FormField("name", "姓名", "text", "Name", True, source="card"),
    FormField("sex", "性别", "text", "Sex", source="card"),
    FormField("nation", "民族", "text", "Ethnic group", source="card"),
    FormField("birth", "出生日期", "date", "Date of birth", source="card"),
    FormField("address", "住址", "text", "Address", source="card"),
    FormField("id_number", "公民身份号码", "text", "ID number", True, source="card"),
)
CONTACT_FIELDS = (FormField("phone", "联系电话", "phone", "Phone", True, source="contact"),)
RESERVED = frozenset(f.key for f in CARD_FIELDS + CONTACT_FIELDS)


def selected_items(theme: "Theme", answers: Mapping[str, Any]) -> tuple[str, ...]:
    """The theme's items, then those its yes answers add, each once, in that order."""
    out = list(theme.items)
    for q in theme.questions:
        if answers.get(q.id) is True:
            out += [c for c in q.adds if c not in out]
    return tuple(out)


def merge_services(title: str, services: Sequence["Service"]) -> MergedForm:
    """The merge rule above, over services in order (those without a form add nothing)."""
    fields: list[FormField] = list(CARD_FIELDS + CONTACT_FIELDS)
    where: dict[str, int] = {}
    for s in services:
        if s.form is None:
            continue
        for f in s.form.fields:
            if f.key in where:
                i = where[f.key]
                fields[i] = replace(
                    fields[i],
                    items=fields[i].items + (s.code,),
                    required=fields[i].required or f.required,
                )
                continue
            where[f.key] = len(fields)
            fields.append(replace(f, items=(s.code,)))
    return MergedForm(
        title=title,
        items=tuple(s.code for s in services),
        fields=tuple(fields),
    )


def form_for(hall: "Hall", code: str, answers: Mapping[str, Any]) -> Optional[MergedForm]:
    """The form a ticket for `code` (a service, or a theme with these answers) is applied on;
    None when neither the service nor any selected item has a form in the hall file."""
    service = hall.service(code)
    if service is not None:
        if service.form is None:
            return None
        return merge_services(service.form.title, (service,))
    theme = hall.theme(code)
    if theme is None:
        return None
    services = [s for s in (hall.service(c) for c in selected_items(theme, answers)) if s]
    if not any(s.form for s in services):
        return None
    return merge_services(theme.form_title or f"{theme.name}申请表", services)


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    message_en: str


def check_value(f: FormField, value: str) -> Optional[Problem]:
    """Whether one given value fits its field (an empty one is left to `check`)."""
    if len(value) > MAX_VALUE:
        return Problem(f.key, f"{f.label}太长", f"{f.label_en or f.key} is too long")
    if f.type == "phone" and not MOBILE.fullmatch(value):
        return Problem(
            f.key, f"{f.label}应为11位手机号码", f"{f.label_en or f.key}: 11-digit mobile number"
        )
    if f.type == "digits" and not DIGITS.fullmatch(value):
        return Problem(f.key, f"{f.label}只能是数字", f"{f.label_en or f.key}: digits only")
    if f.type == "date":
        try:
            if not ISO_DATE.fullmatch(value):
                raise ValueError(value)
            date.fromisoformat(value)
        except ValueError:
            return Problem(
                f.key, f"{f.label}不是有效日期", f"{f.label_en or f.key} is not a valid date"
            )
    if f.type == "choice" and value not in f.options:
        return Problem(
            f.key,
            f"{f.label}请从{'、'.join(f.options)}中选择",
            f"{f.label_en or f.key}: pick one of {', '.join(f.options)}",
        )
    if f.type == "text" and any(ord(c) < 32 for c in value):
        return Problem(f.key, f"{f.label}含有控制字符", f"{f.label_en or f.key}: control chars")
    return None


def check(form: MergedForm, values: Mapping[str, Any]) -> tuple[dict[str, str], list[Problem]]:
    """The values kept (strings, stripped, only the form's keys) and what is wrong.

    A required field may be left empty only when it is a text field, which the kiosk cannot
    type (no Chinese keyboard): it stays blank on the printed form for the citizen's hand."""
    kept: dict[str, str] = {}
    problems: list[Problem] = []
    for f in form.fields:
        raw = values.get(f.key)
        if raw is None or raw == "":
            if f.required and f.type != "text":
                problems.append(
                    Problem(f.key, f"请填写{f.label}", f"{f.label_en or f.key} is required")
                )
            continue
        if not isinstance(raw, str):
            problems.append(Problem(f.key, f"{f.label}格式不正确", f"{f.key}: not text"))
            continue
        value = raw.strip()
        problem = check_value(f, value)
        if problem:
            problems.append(problem)
        elif value:
            kept[f.key] = value
    return kept, problems


def conflicts(services: Sequence["Service"]) -> list[tuple[int, int, str, tuple[str, str]]]:
    """What `config check` refuses: a reserved key in a service's fields, a key twice in one
    form, a key with another type or other choices in two services, a choice without options.
    Each as (the service's index, the field's index, its key, ("中文", "English"))."""
    out: list[tuple[int, int, str, tuple[str, str]]] = []
    first: dict[str, tuple[str, FormField]] = {}
    for i, s in enumerate(services):
        if s.form is None:
            continue
        seen: set[str] = set()
        for j, f in enumerate(s.form.fields):
            said: list[tuple[str, str]] = []  # this field's problems
            if f.key in RESERVED:
                said.append(
                    (
                        f"“{f.key}”取自身份证或联系方式，请删去这一项",
                        f"{f.key!r} comes from the ID card or contact; leave it out",
                    )
                )
            if f.key in seen:
                said.append(("这个 key 在本表单中用了两次", "the key is used twice in this form"))
            seen.add(f.key)
            if f.type == "choice" and not f.options:
                said.append(("选择题（choice）须给出选项（options）", "a choice needs its options"))
            if f.type != "choice" and f.options:
                said.append(
                    ("只有选择题（choice）才有选项（options）", "options are only for type choice")
                )
            other = first.get(f.key)
            if other and (other[1].type, other[1].options) != (f.type, f.options):
                said.append(
                    (
                        f"业务 {other[0]} 也有这个 key 的字段，但类型或选项不同；合并的表单只"
                        f"显示一次，须含义一致",
                        f"service {other[0]!r} has a field of this key of another type or with "
                        f"other options; merged forms show it once, so it must mean one thing",
                    )
                )
            first.setdefault(f.key, (s.code, f))
            out += [(i, j, f.key, words) for words in said]
    return out
