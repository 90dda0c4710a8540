"""A private CUPS daemon for the tests: its own config, spool and log directories under a temp
dir, listening on a free port of 127.0.0.1, never the machine's own cupsd (a fresh machine and
CI have none running). Its queues print with the test backends in tests/fixtures/cups:
`pdfdir` keeps each job's PDF in a directory (a virtual A4 printer), `nopaper` is a printer
out of paper, `jobfails` a printer whose every job fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from busutil import REPO, die_with_parent, free_port

CUPSD = "/usr/sbin/cupsd"
BACKENDS = REPO / "tests" / "fixtures" / "cups"
CUPSD_CONF = """Listen 127.0.0.1:{port}
# and a local socket, as a hall PC's own CUPS is reached by default (lpstat -H: its path)
Listen {root}/cups.sock
LogLevel info
WebInterface No
Browsing No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow all
</Location>
<Location /admin>
  Order allow,deny
  Allow all
</Location>
# the printed forms carry the ID number in full: the spool keeps no document once printed
# (as a hall should set it, docs/forms.md); the job's state is kept a minute, for the client to
# tell a printed job from one CUPS aborted
PreserveJobFiles {preserve_files}
PreserveJobHistory 60
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""
FILES_CONF = """ServerRoot {root}
ServerBin {root}/bin
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/spool
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
User lp
Group lp
Sandboxing Relaxed
"""


class PrivateCups:
    def __init__(self, root: Path, preserve_files: str = "No"):
        self.root = root
        self.port = free_port()
        self.server = f"127.0.0.1:{self.port}"
        self.socket = root / "cups.sock"
        self.out = root / "out"  # where the pdfdir queue's jobs land
        for d in ("bin/backend", "spool", "cache", "state", "log", "ppd"):
            (root / d).mkdir(parents=True, exist_ok=True)
        for d in ("daemon", "notifier"):  # cupsd's own helpers, from the system
            (root / "bin" / d).symlink_to(f"/usr/lib/cups/{d}")
        for backend in BACKENDS.iterdir():
            shutil.copy(backend, root / "bin" / "backend" / backend.name)
            (root / "bin" / "backend" / backend.name).chmod(0o755)  # cupsd refuses others'
        self.out.mkdir()
        self.out.chmod(0o777)  # backends run as lp
        os.chmod(root, 0o755)
        (root / "cupsd.conf").write_text(
            CUPSD_CONF.format(port=self.port, root=root, preserve_files=preserve_files)
        )
        (root / "cups-files.conf").write_text(FILES_CONF.format(root=root))
        self.proc = subprocess.Popen(
            [CUPSD, "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 10
        while subprocess.run(["lpstat", "-h", self.server, "-r"], capture_output=True).returncode:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError(f"private cupsd did not start: {self.log()}")
            time.sleep(0.1)

    def add_queue(self, name: str, uri: str, *options: str) -> None:
        """A raw queue printing to `uri`; `options` as lpadmin's -o ("printer-error-policy=...")."""
        # a cupsd that answers lpstat may still refuse an administrative request for a moment
        # on a loaded machine: tried again for a few seconds, then the reason is shown
        deadline = time.monotonic() + 10
        while True:
            done = subprocess.run(
                ["lpadmin", "-h", self.server, "-p", name, "-E", "-v", uri, "-m", "raw"]
                + [arg for option in options for arg in ("-o", option)],
                capture_output=True,
                text=True,
            )
            if done.returncode == 0:
                return
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(
                    f"lpadmin could not add {name}: {done.stderr.strip()}; cupsd: {self.log()}"
                )
            time.sleep(0.2)

    def spooled(self) -> list[Path]:
        """The job documents cupsd keeps in its spool (d<job>-<n>; c<job> is a job's state)."""
        return sorted((self.root / "spool").glob("d*"))

    def pdfs(self) -> list[Path]:
        return sorted(self.out.glob("job-*.pdf"))

    def wait_pdfs(self, n: int, timeout: float = 15.0) -> list[Path]:
        deadline = time.monotonic() + timeout
        while len(self.pdfs()) < n and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.pdfs()

    def log(self) -> str:
        path = self.root / "log" / "error_log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def private_cups(preserve_files: str = "No") -> Iterator[PrivateCups]:
    """A PrivateCups in a directory of its own under /tmp, removed after: its backends run as
    the user lp, who cannot enter pytest's private temp dirs. `preserve_files` as cupsd.conf's
    PreserveJobFiles (CUPS's own default is a day)."""
    root = Path(tempfile.mkdtemp(prefix="onewindow-cups-"))
    try:
        server = PrivateCups(root, preserve_files)
        try:
            yield server
        finally:
            server.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
