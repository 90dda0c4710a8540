"""The provincial platform's appointment records as a file (JSON or CSV), for `onewindow
appointments import` at the hall and `onewindow city-appointments push` at the city.

Only the file's shape is read here; what a record means (a service, a free slot, a valid ID
number) the hall decides, the same way for a file as for the uplink (ops_platform.py).

JSON: a list of records, or `{"appointments": [...]}`. CSV (UTF-8, a header row): the columns
below, in any order; an empty cell is a field left out.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

FIELDS = ("op", "id", "service", "slot_start", "citizen_key", "id_number", "name")
CITY_FIELDS = ("hall", *FIELDS)  # at the city each record names its hall
MAX_RECORDS = 100_000


class FileError(ValueError):
    """The file cannot be read as records; the message names the file and the place."""


def read_records(path: str | Path, fields: tuple[str, ...] = FIELDS) -> list[dict]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    is_json = path.suffix.lower() == ".json" or (
        path.suffix.lower() != ".csv" and text.lstrip()[:1] in ("[", "{")
    )
    records = _json(path, text) if is_json else _csv(path, text, fields)
    if not records:
        raise FileError(f"{path}: no records")
    if len(records) > MAX_RECORDS:
        raise FileError(f"{path}: {len(records)} records; at most {MAX_RECORDS} a file")
    return records


def _json(path: Path, text: str) -> list[dict]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FileError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(doc, dict):
        doc = doc.get("appointments")
    if not isinstance(doc, list):
        raise FileError(f'{path}: a list of records, or {{"appointments": [...]}}, is expected')
    for n, record in enumerate(doc, 1):
        if not isinstance(record, dict):
            raise FileError(f"{path}: record {n} is not an object")
    return doc


def _csv(path: Path, text: str, fields: tuple[str, ...]) -> list[dict]:
    rows = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in rows.fieldnames or []]
    unknown = [h for h in header if h not in fields]
    if not header or unknown or "id" not in header:
        raise FileError(
            f"{path}: the CSV header must name columns among {', '.join(fields)} (with id)"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    rows.fieldnames = header
    out = []
    for row in rows:
        if None in row:  # more cells than the header has columns
            raise FileError(f"{path}: line {rows.line_num} has more cells than the header")
        record = {k: v.strip() for k, v in row.items() if v and v.strip()}
        if record:
            out.append(record)
    return out
