"""Guides never invent: a field the hall file leaves out is shown nowhere (web page, printed
明白卡, kiosk), `config check` names it, and one guide model makes every place agree."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import urllib.request

import pytest
import tomli_w

from busutil import REPO, Hall
from drivers import escpos
from onewindow.demo import always_open_copy
from onewindow.domain import guide as guide_model
from onewindow.web import serve

INVENTED = ("即办", "免费", "承诺时限", "收费", "最多跑一次")


def bare_hall(tmp_path):
    """The demo hall, open around the clock, with service Q's guide down to its conditions and
    theme T4 without its time limit."""
    (tmp_path / "cfg").mkdir(exist_ok=True)
    src = always_open_copy(REPO / "config" / "hall.toml", tmp_path / "cfg")
    raw = tomllib.loads(src.read_text(encoding="utf-8"))
    q = next(s for s in raw["services"] if s["code"] == "Q")
    q["guide"] = {"conditions": "不知道办什么时来这里。"}
    next(t for t in raw["themes"] if t["code"] == "T4").pop("time_limit_days", None)
    out = tmp_path / "cfg" / "bare.toml"
    out.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return out, raw


@pytest.fixture
def site(tmp_path):
    cfg, raw = bare_hall(tmp_path)
    hall = Hall(tmp_path, "embedded", config=cfg)
    hall.add("web-1", "web", ())
    hall.start()
    server = serve(hall.client("web-1"), "127.0.0.1", 0).start()
    yield hall, f"http://127.0.0.1:{server.port}", raw
    server.shutdown()
    hall.close()


def page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def test_a_guide_without_limit_or_fee_shows_neither_on_the_web_nor_on_the_card(site):
    _, base, raw = site
    html = page(f"{base}/guide/Q")
    assert "不知道办什么时来这里。" in html
    for word in INVENTED:
        assert word not in html, word
    q = next(s for s in raw["services"] if s["code"] == "Q")
    card = escpos.guide_card({**q, "code": "Q"}).decode("gb18030", errors="replace")
    assert "不知道办什么时来这里。" in card
    for word in INVENTED:
        assert word not in card, word


def test_a_themes_five_working_days_read_the_same_on_the_web_and_in_the_model(site):
    _, base, raw = site
    html = page(f"{base}/guide/T1")
    assert "承诺时限" in html and "5 个工作日" in html and "即办" not in html
    t1 = next(t for t in raw["themes"] if t["code"] == "T1")
    facts = {f.key: f.value for f in guide_model.card(t1).facts}
    assert facts == {"time_limit_days": "5 个工作日"}  # what the kiosk's theme screen shows
    # T4 states no limit: nothing is shown for it, anywhere
    assert "承诺时限" not in page(f"{base}/guide/T4")


def test_zero_days_is_a_stated_fact_and_reads_on_the_spot():
    card = guide_model.card(
        {
            "code": "A",
            "name": "户籍",
            "department": "公安",
            "guide": {"time_limit_days": 0, "fee": "不收费", "visits": 0},
        }
    )
    assert [(f.label, f.value) for f in card.facts] == [
        ("承诺时限", "即办"),
        ("收费标准", "不收费"),
        ("到现场次数", "零跑腿"),
    ]


def test_config_check_lists_each_services_missing_guide_fields(tmp_path):
    cfg, _ = bare_hall(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "onewindow.cli", "config", "check", "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    line = next(
        x for x in out.stdout.splitlines() if '(code = "Q")' in x and "guide leaves out" in x
    )
    assert line.strip().startswith("warning:")
    for field in (
        "办理流程 (process)",
        "申请材料 (materials)",
        "承诺时限 (time_limit_days)",
        "收费标准 (fee)",
        "办理地点 (place)",
        "咨询电话 (phone)",
    ):
        assert field in line
    assert "受理条件" not in line  # stated: not listed
    # named as the errors name them: the [[themes]] block and its code
    assert '[[themes]] #4 (code = "T4")' in out.stdout and '(code = "T1")' not in out.stdout
