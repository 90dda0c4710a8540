"""The citizen's phone number for a bad rating's follow-up: taken on the QR page only, with
consent; never in clear in the database files, the logs or the export; opened for the call only
while the case is open, gone when it closes or after the retention period."""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request

import pytest

from busutil import Hall as BusHall
from busutil import open_hall_file
from ctlutil import KIOSK, MANAGER, MONDAY_10, Hall
from onewindow.cli import main
from onewindow.domain.pagekey import page_key
from onewindow.phonevault import PHONE_KEY_FILE, available
from onewindow.roles import Device
from onewindow.web import serve

PHONE = "13812345678"
WEB = Device("web-1", "web")
crypto = pytest.mark.skipif(
    not available(),
    reason="the cryptography package is not installed "
    "(the hall then takes no phone numbers: see the test below)",
)


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path, MONDAY_10)
    yield h
    h.ctl.store.close()


def test_without_cryptography_no_phone_is_asked_or_taken(hall):
    hall.ctl.phones = None  # what open_hall sets without the package
    t = hall.served()[0]
    assert hall.ok(WEB, "config.get")["rating"]["phone"] is False
    reply = hall.do(
        WEB,
        "rating.submit",
        ticket_id=page_key(t["id"], hall.ctl.secret),
        level=1,
        reasons=["态度"],
        phone=PHONE,
        consent=True,
    )
    assert reply["error"]["code"] == "unavailable" and hall.ctl.store.rows("ratings") == []


@crypto
def test_a_phone_needs_the_qr_page_a_first_bad_rating_and_consent(hall):
    t = hall.served()[0]
    key = page_key(t["id"], hall.ctl.secret)
    base = {"level": 1, "reasons": ["态度"], "phone": PHONE}
    assert (
        hall.do(KIOSK, "rating.submit", ticket_id=t["id"], consent=True, **base)["error"]["code"]
        == "forbidden"
    )
    assert (
        hall.do(WEB, "rating.submit", ticket_id=key, **base)["error"]["code"] == "consent_required"
    )
    assert (
        hall.do(WEB, "rating.submit", ticket_id=key, consent=True, **{**base, "phone": "12345"})[
            "error"
        ]["code"]
        == "bad_request"
    )
    assert (
        hall.do(WEB, "rating.submit", ticket_id=key, consent=True, **{**base, "level": 4})["error"][
            "code"
        ]
        == "bad_request"
    )
    assert hall.ctl.store.rows("ratings") == []
    rated = hall.ok(WEB, "rating.submit", ticket_id=key, consent=True, **base)["rating"]
    assert rated["phone"] == "138****5678"
    case = hall.ok(MANAGER, "rating.case", rating_id=rated["id"])["rating"]
    assert case["phone"] == "138****5678"
    assert hall.ok(MANAGER, "rating.phone", rating_id=rated["id"])["phone"] == PHONE
    shown = [r for r in hall.ctl.store.audit_rows() if r["action"] == "rating_phone_shown"]
    assert len(shown) == 1 and PHONE not in json.dumps(shown)
    assert hall.ctl.store.rows("replies", "reply LIKE ?", (f"%{PHONE}%",)) == []


@crypto
def test_the_phone_goes_after_the_retention_period_even_while_the_case_is_open(hall):
    t = hall.served()[0]
    rated = hall.ok(
        WEB,
        "rating.submit",
        ticket_id=page_key(t["id"], hall.ctl.secret),
        level=2,
        reasons=["效率"],
        phone=PHONE,
        consent=True,
    )["rating"]
    hall.clock.advance(days=29)
    hall.ctl.tick()
    assert hall.ctl.store.rows("ratings")[0]["phone_token"]
    hall.clock.advance(days=1)  # 30 days: [rating] phone_retention_days
    hall.ctl.tick()
    row = hall.ctl.store.rows("ratings")[0]
    assert (row["phone_token"], row["phone_masked"], row["follow_status"]) == (None, None, "open")
    assert hall.do(MANAGER, "rating.phone", rating_id=rated["id"])["error"]["code"] == "not_found"


@crypto
def test_the_phone_is_never_in_clear_in_the_database_the_logs_or_the_export(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    hall = BusHall(tmp_path, "embedded", config=open_hall_file(tmp_path))
    for dev, role, windows in (
        ("kiosk-1", "kiosk", ()),
        ("caller-4", "caller", (4,)),
        ("web-1", "web", ()),
        ("manager-1", "manager", ()),
    ):
        hall.add(dev, role, windows)
    hall.start()
    server = serve(hall.client("web-1"), "127.0.0.1", 0).start()
    try:
        kiosk, staff, manager = (
            hall.client("kiosk-1"),
            hall.client("caller-4"),
            hall.client("manager-1"),
        )
        t = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
        staff.request("window.open", {"window": 4})
        staff.request("window.call_next", {"window": 4})
        staff.request("window.finish", {"window": 4})
        form = urllib.parse.urlencode(
            [("level", "1"), ("reason", "态度"), ("phone", PHONE), ("consent", "1")]
        ).encode()
        path = urllib.parse.urlsplit(t["status_url"]).path
        with urllib.request.urlopen(
            f"http://127.0.0.1:{server.port}{path}/rate", data=form, timeout=10
        ) as r:
            page = r.read().decode("utf-8")
        assert "138****5678" in page and PHONE not in page
        rating = hall.ctl.store.rows("ratings")[0]
        assert rating["phone_masked"] == "138****5678" and rating["phone_token"]
        # the manager opens it for the call: the reply carries it, nothing keeps it
        assert manager.request("rating.phone", {"rating_id": rating["id"]})["phone"] == PHONE
        out = tmp_path / "export.json"
        assert (
            main(
                [
                    "ratings",
                    "export",
                    "--data-dir",
                    str(hall.data_dir),
                    "--from",
                    "2000-01-01",
                    "--to",
                    "2100-01-01",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        assert (
            main(
                [
                    "ratings",
                    "export",
                    "--data-dir",
                    str(hall.data_dir),
                    "--from",
                    "2000-01-01",
                    "--to",
                    "2100-01-01",
                    "--format",
                    "csv",
                    "--out",
                    str(tmp_path / "e.csv"),
                ]
            )
            == 0
        )
        exported = out.read_text("utf-8") + (tmp_path / "e.csv").read_text("utf-8-sig")
        assert rating["id"] in exported and "5678" not in exported  # not even masked
        no_clear_phone(hall.data_dir)  # running: the WAL holds the latest writes
    finally:
        server.shutdown()
        hall.close()
    no_clear_phone(hall.data_dir)
    assert any(r.name.startswith("onewindow") for r in caplog.records)  # the logs were captured
    assert PHONE not in caplog.text


def no_clear_phone(data_dir) -> None:
    key = (data_dir / PHONE_KEY_FILE).read_bytes()
    files = sorted(p for p in data_dir.rglob("*") if p.is_file())
    assert any(f.name == "hall.db-wal" for f in files) or any(f.name == "hall.db" for f in files)
    for f in files:
        data = f.read_bytes()
        assert PHONE.encode() not in data, f"{f} holds the number in clear"
        if f.name.startswith("hall.db"):
            assert key not in data, f"{f} holds the phone key"
