"""QR pages benchmark: `onewindow web` under 100 phones at once, and under hostile clients.

A real hall: the controller as its own process behind a private Mosquitto, `onewindow web` as its
own process (exactly the command a hall runs), and the phones as threads here, each with its
own ticket and real sockets (a new connection per page, as a phone re-scanning its QR does).
Each phone loads its ticket's status page six times, the guide index, two service guides and,
when its ticket is done, posts a 好差评 rating (else a third guide). A page counts as an error
unless it is a 200 carrying what the phone asked for (its ticket number, the guide's name).

Then the hostile clients the issue measured (--no-hostile skips them): a 200 MB body sent with
`Content-Length: -1`, 300 half-sent requests, and `Content-Length: abc`.

Usage:
    .venv/bin/python bench/bench_web.py [--clients 100] [--pages 10] [--no-hostile]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from busutil import Mosquitto, free_port, unlimited_config, wait_for, wait_port  # noqa: E402
from onewindow.bus.client import DeviceClient  # noqa: E402
from onewindow.bus.devices import DeviceRegistry  # noqa: E402

HUGE_BODY_MB = 200
HALF_SENT = 300
HALF_SENT_WAIT_S = 30  # the observation window
CHUNK = b"x" * (1 << 20)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] * 1000


def proc_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mb(pid: int) -> float:
    return proc_status(pid, "VmRSS") / 1024


def peak_mb(pid: int) -> float:
    return proc_status(pid, "VmHWM") / 1024


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS (needs root or same user)


class Site:
    """A hall on Mosquitto plus `onewindow web`, each its own process; tickets for the phones."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="ow-bench-web-"))
        self.broker = self.hall = self.web = None
        self.logs: list = []
        self.clients: dict[str, DeviceClient] = {}

    def start(self, n_tickets: int) -> None:
        data = self.tmp / "data"
        config = unlimited_config(self.tmp)
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
        self.hall_id = raw["hall"]["id"]
        self.guides = [(s["code"], s["name"]) for s in raw["services"]]
        windows = [w["number"] for w in raw["windows"] if not w.get("pickup")]
        reg = DeviceRegistry(data)
        # the tickets come from the duty desk (role caller): a kiosk takes only a busy hour's
        # numbers at once (bus/budget.py)
        secrets = {
            "desk-1": reg.add("desk-1", "caller", [windows[0]]),
            "web-1": reg.add("web-1", "web"),
        }
        for w in windows:
            secrets[f"caller-{w}"] = reg.add(f"caller-{w}", "caller", [w])
        self.broker = Mosquitto(data, self.hall_id).start()
        self.hall = self._spawn(
            "hall",
            ["hall", "--config", str(config), "--data-dir", str(data), "--mqtt", self.broker.url],
        )
        url = self.broker.url
        desk = DeviceClient(
            url, "desk-1", secrets["desk-1"], self.hall_id, events=(), windows_state=False
        ).start(wait=10)
        self.clients["desk-1"] = desk
        wait_for(lambda: desk.controller_online, timeout=20)
        web_cfg = self.tmp / "web.json"
        web_cfg.write_text(
            json.dumps(
                {"mqtt": url, "device": "web-1", "secret": secrets["web-1"], "hall": self.hall_id}
            ),
            encoding="utf-8",
        )
        self.port = free_port()
        self.web = self._spawn(
            "web", ["web", "--device-config", str(web_cfg), "--listen", f"127.0.0.1:{self.port}"]
        )
        wait_port(self.port, timeout=20)

        # one ticket per phone
        codes = [c for c, _ in self.guides]
        self.tickets = [
            desk.request("ticket.issue", {"service": codes[i % len(codes)]})["ticket"]
            for i in range(n_tickets)
        ]
        for t in self.tickets:  # a phone opens its ticket's page by the QR code's page key
            t["page"] = t["status_url"].rsplit("/", 1)[1]
        callers = {}
        for w in windows:
            c = DeviceClient(
                url,
                f"caller-{w}",
                secrets[f"caller-{w}"],
                self.hall_id,
                events=(),
                windows_state=False,
            ).start(wait=10)
            self.clients[f"caller-{w}"] = c
            c.request("window.open", {"window": w})
            callers[w] = c
        # half the tickets served already (whichever routing gives the windows), so those
        # phones can rate
        self.done = set()
        progress = True
        while progress and len(self.done) < n_tickets // 2:
            progress = False
            for w, c in callers.items():
                t = c.request("window.call_next", {"window": w, "current": "done"}).get("ticket")
                if t is not None:
                    c.request("window.finish", {"window": w})
                    self.done.add(t["id"])
                    progress = True

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")
        self.logs.append(log)
        return subprocess.Popen(
            [sys.executable, "-m", "onewindow.cli", "--log-level", "WARNING", *argv],
            stdout=log,
            stderr=log,
            cwd=REPO,
        )

    def close(self) -> None:
        """Whatever was started, stopped: the processes first, so none outlives a failed run."""
        for proc in (self.web, self.hall):
            if proc is None:
                continue
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for name, c in self.clients.items():  # before the broker: no reconnect complaints
            try:
                c.stop()
            except Exception as exc:  # a client's own teardown must not hide the figures
                print(f"({name} did not stop cleanly: {exc!r})", flush=True)
        if self.broker is not None:
            self.broker.stop()
        for log in self.logs:
            log.close()


