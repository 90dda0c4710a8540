"""The hall's HTTP server: waitress, with the limits a public Wi-Fi needs, answering its own
refusals (400, 413, 431) with the same short zh-CN pages as the app.

Phones on the hall's Wi-Fi are anyone's. waitress reads every connection in one event loop and
hands only complete requests to a fixed pool of threads, so a slow or half-sent request costs a
socket, never a thread; it checks Content-Length before reading a byte of the body. The limits:

- a body over BODY_LIMIT (64 KB) gets 413 before it is read; a malformed or negative
  Content-Length gets 400 (waitress's parser); a POST without one gets 411 (the app);
- a connection that sends nothing for IDLE_TIMEOUT_S, whether mid-header, mid-body or idle
  between requests, is closed (checked every CLEANUP_S, so it goes within ~TIMEOUT + 2 s);
- at most CONNECTION_LIMIT connections at once; more wait in the kernel's listen queue
  (BACKLOG) until one closes, and are served then.

    server = HttpServer(routes, "0.0.0.0", 8080)
    server.serve_forever()          # or server.start() for a thread; server.shutdown() stops it
"""

from __future__ import annotations

import logging
import threading

from waitress import create_server, wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask
from waitress.utilities import Error

from .wsgi import BODY_LIMIT, error_page, status_line

log = logging.getLogger(__name__)

THREADS = 100  # pages in hand at once: each mostly waits on the controller
CONNECTION_LIMIT = 500  # open connections; a phone keeps one or two
BACKLOG = 1024  # connections the kernel queues beyond that
IDLE_TIMEOUT_S = 10  # seconds without a byte before a connection is dropped
CLEANUP_S = 1  # how often idle connections are looked for
HEADER_LIMIT = 8 * 1024  # bytes of request headers (we set no cookies)
LOOP_S = 1.0  # the event loop's longest wait; shutdown wakes it sooner


class _ZhError(Error):
    """A refusal of waitress's (400, 413, 431 ...) worded as the app's zh-CN page."""

    def __init__(self, code: int):
        super().__init__("")
        self.code = code

    def to_response(self, *_ident):
        return (
            status_line(self.code),
            [("Content-Type", "text/html; charset=utf-8")],
            error_page(self.code).encode("utf-8"),
        )


class _ZhErrorTask(ErrorTask):
    """waitress's error task (it closes the connection after), with our page for its text/plain."""

    def execute(self):
        code = self.request.error.code
        log.info("web: request refused before the app: %d", code)
        self.request.error = _ZhError(code)
        super().execute()


class _Channel(HTTPChannel):
    error_task_class = _ZhErrorTask


class HttpServer:
    """A WSGI app served on host:port until shutdown(); port 0 picks a free one (see .port)."""

    def __init__(
        self,
        app,
        host: str,
        port: int,
        *,
        threads: int = THREADS,
        connection_limit: int = CONNECTION_LIMIT,
        idle_timeout_s: int = IDLE_TIMEOUT_S,
        cleanup_s: int = CLEANUP_S,
    ):
        self._map: dict = {}
        try:
            self._server = create_server(
                app,
                map=self._map,
                host=host,
                port=port,
                threads=threads,
                connection_limit=connection_limit,
                backlog=BACKLOG,
                channel_timeout=idle_timeout_s,
                cleanup_interval=cleanup_s,
                # waitress refuses a body of exactly max_request_body_size: allow BODY_LIMIT itself
                max_request_body_size=BODY_LIMIT + 1,
                max_request_header_size=HEADER_LIMIT,
                asyncore_use_poll=True,  # select() stops at descriptor 1024
                ident="OneWindow",
                expose_tracebacks=False,
                clear_untrusted_proxy_headers=True,  # no proxy in front: X-Forwarded-* are lies
                log_socket_errors=False,
            )  # a phone leaving the Wi-Fi is no error
        except OSError:  # address taken: close what waitress opened
            wasyncore.close_all(self._map)
            raise
        self._listeners = [d for d in self._map.values() if isinstance(d, BaseWSGIServer)]
        for listener in self._listeners:
            listener.channel_class = _Channel
        # waitress logs a dropped client with the path it asked for, and paths carry ticket ids
        logging.getLogger("waitress").setLevel(logging.WARNING)
        self._stop = threading.Event()
        self._serving = threading.Event()
        self._done = threading.Event()
        self._closing = threading.RLock()  # stop() may run in a signal handler amid _close()
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._listeners[0].effective_port)

    def serve_forever(self) -> None:
        log.info(
            "web: serving on port %d (body limit %d KB, idle timeout %d s, %d connections)",
            self.port,
            BODY_LIMIT // 1024,
            self._server.adj.channel_timeout,
            self._server.adj.connection_limit,
        )
        self._serving.set()
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=LOOP_S, map=self._map, use_poll=True, count=1)
        finally:
            self._close()
            self._done.set()

    def start(self) -> "HttpServer":
        """serve_forever on a thread of its own."""
        self._thread = threading.Thread(target=self.serve_forever, name="web", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask serve_forever to end; returns at once (a signal handler may call it)."""
        self._stop.set()
        with self._closing:
            if not self._closed:
                self._listeners[0].pull_trigger()

    def shutdown(self) -> None:
        """Stop serving and close every socket; returns once that is done."""
        self.stop()
        if self._serving.is_set():
            self._done.wait()
        else:
            self._close()
        if self._thread is not None:
            self._thread.join()

    def server_close(self) -> None:
        """Close every socket (what shutdown() already did, if serve_forever ran)."""
        self._close()

    def _close(self) -> None:
        with self._closing:
            if self._closed:
                return
            self._closed = True
            self._server.task_dispatcher.shutdown()
            wasyncore.close_all(self._map)
