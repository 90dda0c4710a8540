"""Headless Chromium for the QR pages, driven over the DevTools protocol on a pipe (no driver
package): open a page, tap an element where a finger would (real mouse events at its centre),
type, read the DOM. Debian's `chromium` package; tests skip when it is not installed."""
from __future__ import annotations

import itertools
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    def __init__(self, width: int = 420, height: int = 900):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="ow-chromium-")

        def fds():              # the DevTools pipe is fd 3 (commands in) and 4 (replies out)
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={self._profile}", f"--window-size={width},{height}",
             "--no-first-run", "--disable-extensions", "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._ids = itertools.count(1)
        self._replies: dict[int, queue.Queue] = {}
        self._events: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target,
                                                          "flatten": True})["sessionId"]
        self.send("Page.enable", session=True)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        q = self._replies.get(msg["id"])
                    if q is not None:
                        q.put(msg)
                else:
                    self._events.put(msg)

    def send(self, method: str, params: dict | None = None, session: bool = False,
             timeout: float = 15) -> dict:
        n = next(self._ids)
        msg = {"id": n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        q: queue.Queue = queue.Queue()
        with self._lock:
            self._replies[n] = q
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        reply = q.get(timeout=timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _drain(self) -> None:
        while not self._events.empty():
            self._events.get_nowait()

    def _wait_event(self, method: str, timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ev = self._events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if ev.get("method") == method:
                return ev
        raise TimeoutError(f"no {method} within {timeout} s")

    def goto(self, url: str) -> None:
        self._drain()
        self.send("Page.navigate", {"url": url}, session=True)
        self._wait_event("Page.loadEventFired")

    def js(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def text(self, selector: str = "body") -> str:
        return self.js(f"(document.querySelector({json.dumps(selector)})||{{}}).innerText||''")

    def exists(self, selector: str) -> bool:
        return bool(self.js(f"!!document.querySelector({json.dumps(selector)})"))

    def visible(self, selector: str) -> bool:
        return bool(self.js(f"(function(e){{return !!e && e.offsetParent !== null}})"
                            f"(document.querySelector({json.dumps(selector)}))"))

    def tap(self, selector: str, navigates: bool = False) -> None:
        """A finger on the element's centre (scrolled into view first): mouse down and up."""
        box = self.js(f"(function(e){{if(!e)return null;e.scrollIntoView({{block:'center'}});"
                      f"var r=e.getBoundingClientRect();return [r.x+r.width/2,r.y+r.height/2]}})"
                      f"(document.querySelector({json.dumps(selector)}))")
        if box is None:
            raise AssertionError(f"no {selector} on the page: {self.text()[:400]}")
        if navigates:
            self._drain()
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1},
                      session=True)
        if navigates:
            self._wait_event("Page.loadEventFired")

    def type(self, selector: str, text: str) -> None:
        self.tap(selector)
        self.send("Input.insertText", {"text": text}, session=True)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, queue.Empty, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        shutil.rmtree(self._profile, ignore_errors=True)
