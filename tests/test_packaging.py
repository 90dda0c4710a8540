"""The Debian package's metadata, fast (no build): what debian/ declares and what its maintainer
scripts do, run with their system commands stubbed. scripts/test-deb-clean-root is the slow,
real test: build, install, upgrade and purge in a clean Debian 12 root."""

from __future__ import annotations

import re
import subprocess

import pytest

from busutil import REPO

DEBIAN = REPO / "debian"
# what the issue asks every box to get from Debian
REQUIRED = {
    "mosquitto",
    "pcscd",
    "fonts-noto-cjk",
    "fonts-noto-core",
    "espeak-ng",
    "sox",
    "alsa-utils",
    "python3",
}
# what a production box must not get: compilers, headers, test tools
BUILD_OR_TEST = {
    "gcc",
    "g++",
    "build-essential",
    "python3-dev",
    "swig",
    "libpcsclite-dev",
    "xvfb",
    "xdotool",
    "imagemagick",
    "chromium",
    "chromium-driver",
    "vsmartcard-vpcd",
    "python3-pytest",
    "debhelper",
    "dh-virtualenv",
}
# where the package puts the program (debian/rules) = where every unit runs it from
VENV_BIN = "/opt/onewindow/.venv/bin/onewindow"


def control_field(package: str, field: str) -> list[str]:
    text = (DEBIAN / "control").read_text(encoding="utf-8")
    stanza = next(s for s in text.split("\n\n") if re.search(rf"^Package: {package}$", s, re.M))
    value = re.search(rf"^{field}:(.*(?:\n[ \t].*)*)", stanza, re.M)
    return [] if value is None else [p.strip() for p in value.group(1).split(",") if p.strip()]


def names(relations: list[str]) -> set[str]:
    return {re.split(r"[ (]", r, maxsplit=1)[0] for r in relations if not r.startswith("${")}


def test_depends_declares_what_a_box_needs_and_no_build_or_test_tool():
    depends = names(control_field("onewindow", "Depends"))
    recommends = names(control_field("onewindow", "Recommends"))
    assert REQUIRED <= depends, REQUIRED - depends
    assert not (depends | recommends) & BUILD_OR_TEST, (depends | recommends) & BUILD_OR_TEST
    # the venv runs Debian 12's python3.11: a python3 of another minor version would break it
    assert "python3 (<< 3.12)" in control_field("onewindow", "Depends")
    # the build needs what the runtime must not have
    build = names(control_field("onewindow", "Build-Depends") or [])
    source = (DEBIAN / "control").read_text(encoding="utf-8").split("\n\n")[0]
    assert "dh-virtualenv" in source and "debhelper-compat (= 13)" in source, build


def test_the_version_is_setup_pys_alone():
    assert not (DEBIAN / "changelog").exists()  # written by build-deb at each build
    build = (REPO / "scripts" / "build-deb").read_text(encoding="utf-8")
    assert "setup.py --version" in build
    assert re.search(r'^\s*version="\d+\.\d+\.\d+",$', (REPO / "setup.py").read_text(), re.M)


def test_units_and_the_hall_file_are_shipped_and_the_units_stay_disabled():
    install = (DEBIAN / "onewindow.install").read_text().split()
    assert ["systemd/*", "lib/systemd/system/", "config/hall.toml", "etc/onewindow/"] == install
    rules = (DEBIAN / "rules").read_text()
    # dh_installdeb makes every file under /etc a conffile: an upgrade keeps the hall's edits
    assert re.search(r"dh_installsystemd --no-enable --no-start", rules)
    assert (
        "DH_VIRTUALENV_INSTALL_ROOT = /opt/onewindow" in rules and "--install-suffix .venv" in rules
    )
    assert "chmod 0640 debian/onewindow/etc/onewindow/hall.toml" in rules
    links = (DEBIAN / "onewindow.links").read_text().split()
    assert links == [VENV_BIN.lstrip("/"), "usr/bin/onewindow"]
    for unit in sorted((REPO / "systemd").glob("*.service")):
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")) and "onewindow " in line:
                assert VENV_BIN in line, (unit.name, line)