def fetch(
    port: int, method: str, path: str, body: bytes | None = None, source: str = "127.0.0.1"
) -> tuple[int, str]:
    """`source`: the loopback address the request comes from (phones have one each, and the
    server holds at most httpserver.PER_CLIENT_LIMIT connections from one)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def phone_pages(site: Site, i: int, n_pages: int) -> list[tuple[str, str, bytes | None, str]]:
    """(method, path, body, text the page must carry) for phone i."""
    t = site.tickets[i % len(site.tickets)]
    g = [site.guides[(i + k) % len(site.guides)] for k in range(3)]
    pages = [("GET", f"/t/{t['page']}", None, t["number"])] * 6  # kind: the path's first part
    pages += [("GET", "/", None, "办事指南")]
    pages += [("GET", f"/guide/{code}", None, name) for code, name in g[:2]]
    if t["id"] in site.done:
        form = urlencode([("level", "4")]).encode()
        pages.append(("POST", f"/t/{t['page']}/rate", form, t["number"]))
    else:
        pages.append(("GET", f"/guide/{g[2][0]}", None, g[2][1]))
    return (pages * (n_pages // len(pages) + 1))[:n_pages]


def page_kind(method: str, path: str) -> str:
    if method == "POST":
        return "rating (POST)"
    return {"": "index", "t": "ticket status", "guide": "guide"}[path.strip("/").split("/")[0]]


def load(site: Site, n_clients: int, n_pages: int) -> dict:
    lat: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(n_clients)

    def phone(i):
        mine, bad, kinds = [], [], []
        pages = phone_pages(site, i, n_pages)
        start.wait()
        for method, path, body, expect in pages:
            t0 = time.perf_counter()
            try:
                status, text = fetch(site.port, method, path, body, f"127.0.1.{i % 250 + 1}")
                if status != 200:
                    bad.append(f"HTTP {status}")
                elif expect not in text:
                    bad.append("wrong page")
            except (OSError, http.client.HTTPException) as exc:
                bad.append(type(exc).__name__)
            mine.append(time.perf_counter() - t0)
            kinds.append(page_kind(method, path))
        with lock:
            lat.extend(mine)
            for kind, x in zip(kinds, mine, strict=True):
                by_kind.setdefault(kind, []).append(x)
            for kind in bad:
                errors[kind] = errors.get(kind, 0) + 1

    threads_before = proc_status(site.web.pid, "Threads")
    procs = {
        "web": site.web.pid,
        "hall": site.hall.pid,
        "mosquitto": site.broker.broker.proc.pid,
        "phones": os.getpid(),
    }
    cpu0 = {name: cpu_s(pid) for name, pid in procs.items()}
    workers = [threading.Thread(target=phone, args=(i,)) for i in range(n_clients)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    cpu = {name: cpu_s(pid) - cpu0[name] for name, pid in procs.items()}
    return {
        "cpu": cpu,
        "by_kind": {k: (len(v), pct(v, 50), pct(v, 99)) for k, v in by_kind.items()},
        "requests": len(lat),
        "errors": errors,
        "wall_s": wall,
        "per_s": len(lat) / wall,
        "p50": pct(lat, 50),
        "p90": pct(lat, 90),
        "p99": pct(lat, 99),
        "max": max(lat) * 1000,
        "threads_before": threads_before,
        "threads_after": proc_status(site.web.pid, "Threads"),
        "rss": rss_mb(site.web.pid),
    }


def read_answer(sock: socket.socket, timeout: float) -> str:
    """The status line the server sent, or what happened instead."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            got = sock.recv(4096)
            if not got:
                break
            data += got
    except TimeoutError:
        return "no answer"
    except OSError as exc:
        return f"{type(exc).__name__}" + (f" after {data[:12]!r}" if data else "")
    return data.split(b"\r\n")[0].decode("latin-1") if data else "closed, no answer"


def huge_body(site: Site) -> dict:
    """200 MB sent as `Content-Length: -1`, the way a hostile or broken client would."""
    t = site.tickets[0]["page"]
    reset_peak(site.web.pid)
    before = rss_mb(site.web.pid)
    sent = 0
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", site.port), timeout=30) as s:
        s.sendall(f"POST /t/{t}/rate HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".encode())
        try:
            while sent < HUGE_BODY_MB << 20:
                if select.select([s], [], [], 0)[0]:  # answered already: stop sending
                    break
                s.sendall(CHUNK)
                sent += len(CHUNK)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server hung up on the body
        answer = read_answer(s, 30)
    return {
        "answer": answer,
        "sent_mb": sent / (1 << 20),
        "s": time.perf_counter() - t0,
        "rss_before": before,
        "peak": peak_mb(site.web.pid),
        "rss_after": rss_mb(site.web.pid),
    }


