"""`onewindow backup` and `onewindow restore`: a hall's data dir in one archive, taken while it runs.

The database is copied with SQLite's online backup API, a consistent snapshot even while the
controller commits tickets; the keys, the device registry and the hall's CA go with it, since a
database without its citizen key or its devices' secrets cannot serve the same hall. The archive
(tar.gz) holds a manifest with each file's SHA-256; restore checks every one before it writes
anything, and writes into a new directory only.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import tempfile
import time
import zlib
from pathlib import Path
from typing import Optional

from .bus.devices import REGISTRY_FILE
from .managerpin import PIN_FILE
from .phonevault import FORM_KEY_FILE, PHONE_KEY_FILE
from .startup import DB_FILE, SECRET_FILE
from .store import SCHEMA_VERSION, StoreError
from .store.backup import snapshot

FORMAT = 1
MANIFEST = "manifest.json"
CONTROLLER_SECRET = "controller.secret"
KEY_FILES = (SECRET_FILE, CONTROLLER_SECRET, REGISTRY_FILE)  # beside hall.db in the data dir
# there once set: `onewindow pin set`; the follow-up phones' and the forms' keys once the hall
# had cryptography (a 容缺 case's form outlives the day)
OPTIONAL_FILES = (PIN_FILE, PHONE_KEY_FILE, FORM_KEY_FILE)
TLS_DIR = Path("mosquitto") / "tls"  # where `broker-config` keeps the CA by default
TLS_NAME = re.compile(r"^tls/[A-Za-z0-9._-]{1,64}$")
# in the data dir but not in the archive: the snapshot replaces the WAL, the lock is the running
# controller's, *.bak are the copies taken before schema upgrades, and mosquitto/ (apart from
# its tls/) is remade by `broker-config`
NOT_BACKED_UP = (f"{DB_FILE}-wal", f"{DB_FILE}-shm", f"{DB_FILE}.lock", "*.bak", "mosquitto")


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _snapshot(db_path: Path, dest: Path) -> tuple[int, Optional[str]]:
    """The live database copied to `dest`; returns its schema version and hall id."""
    if not db_path.is_file():
        raise BackupError(f"{db_path.parent}: no {DB_FILE} here; give the hall's --data-dir")
    try:
        return snapshot(db_path, dest)
    except StoreError as exc:
        raise BackupError(str(exc), 3) from exc


def _add(tar: tarfile.TarFile, name: str, path: Path) -> None:
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode = 0o600
    info.mtime = int(time.time())
    with open(path, "rb") as f:
        tar.addfile(info, f)


def make_backup(data_dir: Path, out: Path, tls_dir: Optional[Path] = None) -> dict:
    """Write the archive (atomically: a complete archive or none); returns its manifest."""
    data_dir = Path(data_dir)
    tls_dir = Path(tls_dir) if tls_dir else data_dir / TLS_DIR
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".onewindow-backup-") as tmp:
        staged = {DB_FILE: Path(tmp) / DB_FILE}
        schema, hall_id = _snapshot(data_dir / DB_FILE, staged[DB_FILE])
        for name in KEY_FILES + OPTIONAL_FILES:
            if (data_dir / name).is_file():
                staged[name] = data_dir / name
        if tls_dir.is_dir():
            for f in sorted(tls_dir.iterdir()):
                if f.is_file():
                    staged[f"tls/{f.name}"] = f
        manifest = {
            "format": FORMAT,
            "made_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "hall": hall_id,
            "schema": schema,
            "data_dir": str(data_dir.resolve()),
            "files": {
                name: {"sha256": _sha256(p), "size": p.stat().st_size} for name, p in staged.items()
            },
        }
        partial = Path(tmp) / "archive.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            text = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(text), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(text))
            for name, path in staged.items():
                _add(tar, name, path)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, out)
    return manifest


def _controller_running(data_dir: Path) -> bool:
    lock = data_dir / f"{DB_FILE}.lock"
    if not lock.is_file():
        return False
    with open(lock, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.loads(tar.extractfile(member).read())
        files = manifest["files"]
        if manifest.get("format") != FORMAT or DB_FILE not in files:
            raise ValueError
        manifest["schema"] = int(manifest.get("schema") or 0)
    except (KeyError, ValueError, TypeError, AttributeError):
        raise BackupError(f"{archive}: not a OneWindow backup (no valid {MANIFEST})") from None
    for name in files:
        if name not in (DB_FILE, *KEY_FILES, *OPTIONAL_FILES) and not TLS_NAME.match(name):
            raise BackupError(
                f"{archive}: unexpected file {name!r} in the backup; nothing restored"
            )
    return manifest


def _extract(tar: tarfile.TarFile, manifest: dict, archive: Path, into: Path) -> None:
    for name, meta in manifest["files"].items():
        try:
            member = tar.getmember(name)
        except KeyError:
            raise BackupError(
                f"{archive}: {name} is missing from the backup; nothing restored"
            ) from None
        if not member.isfile():
            raise BackupError(f"{archive}: {name} is not a plain file; nothing restored")
        dest = into / (TLS_DIR / name[4:] if name.startswith("tls/") else name)
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        h = hashlib.sha256()
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            src = tar.extractfile(member)
            for block in iter(functools.partial(src.read, 1 << 20), b""):
                h.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != meta["sha256"]:
            raise BackupError(
                f"{archive}: {name} does not match its checksum (damaged archive); nothing restored"
            )


def restore_backup(archive: Path, data_dir: Path) -> dict:
    """Unpack into `data_dir`, which must not exist or be empty; returns the manifest."""
    archive, data_dir = Path(archive), Path(data_dir).resolve()
    if _controller_running(data_dir):
        raise BackupError(
            f"{data_dir} is in use by a running OneWindow controller: stop it, and "
            f"restore into a new directory",
            3,
        )
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupError(f"{data_dir} is a file: give a directory that does not exist or is empty")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(
            f"{data_dir} is not empty: restore into a new directory (or move this "
            f"one aside first); nothing was changed"
        )
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except FileNotFoundError:
        raise BackupError(f"{archive}: no such file") from None
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive}: not a OneWindow backup ({exc})") from None
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with tar, tempfile.TemporaryDirectory(dir=data_dir.parent, prefix=".onewindow-restore-") as tmp:
        try:
            manifest = _read_manifest(tar, archive)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(
                f"{archive}: the archive is damaged or cut short ({exc}); nothing restored"
            ) from None
        if manifest["schema"] > SCHEMA_VERSION:
            raise BackupError(
                f"{archive}: made by a newer OneWindow (schema {manifest['schema']}; "
                f"this one knows {SCHEMA_VERSION}): restore it with that version"
            )
        staging = Path(tmp) / "data"
        staging.mkdir(mode=0o700)
        try:
            _extract(tar, manifest, archive, staging)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(
                f"{archive}: the archive is damaged ({exc}); nothing restored"
            ) from None
        if data_dir.exists():
            data_dir.rmdir()  # empty, checked above: the rename puts the whole dir
        os.rename(staging, data_dir)
    return manifest


def cmd_backup(args) -> int:
    try:
        m = make_backup(Path(args.data_dir), Path(args.out), args.tls_dir)
    except BackupError as exc:
        print(f"onewindow backup: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {args.out}: hall {m['hall']!r}, schema {m['schema']}, {', '.join(m['files'])}")
    secrets = "the citizen key" + (" and the CA key" if "tls/ca.key" in m["files"] else "")
    print(f"it holds {secrets}: keep it where only the hall's operators can read it")
    return 0


def cmd_restore(args) -> int:
    try:
        m = restore_backup(Path(args.file), Path(args.data_dir))
    except BackupError as exc:
        print(f"onewindow restore: {exc}", file=sys.stderr)
        return exc.exit_code
    print(
        f"restored hall {m['hall']!r} (backup of {m['made_at']}, schema {m['schema']}) "
        f"into {args.data_dir}: {', '.join(m['files'])}"
    )
    if any(name.startswith("tls/") for name in m["files"]):
        print(
            f"the hall's CA is in {Path(args.data_dir) / TLS_DIR}: copy it to the broker-config "
            f"--out directory's tls/ before running broker-config there, so devices keep trusting it"
        )
    print(
        f"next: start the hall with --data-dir {args.data_dir} (its private broker takes the "
        f"devices and the CA from there); with a separate Mosquitto, run `onewindow "
        f"broker-config --data-dir {args.data_dir} ...` first"
    )
    if PIN_FILE not in m["files"]:
        print("this backup holds no manager PIN: set one with `onewindow pin set`")
    return 0


def add_parsers(sub) -> None:
    b = sub.add_parser("backup", help="archive a hall's data dir, also while the hall runs")
    b.add_argument("--data-dir", required=True, help="the hall's data dir")
    b.add_argument("--out", required=True, help="the archive to write (tar.gz, mode 0600)")
    b.add_argument(
        "--tls-dir",
        help="the hall's CA and broker certificates, if broker-config "
        "wrote them outside the data dir (e.g. /etc/mosquitto/onewindow/tls)",
    )
    b.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", help="unpack a backup into a new, empty data dir")
    r.add_argument("file", help="the archive `onewindow backup` wrote")
    r.add_argument("--data-dir", required=True, help="a directory that does not exist or is empty")
    r.set_defaults(func=cmd_restore)