@pytest.fixture
def stubs(tmp_path):
    """A PATH of stubs that log their arguments: the maintainer scripts run for real, but touch
    nothing on this machine. `getent` finds no onewindow user."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    for tool, rc in {
        "adduser": 0,
        "getent": 2,
        "chown": 0,
        "chmod": 0,
        "mkdir": 0,
        "rm": 0,
        "dpkg-statoverride": 1,
        "deb-systemd-invoke": 0,
        "deb-systemd-helper": 0,
        "systemctl": 0,
        "cp": 0,
        "ln": 0,
        "cmp": 0,
        "mv": 0,
        "ls": 0,
        "tail": 0,
    }.items():
        stub = bin_dir / tool
        stub.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit {rc}\n')
        stub.chmod(0o755)

    def run(script: str, *args: str) -> list[str]:
        log.write_text("")
        out = subprocess.run(
            ["/bin/sh", str(DEBIAN / f"onewindow.{script}"), *args],
            env={"PATH": str(bin_dir)},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        return log.read_text().splitlines()

    return run


def test_postinst_makes_the_system_user_and_the_directories_with_tight_modes(stubs):
    calls = stubs("postinst", "configure", "")
    adduser = next(c for c in calls if c.startswith("adduser --system"))
    assert "--group" in adduser and "--shell /usr/sbin/nologin" in adduser
    assert adduser.endswith(" onewindow") and "--home /var/lib/onewindow" in adduser
    assert "chown root:onewindow /etc/onewindow" in calls
    assert "chmod 0750 /etc/onewindow" in calls
    assert "chown onewindow:onewindow /var/lib/onewindow" in calls
    assert "chmod 0700 /var/lib/onewindow" in calls
    assert "chmod 0700 /var/backups/onewindow" in calls
    # nothing is enabled or started on a first install
    assert not [
        c
        for c in calls
        if c.startswith(("deb-systemd-invoke", "systemctl"))
        or c.startswith("deb-systemd-helper enable")
    ], calls
    # the hall file's own mode, when it is there
    assert (
        "own root onewindow 0640 /etc/onewindow/hall.toml"
        in (DEBIAN / "onewindow.postinst").read_text()
    )


def test_postinst_on_upgrade_restarts_only_what_runs():
    script = (DEBIAN / "onewindow.postinst").read_text()
    # after debhelper's daemon-reload, only on upgrade ($2: the old version), only where systemd
    # runs (not in a chroot or an image build), and through policy-rc.d
    tail = script.split("#DEBHELPER#", 1)[1]
    assert '[ "$1" = configure ] && [ -n "$2" ] && [ -d /run/systemd/system ]' in tail
    assert "deb-systemd-invoke try-restart $UNITS 'onewindow-caller@*.service'" in tail
    units = {
        u.name
        for u in (REPO / "systemd").glob("*")
        if "@" not in u.name and u.name != "onewindow-backup.service"
    }
    assert units == set(script.split('UNITS="', 1)[1].split('"', 1)[0].split())


def test_an_existing_user_is_kept_and_an_override_of_the_modes_obeyed(tmp_path, stubs):
    bin_dir = tmp_path / "bin"
    (bin_dir / "getent").write_text(
        "#!/bin/sh\necho onewindow:x:998:998::/var/lib/onewindow:/usr/sbin/nologin\n"
    )
    (bin_dir / "dpkg-statoverride").write_text("#!/bin/sh\nexit 0\n")  # the admin set their own
    calls = stubs("postinst", "configure", "")
    assert not [c for c in calls if c.startswith("adduser --system")]
    assert not [c for c in calls if c.startswith(("chown", "chmod"))], calls


def test_remove_keeps_the_data_and_purge_deletes_it(stubs):
    assert not [c for c in stubs("postrm", "remove") if c.startswith("rm ")]
    purge = stubs("postrm", "purge")
    for path in ("/etc/onewindow", "/var/lib/onewindow", "/var/lib/onewindow-kiosk"):
        assert f"rm -rf {path}" in purge, purge
    assert not [c for c in purge if "/var/backups" in c and c.startswith("rm")]


def test_prerm_stops_the_units_on_remove_only(stubs):
    script = (DEBIAN / "onewindow.prerm").read_text()
    assert re.search(r'"\$1" = remove', script) and "deb-systemd-invoke stop" in script
    assert not [c for c in stubs("prerm", "upgrade", "0.1.0-2") if "stop" in c]
    # on remove it stops every unit an upgrade restarts (a bridge left running holds its port)
    restarted = (DEBIAN / "onewindow.postinst").read_text().split('UNITS="', 1)[1].split('"')[0]
    stopped = script.split("deb-systemd-invoke stop", 1)[1].split(">/dev/null", 1)[0]
    assert set(restarted.split()) <= set(stopped.replace("\\", " ").split())


def test_lintian_overrides_name_the_package():
    for line in (DEBIAN / "onewindow.lintian-overrides").read_text().splitlines():
        assert not line.strip() or line.startswith("#") or line.startswith("onewindow: "), line
