"""The hall file and the managers' console changes: one merge rule, a data dir bound to its hall,
and no production command that falls back to the demo hall."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from busutil import REPO, unlimited_config
from ctlutil import logged_in
from onewindow.configmerge import changed_options, merge
from onewindow.configreader import ConfigError
from onewindow.hallconfig import dump
from onewindow.roles import Device
from onewindow.startup import open_hall

MANAGER = Device("manager-1", "manager")


# -- the rule, on plain data --------------------------------------------------------------------

BASE = {
    "hall": {"id": "h", "notice": "a"},
    "rules": {"fair_share": 3, "elder_age": 60},
    "services": [
        {"code": "A", "name": "户籍", "daily_quota": 0},
        {"code": "B", "name": "社保", "daily_quota": 50},
    ],
    "windows": [{"number": 1, "services": ["A"]}, {"number": 2, "services": ["B"]}],
}


def _copy(d):
    return json.loads(json.dumps(d))


def test_file_wins_for_what_it_changed_and_console_changes_elsewhere_survive():
    file, live = _copy(BASE), _copy(BASE)
    file["rules"]["fair_share"] = 5  # the installer's edit
    file["services"].append({"code": "C", "name": "不动产", "daily_quota": 0})
    live["services"][0]["daily_quota"] = 80  # a manager's quota, by touch
    live["windows"][1]["services"] = ["B", "A"]
    merged, conflicts = merge(BASE, file, live)
    assert conflicts == []
    assert merged["rules"]["fair_share"] == 5
    assert [s["code"] for s in merged["services"]] == ["A", "B", "C"]
    assert merged["services"][0]["daily_quota"] == 80
    assert merged["windows"][1]["services"] == ["B", "A"]


def test_an_option_changed_on_both_sides_takes_the_file_and_is_reported():
    file, live = _copy(BASE), _copy(BASE)
    file["services"][1]["daily_quota"] = 60
    live["services"][1]["daily_quota"] = 10
    live["hall"]["notice"] = "b"
    merged, conflicts = merge(BASE, file, live)
    assert conflicts == ["services[B].daily_quota"]
    assert merged["services"][1]["daily_quota"] == 60 and merged["hall"]["notice"] == "b"


def test_items_are_matched_by_code_not_by_place():
    file, live = _copy(BASE), _copy(BASE)
    file["services"].reverse()  # reordered in the file
    file["services"][0]["name"] = "社会保险"  # B renamed
    live["services"][0]["daily_quota"] = 99  # A's quota on the console
    merged, conflicts = merge(BASE, file, live)
    by_code = {s["code"]: s for s in merged["services"]}
    assert (
        conflicts == [] and by_code["B"]["name"] == "社会保险" and by_code["A"]["daily_quota"] == 99
    )


def test_an_item_the_file_removed_goes_and_one_the_console_added_stays():
    file, live = _copy(BASE), _copy(BASE)
    del file["windows"][1]
    live["services"].append({"code": "R", "name": "残疾人证办理", "daily_quota": 0})
    merged, _ = merge(BASE, file, live)
    assert [w["number"] for w in merged["windows"]] == [1]
    assert [s["code"] for s in merged["services"]] == ["A", "B", "R"]


leaf = st.one_of(st.integers(0, 3), st.sampled_from(["x", "y"]))
option = st.sampled_from([("hall", "notice"), ("rules", "fair_share"), ("rules", "elder_age")])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(option, leaf, max_size=3), st.dictionaries(option, leaf, max_size=3))
def test_the_rule_holds_for_any_two_sets_of_changes(file_changes, live_changes):
    file, live = _copy(BASE), _copy(BASE)
    for (sec, key), v in file_changes.items():
        file[sec][key] = v
    for (sec, key), v in live_changes.items():
        live[sec][key] = v
    merged, conflicts = merge(BASE, file, live)
    for sec, key in {*file_changes, *live_changes}:
        f, lv, b = file[sec][key], live[sec][key], BASE[sec][key]
        expected = f if f != b else lv
        assert merged[sec][key] == expected
        assert (f"{sec}.{key}" in conflicts) == (f != b and lv != b and f != lv)
    # nothing else moved
    touched = {f"{sec}.{key}" for sec, key in {*file_changes, *live_changes}}
    assert set(changed_options(BASE, merged)) <= touched


# -- at start, with a real controller and a real database -------------------------------------


def _request(ctl, device, op, **args):
    logged_in(ctl, device)
    with ctl.store.transaction():
        reply = ctl.handle(
            device,
            json.dumps(
                {"v": 1, "id": f"{op}-{len(args)}-{id(args)}", "op": op, "args": args}
            ).encode(),
        ).reply
    assert reply["ok"], reply
    return reply["result"]


def _edit(path, change):
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(dump(raw), encoding="utf-8")


def test_a_console_change_survives_a_file_edit_and_a_restart(tmp_path):
    cfg = unlimited_config(tmp_path)
    ctl = open_hall(cfg, tmp_path / "data")
    _request(ctl, MANAGER, "config.service", code="A", daily_quota=120)
    _request(ctl, MANAGER, "config.service", code="C", daily_quota=30)
    ctl.store.close()

    def edit(raw):
        raw["rules"]["fair_share"] = 4  # the file's own edit
        next(s for s in raw["services"] if s["code"] == "C")["daily_quota"] = 45  # both

    _edit(cfg, edit)
    ctl = open_hall(cfg, tmp_path / "data")
    try:
        assert ctl.hall.service("A").daily_quota == 120  # the console's, kept
        assert ctl.hall.rules.fair_share == 4  # the file's, applied
        assert ctl.hall.service("C").daily_quota == 45  # both: the file's, reported
        alert = ctl.alerts.live["config:conflicts"]
        assert alert["kind"] == "config" and alert["options"] == ["services[C].daily_quota"]
        assert "services[C].daily_quota" in ctl.alerts.listed()[0]["message"]
    finally:
        ctl.store.close()
    # and the next start with the same file changes nothing
    ctl = open_hall(cfg, tmp_path / "data")
    assert ctl.hall.service("A").daily_quota == 120 and ctl.hall.rules.fair_share == 4
    ctl.store.close()


def test_changes_that_cannot_live_together_stop_the_hall_saying_how_to_recover(tmp_path):
    cfg = unlimited_config(tmp_path)
    ctl = open_hall(cfg, tmp_path / "data")
    _request(ctl, MANAGER, "config.window", window=8, services=["F", "D"])  # a manager's
    ctl.store.close()

    def drop_d(raw):  # meanwhile the file retires D
        raw["services"] = [s for s in raw["services"] if s["code"] != "D"]
        for w in raw["windows"]:
            w["services"] = [c for c in w.get("services", []) if c != "D"]
        for t in raw.get("themes", []):
            t["items"] = [c for c in t.get("items", []) if c != "D"]
            for q in t.get("questions", []):
                q["adds"] = [c for c in q.get("adds", []) if c != "D"]

    _edit(cfg, drop_d)
    with pytest.raises(ConfigError) as e:
        open_hall(cfg, tmp_path / "data")
    text = "\n".join(e.value.problems)
    assert "do not fit together" in text and "config export" in text


def test_a_data_dir_serves_one_hall(tmp_path):
    cfg = unlimited_config(tmp_path)
    open_hall(cfg, tmp_path / "data").store.close()
    other = tmp_path / "other.toml"
    other.write_text(
        cfg.read_text(encoding="utf-8").replace('id = "demo-county"', 'id = "linxia-zhou"', 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        open_hall(other, tmp_path / "data")
    assert "'linxia-zhou'" in e.value.problems[0] and "'demo-county'" in e.value.problems[0]


# -- production commands never fall back to the demo hall ----------------------------------------


def _cli(*args, cwd):
    # PYTHONPATH: this checkout's code, whatever the editable install points at
    return subprocess.run(
        [sys.executable, "-m", "onewindow.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


@pytest.mark.parametrize(
    "command",
    [
        ["hall", "--data-dir", "data"],
        ["broker-config", "--data-dir", "data", "--out", "mosq"],
        ["devices", "--data-dir", "data", "add", "caller-9", "--role", "caller", "--window", "9"],
        ["config", "check"],
    ],
)
def test_no_hall_file_no_start(command, tmp_path):
    from onewindow.hallconfig import SYSTEM_CONFIG

    if SYSTEM_CONFIG.exists():
        pytest.skip(f"{SYSTEM_CONFIG} exists on this machine")
    out = _cli(*command, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "no hall file: give --config HALL_FILE" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "data" / "hall.db").exists() and not (tmp_path / "mosq").exists()


def test_a_device_without_its_hall_id_says_so(tmp_path):
    cfg = tmp_path / "display.json"
    cfg.write_text(json.dumps({"mqtt": "mqtt://127.0.0.1:1", "device": "d", "secret": "s"}))
    out = _cli("web", "--device-config", str(cfg), cwd=tmp_path)
    assert (
        out.returncode == 2
        and "display.json has no 'hall'" in out.stderr
        and "never guesses" in out.stderr
    )


def test_config_export_while_the_hall_runs_round_trips_through_check(tmp_path):
    from busutil import Hall

    hall = Hall(tmp_path, "embedded", config=unlimited_config(tmp_path))
    hall.add("manager-1", "manager")
    hall.start()
    try:
        hall.client("manager-1").request("config.service", {"code": "A", "daily_quota": 77})
        out = _cli("config", "export", "--data-dir", str(hall.data_dir), cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        exported = tmp_path / "live.toml"
        exported.write_text(out.stdout, encoding="utf-8")
        assert (
            next(s for s in tomllib.loads(out.stdout)["services"] if s["code"] == "A")[
                "daily_quota"
            ]
            == 77
        )
        check = _cli("config", "check", "--config", str(exported), cwd=tmp_path)
        assert check.returncode == 0 and "OK" in check.stdout, check.stderr
    finally:
        hall.close()


def test_config_check_warns_when_phones_cannot_reach_the_qr_pages(tmp_path):
    shipped = _cli("config", "check", "--config", str(REPO / "config" / "hall.toml"), cwd=tmp_path)
    assert shipped.returncode == 0 and "[hall] status_url points at 127.0.0.1" in shipped.stdout
    assert "[mobile] entrance_url points at 127.0.0.1" in shipped.stdout
    lan = tmp_path / "lan.toml"
    lan.write_text(
        (REPO / "config" / "hall.toml")
        .read_text(encoding="utf-8")
        .replace("http://127.0.0.1:8080/", "http://192.168.10.2:8080/"),
        encoding="utf-8",
    )
    out = _cli("config", "check", "--config", str(lan), cwd=tmp_path)
    assert out.returncode == 0 and "warning" not in out.stdout


def test_config_check_says_what_is_wrong_in_the_files_words(tmp_path):
    """A misspelt section or option is named with the nearest known name; a wrong type in
    TOML's words with the mend; a check the reference documents (languages) is enforced."""
    text = (REPO / "config" / "hall.toml").read_text(encoding="utf-8")
    bad = tmp_path / "hall.toml"
    bad.write_text(
        text.replace("elder_age = 60", "elderly_age = 65")
        .replace("daily_quota = 100", 'daily_quota = "100"', 1)
        .replace("[hall]\n", '[hall]\nlanguages = ["en", "zh"]\n', 1)
        + "\n[uplnk]\nkeep_days = 30\n",
        encoding="utf-8",
    )
    out = _cli("config", "check", "--config", str(bad), cwd=tmp_path)
    assert out.returncode != 0
    said = out.stdout + out.stderr
    assert f"{bad}: [uplnk]: unknown section (misspelt?); did you mean [uplink]?" in said
    assert "[rules] elderly_age: unknown option (misspelt?); did you mean elder_age?" in said
    assert 'daily_quota: must be an integer (remove the quotes), got "100"' in said
    assert "[hall] languages: Chinese comes first" in said
    assert "[]" not in said and "int" not in said.replace("integer", "")


