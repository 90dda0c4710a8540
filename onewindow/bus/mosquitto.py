"""The hall's private Mosquitto: `onewindow hall` starts it as a child process and watches it.

Its files (conf, passwd, acl) are the ones `broker-config` writes, made from the device registry
into the data dir. It listens on loopback; devices on the LAN reach it only over TLS with the
hall's own CA. If it dies it is started again at once (the controller reconnects, resubscribes
and republishes every retained state); a device added while the hall runs is let in by
rewriting passwd/acl and sending SIGHUP. Stopping the hall stops it, and so does the hall dying:
the kernel signals the child when its parent goes (PR_SET_PDEATHSIG), so a `kill -9` of the hall
never leaves an orphan broker holding the port. It runs in its own process group, so a Ctrl-C
at the hall's terminal is the hall's to act on: the hall stops the broker, in order, last.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import lograte
from .acl import mosquitto_files
from .devices import DeviceRegistry, hash_secret
from .topics import Topics

log = logging.getLogger(__name__)

START_TIMEOUT_S = 5.0  # from spawn to listening
RESTART_BACKOFF_S = (0.0, 0.2, 0.5, 1.0, 2.0, 5.0)  # a broker that keeps dying is not spun on
STABLE_AFTER_S = 30.0  # running this long resets the backoff
REGISTRY_POLL_S = 1.0  # a device added from the command line gets in within this
LOG_LINES_KEPT = 20
PR_SET_PDEATHSIG = 1
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin")  # Debian's mosquitto is in sbin, off a user's PATH
# Mosquitto's log line prefix is a Unix time stamp: "1795702037: Error: ..."
_STAMP = re.compile(r"^\d+: ")
_DIGITS = re.compile(r"[0-9]+")  # a warning's kind: its words, not its counts or ids


class BrokerError(Exception):
    """The private broker cannot run; the message is one line an installer can act on."""


@dataclass(frozen=True)
class TlsListen:
    """The LAN listener: an address of this box and a port, served with the hall's CA."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> "TlsListen":
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BrokerError(f"--tls-listen {text!r}: use ADDRESS:PORT, e.g. 192.168.1.10:8883")
        return cls(host.strip("[]"), int(port))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_plain_listener(host: str, port: int) -> None:
    """Plain MQTT carries ID numbers in clear: the private broker serves it on loopback only."""
    if not is_loopback(host):
        hint = (
            f" --tls-listen {host}:8883"
            if host not in ("0.0.0.0", "::")
            else " --tls-listen LAN_ADDRESS:8883"
        )
        raise BrokerError(
            f"the hall's private broker serves plain MQTT on loopback only, not "
            f"{host}: keep --mqtt embedded://127.0.0.1:{port or 1883} and add"
            f"{hint} for devices on the LAN (TLS with the hall's CA)"
        )


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_taken(host: str, port: int) -> bool:
    """Bind as Mosquitto will: a listener already there would otherwise answer our readiness probe."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            # anything else (an address not on this box...) is Mosquitto's to report
            return exc.errno == errno.EADDRINUSE
    return False


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the thread that started it ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class PrivateBroker:
    def __init__(
        self,
        data_dir: str | Path,
        topics: Topics,
        registry: DeviceRegistry,
        controller_secret: str,
        host: str = "127.0.0.1",
        port: int = 1883,
        tls: Optional[TlsListen] = None,
        uplink=None,
    ):
        """`uplink` (bridge.Uplink): bridge the hall's events to the city."""
        check_plain_listener(host, port)
        self.uplink = uplink
        self.dir = Path(data_dir) / "mosquitto"
        self.tls_dir = self.dir / "tls"  # where broker-config keeps it too (backups know it)
        self.topics = topics
        self.registry = registry
        self.secret_hash = hash_secret(controller_secret)
        self.host = host
        self.port = port
        self.tls = tls
        self._auto_port = port == 0
        self.proc: Optional[subprocess.Popen] = None
        self.restarts = 0
        self.ca_path: Optional[Path] = None
        self._lines: deque[str] = deque(maxlen=LOG_LINES_KEPT)
        self._stop = threading.Event()
        self._started = threading.Event()
        self._start_error: Optional[BrokerError] = None
        self._thread: Optional[threading.Thread] = None
        self._registry_stamp: Optional[int] = None
        self.fenced: frozenset = frozenset()  # devices whose requests the broker drops
        self._files = threading.Lock()  # the supervisor and the controller write them

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "PrivateBroker":
        """Listening when this returns, or BrokerError saying why not."""
        binary = shutil.which(
            "mosquitto", path=os.pathsep.join([os.environ.get("PATH", os.defpath), *SBIN_DIRS])
        )
        if binary is None:
            raise BrokerError(
                "mosquitto is not installed: apt-get install mosquitto "
                "(or run against an external broker with --mqtt mqtt://HOST:PORT)"
            )
        self.binary = binary
        if self.tls:
            from .tls import TlsError, make_hall_certs

            try:
                certs = make_hall_certs(self.tls_dir, [self.tls.host])
            except TlsError as exc:
                raise BrokerError(f"cannot make the hall's TLS certificates: {exc}") from None
            self.ca_path = certs["ca"]
            self._certs = certs
        # the supervisor thread spawns every broker process: PDEATHSIG follows the spawning
        # thread, and this one lives exactly as long as the hall wants a broker
        self._thread = threading.Thread(
            target=self._supervise, name="mosquitto-supervisor", daemon=True
        )
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            self._thread.join(2)
            raise self._start_error
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        self._terminate()

    def reload(self) -> None:
        """New passwd/acl from the registry, taken up by the running broker without a restart."""
        with self._files:
            self._write_files()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGHUP)
            log.info("private broker: device list reloaded (%d devices)", len(self.registry.list()))

    def fence(self, device_ids) -> None:
        """From now on the broker drops requests from these devices (and from no others): a
        flood is stopped in Mosquitto, before it fills the controller's queue (bus/budget.py)."""
        fenced = frozenset(device_ids)
        if fenced != self.fenced:
            self.fenced = fenced
            self.reload()

    # -- files -------------------------------------------------------------------------------

    def _write_files(self) -> Path:
        tls = None
        if self.tls:
            tls = {"port": self.tls.port, "host": self.tls.host, **self._certs}
        self._registry_stamp = self._registry_mtime()
        files = mosquitto_files(
            self.topics,
            self.registry.list(),
            self.secret_hash,
            self.dir,
            port=self.port,
            host=self.host,
            run_as=_user(),
            tls=tls,
            made_by="onewindow hall (its private broker, rewritten at every start)",
            fenced=self.fenced,
            uplink=self.uplink,
        )
        return files[-1]

    def _registry_mtime(self) -> Optional[int]:
        try:
            return self.registry.path.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    # -- the supervisor thread ---------------------------------------------------------------

    def _supervise(self) -> None:
        try:
            self._first_start()
        except BrokerError as exc:
            self._start_error = exc
            self._started.set()
            return
        self._started.set()
        failures = 0
        while not self._stop.is_set():
            started_at = time.monotonic()
            code = self._watch()
            if self._stop.is_set():
                break
            if time.monotonic() - started_at >= STABLE_AFTER_S:
                failures = 0
            error = self._last_error()
            log.error(
                "private broker exited (code %s)%s; starting it again",
                code,
                f": {error}" if error else "",
            )
            while not self._stop.wait(RESTART_BACKOFF_S[min(failures, len(RESTART_BACKOFF_S) - 1)]):
                failures += 1
                try:
                    self._spawn()
                except BrokerError as exc:
                    log.error("private broker did not come back: %s", exc)
                    continue
                self.restarts += 1
                log.warning(
                    "private broker running again on %s:%d (restart %d)",
                    self.host,
                    self.port,
                    self.restarts,
                )
                break
        self._terminate()

    def _watch(self) -> Optional[int]:
        """Until the broker exits (its exit code) or the hall stops; new devices on the way."""
        proc = self.proc
        while proc is not None and not self._stop.is_set():
            try:
                return proc.wait(REGISTRY_POLL_S)
            except subprocess.TimeoutExpired:
                pass
            if self._registry_mtime() != self._registry_stamp:
                self.reload()
        return None

    def _first_start(self) -> None:
        for attempt in range(3):
            if self._auto_port:
                self.port = free_port(self.host)
            try:
                self._spawn()
                return
            except _PortTaken as taken:
                # a port picked for us was taken between the pick and the bind: pick again
                if not self._auto_port or attempt == 2:
                    port = str(taken).rpartition(":")[2]
                    debian = (
                        " On Debian the mosquitto package starts a broker of its own there: "
                        "`systemctl disable --now mosquitto` (the hall runs its own)."
                        if port == "1883"
                        else ""
                    )
                    raise BrokerError(
                        f"{taken} is already in use (another broker or hall? "
                        f"`ss -ltnp 'sport = :{port}'` shows which program); stop it or "
                        f"choose another port.{debian}"
                    ) from None

    def _spawn(self) -> None:
        for host, port in self._ports():
            if port_taken(host, port):
                raise _PortTaken(f"{host}:{port}")
        with self._files:
            conf = self._write_files()
        self._lines.clear()
        try:
            proc = subprocess.Popen(
                [self.binary, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
                # its own process group: a Ctrl-C at the terminal (SIGINT to the hall's group)
                # reaches the hall only, which then stops the broker in order; otherwise the
                # broker would exit first and the supervisor would start it again
                process_group=0,
                close_fds=True,
            )
        except OSError as exc:
            raise BrokerError(f"cannot run {self.binary}: {exc.strerror}") from None
        self.proc = proc
        threading.Thread(target=self._pump, args=(proc,), name="mosquitto-log", daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = self._ports()
        while waiting:
            if proc.poll() is not None:
                self._drain(proc)
                error = self._last_error()
                if "Address already in use" in error:
                    raise _PortTaken(f"{self.host}:{self.port}")
                raise BrokerError(
                    f"Mosquitto refused to start ({conf}): "
                    f"{error or 'exit code ' + str(proc.returncode)}"
                )
            if time.monotonic() > deadline:
                self._terminate()
                raise BrokerError(
                    f"Mosquitto did not listen on {self.host}:{self.port} within "
                    f"{START_TIMEOUT_S:.0f} s"
                )
            host, port = waiting[0]
            try:
                socket.create_connection((host, port), 0.2).close()
                waiting.pop(0)
            except OSError:
                time.sleep(0.01)
        log.info(
            "private broker (Mosquitto, pid %d) on %s:%d%s",
            proc.pid,
            self.host,
            self.port,
            f", TLS on {self.tls.host}:{self.tls.port}" if self.tls else "",
        )

    def _ports(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)] + ([(self.tls.host, self.tls.port)] if self.tls else [])

    def _pump(self, proc: subprocess.Popen) -> None:
        """Mosquitto's own log into ours (journald under systemd), its errors kept for messages."""
        for raw in proc.stdout:
            line = _STAMP.sub("", raw.decode("utf-8", "replace").rstrip())
            if not line:
                continue
            self._lines.append(line)
            if line.startswith("Error"):
                log.error("mosquitto: %s", line)
            elif line.startswith("Warning") and "run as root" not in line:
                # one line per kind a minute: a device's flood makes one warning per message
                kind = _DIGITS.sub("#", line)[:60]
                lograte.warn(log, ("mosquitto", kind), "mosquitto: %s", line)
            else:
                log.debug("mosquitto: %s", line)
        proc.stdout.close()

    def _drain(self, proc: subprocess.Popen) -> None:
        """After an exit: give the log pump a moment to take the last lines."""
        deadline = time.monotonic() + 1.0
        while not proc.stdout.closed and time.monotonic() < deadline:
            time.sleep(0.01)

    def _last_error(self) -> str:
        errors = [ln for ln in self._lines if ln.startswith("Error")]
        return "; ".join(e.removeprefix("Error: ") for e in errors[-2:])

    def _terminate(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class _PortTaken(BrokerError):
    pass


def _user() -> str:
    """Mosquitto started as root drops to this user; as the hall's own user it stays that user."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return "mosquitto"
