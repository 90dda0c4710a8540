"""The hall's own certificate authority for MQTT over TLS (the hall LAN carries ID numbers).

Made with the `openssl` command every Debian box has: a CA that stays on the controller, and a
broker certificate for the addresses devices use. Devices get `ca.crt` only.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path


class TlsError(Exception):
    pass


def _run(*args: str) -> None:
    out = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise TlsError(f"openssl {args[0]} failed: {out.stderr.strip()[-300:]}")


def _san(hosts: list[str]) -> str:
    names = []
    for h in hosts:
        try:
            ipaddress.ip_address(h)
            names.append(f"IP:{h}")
        except ValueError:
            names.append(f"DNS:{h}")
    return "subjectAltName=" + ",".join(names)


def make_hall_certs(out_dir: Path, hosts: list[str], days: int = 3650) -> dict[str, Path]:
    """ca.crt/ca.key (kept, reused) and server.crt/server.key for `hosts`; returns the paths."""
    if shutil.which("openssl") is None:
        raise TlsError("openssl is not installed (apt-get install openssl)")
    out_dir.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = out_dir / "ca.key", out_dir / "ca.crt"
    if not (ca_key.exists() and ca_crt.exists()):  # a new CA would orphan every device's copy
        _run(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            str(days),
            "-subj",
            "/CN=OneWindow hall CA",
            "-keyout",
            str(ca_key),
            "-out",
            str(ca_crt),
        )
    ext = out_dir / "server.ext"
    ext.write_text(_san(hosts) + "\n", encoding="ascii")
    crt, key = sign(out_dir, "server", hosts[0], days, ext)
    ext.unlink()
    ca_key.chmod(0o600)
    return {"ca": ca_crt, "cert": crt, "key": key}


def sign(
    ca_dir: Path, name: str, common_name: str, days: int = 3650, ext: Path | None = None
) -> tuple[Path, Path]:
    """NAME.crt and NAME.key (owner-only) in `ca_dir`: a new key, its certificate for
    `common_name` signed by the CA kept there, with the extensions in `ext` if given."""
    key, csr, crt = ca_dir / f"{name}.key", ca_dir / f"{name}.csr", ca_dir / f"{name}.crt"
    _run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={common_name}",
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    _run(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_dir / "ca.crt"),
        "-CAkey",
        str(ca_dir / "ca.key"),
        "-CAcreateserial",
        "-days",
        str(days),
        *(["-extfile", str(ext)] if ext else []),
        "-out",
        str(crt),
    )
    csr.unlink()
    key.chmod(0o600)
    return crt, key
