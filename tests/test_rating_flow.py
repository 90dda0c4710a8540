"""好差评 at the controller: a bad rating is refused without a reason on every channel, one rating
per transaction plus one follow-up rating after rectification."""
from __future__ import annotations

import pytest

from onewindow.domain.pagekey import page_key
from onewindow.roles import Device

from ctlutil import KIOSK, MANAGER, MONDAY_10, Hall

PAD4 = Device("rating-4", "rating", frozenset({4}))
WEB = Device("web-1", "web")


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path, MONDAY_10)
    yield h
    h.ctl.store.close()


CHANNELS = {"pad": lambda h, t: (PAD4, {"window": 4, "ticket_id": t["id"]}),
            "kiosk": lambda h, t: (KIOSK, {"ticket_id": t["id"]}),
            "qrcode": lambda h, t: (WEB, {"ticket_id": page_key(t["id"], h.ctl.secret),
                                          "channel": "qrcode"})}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_a_bad_rating_without_a_reason_is_refused_on_every_channel(hall, channel):
    t = hall.served()[0]
    dev, args = CHANNELS[channel](hall, t)
    for level in (2, 1):
        for extra in ({}, {"reasons": []}, {"text": "不好"}):
            reply = hall.do(dev, "rating.submit", level=level, **args, **extra)
            assert reply["error"]["code"] == "reason_required", reply
            assert "至少选择一项" in reply["error"]["message"]
            assert reply["error"]["detail"]["reasons"][0] == "态度"    # what to offer instead
    # a reason the hall does not offer, and 其他 without the citizen's words
    assert hall.do(dev, "rating.submit", level=1, reasons=["态度不好"], **args)["error"]["code"] \
        == "bad_request"
    assert hall.do(dev, "rating.submit", level=1, reasons=["其他"], text="  ", **args)["error"]["code"] \
        == "reason_required"
    assert hall.ctl.store.rows("ratings") == [] and hall.ctl.alerts.live == {}
    rated = hall.ok(dev, "rating.submit", level=1, reasons=["效率", "其他"], text="等了很久没人管",
                    **args)["rating"]
    assert rated["bad"] and rated["follow_status"] == "open"
    row = hall.ctl.store.rows("ratings")[0]
    assert row["channel"] == channel and row["reasons"] == "效率,其他" and row["text"] == "等了很久没人管"


def test_reasons_come_from_the_hall_file(tmp_path):
    h = Hall(tmp_path, MONDAY_10, edit=lambda raw: raw.setdefault("rating", {}).update(
        reasons=["排队太久", "其他"]))
    try:
        t = h.served()[0]
        assert h.do(KIOSK, "rating.submit", ticket_id=t["id"], level=2,
                    reasons=["态度"])["error"]["detail"]["reasons"] == ["排队太久", "其他"]
        assert h.ok(KIOSK, "config.get")["rating"]["reasons"] == ["排队太久", "其他"]
        h.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=2, reasons=["排队太久"])
    finally:
        h.ctl.store.close()


def test_a_good_rating_needs_no_reason_and_keeps_none(hall):
    t = hall.served()[0]
    hall.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=3, reasons=["态度"])
    row = hall.ctl.store.rows("ratings")[0]
    assert row["reasons"] == "" and row["follow_status"] is None and hall.ctl.alerts.live == {}


def test_one_rating_per_transaction_then_one_follow_up_rating_after_rectification(hall):
    t = hall.served()[0]
    first = hall.ok(KIOSK, "rating.submit", ticket_id=t["id"], level=1, reasons=["态度"])["rating"]
    assert first["count"] == 1
    # no second rating while the case is open or being rectified
    assert hall.do(KIOSK, "rating.submit", ticket_id=t["id"], level=5)["error"]["code"] == "already_rated"
    hall.ok(MANAGER, "rating.follow", rating_id=first["id"], action="contact",
            note="已电话联系，致歉并说明整改安排")
    assert hall.do(KIOSK, "rating.submit", ticket_id=t["id"], level=5)["error"]["code"] == "already_rated"
    hall.ok(MANAGER, "rating.follow", rating_id=first["id"], action="rectify",
            note="窗口人员已培训；整改记录见第12号台账")
    status = hall.ok(WEB, "queue.status", ticket_id=page_key(t["id"], hall.ctl.secret))["ticket"]
    assert status["rating"] == {"rated": True, "count": 1, "follow_up_open": True}
    again = hall.ok(WEB, "rating.submit", ticket_id=page_key(t["id"], hall.ctl.secret),
                    channel="qrcode", level=4)["rating"]
    assert again["count"] == 2 and again["follow_status"] is None
    assert hall.do(KIOSK, "rating.submit", ticket_id=t["id"], level=5)["error"]["code"] == "already_rated"
    rows = hall.ctl.store.rows("ratings", "ticket_id = ? ORDER BY count", (t["id"],))
    assert [(r["count"], r["level"]) for r in rows] == [(1, 1), (2, 4)]
