"""The gettext catalogs (assets/locale): in step with the code's texts, compiled, and read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def catalogs(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(cwd / "scripts" / "catalogs"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_catalogs_are_those_of_the_code_and_compiled():
    done = catalogs("check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_key_added_the_old_way_is_folded_into_the_catalogs(tmp_path):
    """A branch from before the catalogs adds `"key": ("中文", "English")`: it works at once, and
    `scripts/catalogs update` moves its English into en.po and leaves `"key": "中文"`."""
    tree = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in (
        "scripts",
        "assets/locale",
        "onewindow",
        "kiosk",
        "callers",
        "manager",
        "drivers",
    ):
        shutil.copytree(REPO / folder, tree / folder, ignore=ignore)
    texts = tree / "kiosk" / "texts.py"
    source = texts.read_text(encoding="utf-8")
    texts.write_text(
        source.replace(
            '        "back": "返回",\n',
            '        "back": "返回",\n        "queue_full": ("今日号已取完", "No numbers left today"),\n',
        ),
        encoding="utf-8",
    )
    assert catalogs("check", cwd=tree).returncode == 1  # the merge is noticed
    done = catalogs("update", cwd=tree)
    assert done.returncode == 0, done.stderr
    assert '"queue_full": "今日号已取完",' in texts.read_text(encoding="utf-8")
    en = (tree / "assets/locale/en/LC_MESSAGES/onewindow.po").read_text(encoding="utf-8")
    assert 'msgctxt "kiosk.queue_full"\nmsgid "今日号已取完"\nmsgstr "No numbers left today"' in en
    assert catalogs("check", cwd=tree).returncode == 0
    probe = (
        "from kiosk.texts import text; "
        "print(text('queue_full', 'en'), text('queue_full', 'zh'), text('queue_full', 'bo'))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=tree, capture_output=True, text=True, check=True
    )
    # English from the compiled en.mo; Tibetan not written yet: the Chinese
    assert shown.stdout.split() == [
        "No",
        "numbers",
        "left",
        "today",
        "今日号已取完",
        "今日号已取完",
    ]


def test_a_halls_own_catalog_corrects_a_translation(tmp_path, monkeypatch):
    """A hall's .mo in /etc/onewindow/locale (here $ONEWINDOW_LOCALE_DIR) wins message by
    message; what it does not have still comes from the shipped catalog."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from onewindow import i18n

    hall = Catalog(locale="en", domain="onewindow")
    hall.add("取号", "Get a ticket", context="kiosk.take_number")
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "onewindow.mo", "wb") as f:
        write_mo(f, hall)
    monkeypatch.setenv(i18n.LOCALE_ENV, str(tmp_path))
    i18n.translations.cache_clear()
    try:
        from kiosk.texts import text

        assert text("take_number", "en") == "Get a ticket"
        assert text("back", "en") == "Back"
        assert text("take_number", "zh") == "取号"
    finally:
        i18n.translations.cache_clear()


@pytest.mark.parametrize("lang", ["en", "bo"])
def test_a_broken_translation_shows_the_chinese(tmp_path, monkeypatch, lang):
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from onewindow import i18n

    hall = Catalog(locale=lang, domain="onewindow")
    hall.add("前面 {n} 人", "{count} ahead", context="kiosk.tile_ahead")  # a typo'd placeholder
    folder = tmp_path / lang / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "onewindow.mo", "wb") as f:
        write_mo(f, hall)
    monkeypatch.setenv(i18n.LOCALE_ENV, str(tmp_path))
    i18n.translations.cache_clear()
    try:
        from kiosk.texts import text

        assert text("tile_ahead", lang, n=3) == "前面 3 人"
    finally:
        i18n.translations.cache_clear()