def half_sent(site: Site) -> dict:
    """300 requests that stop before their headers end, held open; meanwhile a phone asks a page."""
    socks = []
    t0 = time.perf_counter()
    for i in range(HALF_SENT):  # 50 from each address, the most one may hold
        s = socket.create_connection(
            ("127.0.0.1", site.port), timeout=10, source_address=(f"127.0.2.{i // 50 + 1}", 0)
        )
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: slow")
        socks.append(s)
    time.sleep(2)
    threads_held = proc_status(site.web.pid, "Threads")
    p0 = time.perf_counter()
    try:
        status, _ = fetch(site.port, "GET", "/")
        other = f"HTTP {status} in {(time.perf_counter() - p0) * 1000:.0f} ms"
    except (OSError, http.client.HTTPException) as exc:
        other = f"{type(exc).__name__} after {(time.perf_counter() - p0):.1f} s"
    closed, when = 0, None
    deadline = t0 + HALF_SENT_WAIT_S
    open_socks = list(socks)
    while open_socks and time.perf_counter() < deadline:
        readable, _, _ = select.select(open_socks, [], [], 0.5)
        for s in readable:
            try:
                gone = s.recv(1) == b""
            except OSError:
                gone = True
            if gone:
                open_socks.remove(s)
                closed += 1
        if closed == HALF_SENT and when is None:
            when = time.perf_counter() - t0
    threads_end = proc_status(site.web.pid, "Threads")
    for s in socks:
        s.close()
    return {
        "threads_held": threads_held,
        "other": other,
        "closed": closed,
        "closed_s": when,
        "threads_end": threads_end,
    }


def bad_length(site: Site) -> str:
    t = site.tickets[0]["page"]
    with socket.create_connection(("127.0.0.1", site.port), timeout=10) as s:
        s.sendall(
            f"POST /t/{t}/rate HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nlevel=5".encode()
        )
        return read_answer(s, 10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--no-hostile", action="store_true")
    a = ap.parse_args()
    sys.setswitchinterval(0.0005)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}", flush=True)
    site = Site()
    try:
        site.start(a.clients)
        print(
            f"onewindow web: RSS {rss_mb(site.web.pid):.0f} MB, "
            f"{proc_status(site.web.pid, 'Threads')} threads at rest (pid {site.web.pid}; "
            f"hall pid {site.hall.pid})",
            flush=True,
        )
        r = load(site, a.clients, a.pages)
        errs = ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items())) or "none"
        n_err = sum(r["errors"].values())
        print(
            f"{a.clients} phones x {a.pages} pages: {r['requests']} requests in {r['wall_s']:.1f} s "
            f"= {r['per_s']:.0f}/s; errors {n_err} ({n_err * 1000 / r['requests']:.1f} per 1,000: {errs}); "
            f"latency p50 {r['p50']:.0f} ms p90 {r['p90']:.0f} ms p99 {r['p99']:.0f} ms "
            f"max {r['max']:.0f} ms; web threads {r['threads_before']} -> {r['threads_after']}, "
            f"RSS {r['rss']:.0f} MB",
            flush=True,
        )
        print(
            "  by page: "
            + "; ".join(
                f"{k} x{n} p50 {p50:.0f} ms p99 {p99:.0f} ms"
                for k, (n, p50, p99) in sorted(r["by_kind"].items())
            ),
            flush=True,
        )
        print(
            "CPU seconds during the load: "
            + ", ".join(f"{k} {v:.2f}" for k, v in r["cpu"].items()),
            flush=True,
        )
        if a.no_hostile:
            return
        h = huge_body(site)
        print(
            f"{HUGE_BODY_MB} MB body, Content-Length -1: answer '{h['answer']}' after "
            f"{h['sent_mb']:.0f} MB sent, {h['s']:.1f} s; web RSS {h['rss_before']:.0f} MB -> "
            f"peak {h['peak']:.0f} MB, {h['rss_after']:.0f} MB after",
            flush=True,
        )
        print(f"Content-Length abc: answer '{bad_length(site)}'", flush=True)
        s = half_sent(site)
        closed = (
            f"all dropped {s['closed_s']:.1f} s after they were opened"
            if s["closed_s"]
            else f"{s['closed']} dropped within {HALF_SENT_WAIT_S} s"
        )
        print(
            f"{HALF_SENT} half-sent requests: web threads {s['threads_held']} while held; "
            f"another phone meanwhile: {s['other']}; {closed}; "
            f"web threads {s['threads_end']} at the end",
            flush=True,
        )
    finally:
        site.close()


if __name__ == "__main__":
    main()