def test_config_check_with_the_data_dir_says_what_the_hall_would_do(tmp_path):
    cfg = unlimited_config(tmp_path)
    ctl = open_hall(cfg, tmp_path / "data")
    _request(ctl, MANAGER, "config.service", code="C", daily_quota=30)
    _request(ctl, MANAGER, "config.window", window=8, services=["F", "D"])
    ctl.store.close()
    _edit(
        cfg, lambda raw: next(s for s in raw["services"] if s["code"] == "C").update(daily_quota=45)
    )
    out = _cli(
        "config", "check", "--config", str(cfg), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
    )
    assert out.returncode == 0 and "fits the live settings" in out.stdout
    assert (
        "services[C].daily_quota was changed both in this file and on the manager console"
        in out.stdout
    )

    def drop_d(raw):
        raw["services"] = [s for s in raw["services"] if s["code"] != "D"]
        for w in raw["windows"]:
            w["services"] = [c for c in w.get("services", []) if c != "D"]
        for t in raw.get("themes", []):
            t["items"] = [c for c in t.get("items", []) if c != "D"]
            for q in t.get("questions", []):
                q["adds"] = [c for c in q.get("adds", []) if c != "D"]

    _edit(cfg, drop_d)
    alone = _cli("config", "check", "--config", str(cfg), cwd=tmp_path)
    assert alone.returncode == 0  # the file by itself is fine ...
    out = _cli(
        "config", "check", "--config", str(cfg), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
    )
    assert out.returncode == 2 and "do not fit together" in out.stderr  # ... but not on this hall
