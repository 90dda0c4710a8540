"""`onewindow ratings export`: one record per rating in the national data form, and the KPIs.

Each rating becomes one record with the fields GB/T 39046 asks for (docs/ratings-export.md
says each field): codes are mapped here, on the way out, from the hall's one internal scale
(5 = 非常满意) and its channel names. The same `record()` is what an uplink to the city or
provincial platform sends. A fact the hall does not have (no area code configured, a rater
who gave no ID card) is left out of the record, never filled in.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from pathlib import Path

from .domain.rating import kpis
from .ratingrecord import FIELDS, SCALES, cell, record

FORMATS = ("json", "csv")


def build(data_dir: str | Path, since: date, until: date, scale: str = "gbt") -> dict:
    """{hall, since, until, level_scale, kpis, records} for days since..until (inclusive)."""
    from .hallconfig import parse
    from .startup import DB_FILE
    from .store import StoreError, ratings_for_export

    db = Path(data_dir) / DB_FILE
    got = ratings_for_export(db, since, until)
    if got["settings"] is None:
        raise StoreError(f"{db}: no hall has run on this data dir yet: there is nothing to export")
    hall = parse(got["settings"], str(db))
    return {
        "hall": hall.id,
        "hall_name": hall.name,
        "area_code": hall.area_code or None,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "level_scale": scale,
        "kpis": kpis(got["ratings"], got["served"], got["served_rated"]),
        "records": [record(r, hall, scale) for r in got["ratings"]],
    }


def write(doc: dict, fmt: str, out: Path) -> list[Path]:
    """The export as JSON (one document) or CSV (the records, and the KPIs beside them in
    OUT's name with `.kpis.csv`); the files written."""
    if fmt == "json":
        out.write_text(
            json.dumps(
                {k: v for k, v in doc.items() if v is not None}, ensure_ascii=False, indent=1
            )
            + "\n",
            encoding="utf-8",
        )
        return [out]
    # utf-8-sig: a spreadsheet opened on a Chinese Windows reads the file as UTF-8
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        for rec in doc["records"]:
            w.writerow([cell(rec.get(name)) for name in FIELDS])
    side = out.with_name(out.stem + ".kpis.csv")
    with side.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(("kpi", "numerator", "denominator", "rate"))
        k = doc["kpis"]
        for name in ("rating_rate", "good_rate", "bad_reply_rate", "rectify_rate"):
            w.writerow(
                (name, k[name]["numerator"], k[name]["denominator"], k[name].get("rate", ""))
            )
        for name, v in k["levels"].items():
            w.writerow((f"level {name}", v["numerator"], v["denominator"], v.get("rate", "")))
    return [out, side]


def _day(text: str) -> date:
    import argparse

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day like 2026-11-23") from None


def cmd_export(args) -> int:
    from .store import StoreError

    if args.to < args.since:
        print(
            f"onewindow ratings export: --to {args.to} is before --from {args.since}",
            file=sys.stderr,
        )
        return 2
    try:
        doc = build(args.data_dir, args.since, args.to, args.levels)
    except StoreError as exc:
        print(f"onewindow ratings export: {exc}", file=sys.stderr)
        return 3
    files = write(doc, args.format, Path(args.out))
    k = doc["kpis"]
    shown = {
        name: f"{k[name]['rate']}%" if "rate" in k[name] else "-"
        for name in ("rating_rate", "good_rate", "bad_reply_rate", "rectify_rate")
    }
    print(
        f"{len(doc['records'])} ratings {args.since}..{args.to} -> {', '.join(map(str, files))}; "
        f"评价率 {shown['rating_rate']}, 好评率 {shown['good_rate']}, "
        f"差评回复率 {shown['bad_reply_rate']}, 回访整改率 {shown['rectify_rate']}"
    )
    return 0


def register(sub, data_arg) -> None:
    r = sub.add_parser("ratings", help="好差评: export ratings in the national data form")
    rsub = r.add_subparsers(dest="action", required=True)
    e = rsub.add_parser(
        "export",
        help="one record per rating (GB/T 39046 codes) and the KPIs; works while the hall runs",
    )
    data_arg(e)
    e.add_argument("--from", dest="since", type=_day, required=True, help="first day, YYYY-MM-DD")
    e.add_argument("--to", type=_day, required=True, help="last day, YYYY-MM-DD (included)")
    e.add_argument("--format", choices=FORMATS, default="json")
    e.add_argument(
        "--out",
        required=True,
        help="the file to write (CSV: the KPIs go beside it, as NAME.kpis.csv)",
    )
    e.add_argument(
        "--levels",
        choices=SCALES,
        default="gbt",
        help="level codes: gbt = GB/T 39046 (1 = 非常满意, the default); provincial = "
        "the provincial exchange interfaces' direction (5 = 非常满意)",
    )
    e.set_defaults(func=cmd_export)
