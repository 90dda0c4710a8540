"""Opening a hall: config file versus the managers' saved changes, the data dir, the key, the clock."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional
from zoneinfo import ZoneInfo

from .configmerge import changed_options, merge
from .configreader import ConfigError
from .controller import Controller
from .hallconfig import always_open, dump, load_file, parse
from .store import Store, saved_config, saved_hall_id

log = logging.getLogger(__name__)

SECRET_FILE = "citizen.key"
DB_FILE = "hall.db"
TEST_DB_FILE = "hall-test.db"  # test mode's tickets: never in the hall's own database


def hall_clock(timezone: str) -> Callable[[], datetime]:
    tz = ZoneInfo(timezone)
    return lambda: datetime.now(tz)


def since_boot() -> float:
    """Seconds since the machine booted, asleep included, whatever the wall clock is set to: a
    night asleep is a night passed, a date set wrong is not (domain/clockwatch.py)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def boot_id() -> Optional[str]:
    """This boot's identity (Linux): since_boot() counts from it."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def load_secret(data_dir: Path) -> bytes:
    """The key for citizens' hashed ID numbers; kept beside, not inside, the database."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
    return path.read_bytes()


def open_hall(
    config_path: str | Path,
    data_dir: str | Path,
    clock: Optional[Callable[[], datetime]] = None,
    test_mode: bool = False,
) -> Controller:
    """Validate the file, then decide what configuration the hall runs with.

    The data dir belongs to one hall: a file with another hall id is refused. When the file
    changed since it was last loaded, it is merged with the managers' console changes by the rule
    in configmerge.py (the file wins for the options it changed, console changes to the others
    survive); options both changed are reported. Otherwise the live settings are used as saved.

    Test mode (commissioning) runs on a database of its own, made fresh from the file with the
    hall and every service open around the clock (windows are still opened by their staff); it
    is deleted at the next start, so its tickets never count
    anywhere and the hall's own database is not touched.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    hall, raw = load_file(config_path)  # ConfigError before anything else happens
    owner = saved_hall_id(data_dir / DB_FILE)
    if owner is not None and owner != hall.id:
        raise ConfigError([_other_hall(config_path, data_dir, hall.id, owner)])
    source_hash = hashlib.sha256(Path(config_path).read_bytes()).hexdigest()
    file_raw = json.loads(json.dumps(raw, ensure_ascii=False, default=str))  # as stored
    if clock is None:
        clock, elapsed, boot = hall_clock(hall.timezone), since_boot, boot_id()
    else:  # a test's clock may say how much time truly passed besides what it reads
        elapsed, boot = getattr(clock, "elapsed", None), getattr(clock, "boot", None)
    _remove_test_data(data_dir)
    if test_mode:
        file_raw = always_open(file_raw)
        hall = parse(file_raw, f"{config_path} (test mode: open around the clock)")
    store = Store(data_dir / (TEST_DB_FILE if test_mode else DB_FILE))
    try:
        hall, raw, conflicts = _settings(
            store, config_path, data_dir, hall, file_raw, source_hash, clock
        )
    except BaseException:
        store.close()
        raise
    ctl = Controller(
        hall,
        raw,
        store,
        clock,
        load_secret(data_dir),
        source_hash,
        test_mode,
        elapsed=elapsed,
        boot=boot,
    )
    from .phonevault import open_form_vault, open_vault

    ctl.phones = open_vault(data_dir)
    ctl.forms = open_form_vault(data_dir)
    if conflicts:
        ctl.housekeeping(
            lambda alerts: alerts.raise_(
                "config:conflicts",
                "config",
                f"配置冲突：{len(conflicts)} 项设置在配置文件和管理端都改过，已采用配置文件的值："
                + "、".join(conflicts[:8])
                + ("等" if len(conflicts) > 8 else ""),
                options=conflicts,
            )
        )
    return ctl


def check_with_live_settings(config_path: str | Path, data_dir: str | Path) -> list[str]:
    """`config check --data-dir`: would this file start on this data dir? The options that would
    be reported as changed on both sides; ConfigError when the two do not fit together."""
    data_dir = Path(data_dir)
    hall, raw = load_file(config_path)
    saved = saved_config(data_dir / DB_FILE)
    if saved is None:
        return []
    owner = saved["raw"].get("hall", {}).get("id")
    if owner != hall.id:
        raise ConfigError([_other_hall(config_path, data_dir, hall.id, owner)])
    file_raw = json.loads(json.dumps(raw, ensure_ascii=False, default=str))
    if saved["file_raw"] is None or saved["file_raw"] == file_raw:
        return []
    merged, conflicts = merge(saved["file_raw"], file_raw, saved["raw"])
    try:
        parse(merged, f"{config_path} merged with the managers' changes")
    except ConfigError as exc:
        raise ConfigError(exc.problems + [_misfit(config_path, data_dir)]) from None
    return conflicts


def _other_hall(config_path, data_dir: Path, hall_id: str, owner: str) -> str:
    return (
        f"{config_path}: this file is for hall '{hall_id}', but the data dir {data_dir} "
        f"belongs to hall '{owner}'. Start it with the file of hall '{owner}', or give this "
        f"hall a data dir of its own (--data-dir); nothing was changed"
    )


def _misfit(config_path, data_dir: Path) -> str:
    return (
        f"{config_path}: the file's changes and the managers' console changes do not fit "
        f"together (above). `onewindow config export --data-dir {data_dir}` prints the live "
        f"settings: put what is still wanted into the file, then start again"
    )


def _remove_test_data(data_dir: Path) -> None:
    gone = [p for p in data_dir.glob(f"{TEST_DB_FILE}*") if p.is_file()]
    for p in gone:
        p.unlink()
    if gone:
        log.warning("test mode's tickets removed (%s)", data_dir / TEST_DB_FILE)


def _settings(
    store: Store, config_path, data_dir: Path, hall, file_raw: dict, source_hash: str, clock
) -> tuple:
    """(hall, live settings, conflicts): as saved, or the edited file merged in and saved."""
    saved = store.config()
    if saved and saved["source_hash"] == source_hash:
        return parse(saved["raw"], f"{data_dir / DB_FILE} (managers' changes)"), saved["raw"], []
    raw, conflicts = file_raw, []
    if saved:
        raw, conflicts = _merge_file(config_path, data_dir, saved, file_raw, clock)
        hall = parse(raw, f"{config_path} merged with the managers' changes")
    with store.transaction():
        store.load_config_file(raw, file_raw, source_hash, clock())
        store.audit(
            clock(),
            "controller",
            "config_load",
            detail={"file": str(config_path), "conflicts": conflicts},
        )
    return hall, raw, conflicts


def _merge_file(
    config_path, data_dir: Path, saved: dict, file_raw: dict, clock
) -> tuple[dict, list[str]]:
    """The edited file merged into the live settings; says at start what it did."""
    if saved["file_raw"] is None:
        # a database from before the merge rule does not know what the file said: the file
        # wins, and what it replaces is kept in a file an installer can read back
        kept = data_dir / f"settings-replaced-{clock():%Y%m%d-%H%M%S}.toml"
        kept.write_text(dump(saved["raw"]), encoding="utf-8")
        kept.chmod(0o600)
        log.warning(
            "%s changed; this data dir has no record of the file it was loaded from, so "
            "the file replaces the saved settings; they are kept in %s",
            config_path,
            kept,
        )
        return file_raw, []
    details: list = []
    merged, conflicts = merge(saved["file_raw"], file_raw, saved["raw"], details)
    kept = [o for o in changed_options(saved["file_raw"], saved["raw"]) if o not in conflicts]
    log.warning(
        "%s changed since it was last loaded: its changes are applied; managers' changes "
        "made on the console kept: %s%s",
        config_path,
        ", ".join(kept) or "none",
        ""
        if not details
        else "; set in both, where the file wins: "
        + "; ".join(f"{o} (console {c!r}, file {f!r})" for o, c, f in details),
    )
    try:
        parse(merged, f"{config_path} merged with the managers' changes")
    except ConfigError as exc:
        raise ConfigError(exc.problems + [_misfit(config_path, data_dir)]) from None
    return merged, conflicts
