"""The hall's HTTP server: waitress, with the limits a public Wi-Fi needs, answering its own
refusals (400, 413, 431) with the same short zh-CN pages as the app.

Phones on the hall's Wi-Fi are anyone's. waitress reads every connection in one event loop and
hands only complete requests to a fixed pool of threads, so a slow or half-sent request costs a
socket, never a thread; it checks Content-Length before reading a byte of the body. The limits:

- a body over BODY_LIMIT (64 KB) gets 413 before it is read; a malformed or negative
  Content-Length gets 400 (waitress's parser); a POST without one gets 411 (the app);
- a connection that sends nothing for IDLE_TIMEOUT_S, whether mid-header, mid-body or idle
  between requests, is closed (checked every CLEANUP_S, so it goes within ~TIMEOUT + 2 s);
- a request whose headers are not all in HEADER_DEADLINE_S after its first byte, or whose body
  is not all in BODY_DEADLINE_S after it, is closed however steadily it trickles: the idle
  timeout alone measures silence, and a byte every 9 s would hold a connection for ever;
- at most CONNECTION_LIMIT connections at once; more wait in the kernel's listen queue
  (BACKLOG) until one closes, and are served then;
- at most PER_CLIENT_LIMIT of them from one address: one client cannot take them all. More are
  closed as soon as they are accepted.

    server = HttpServer(routes, "0.0.0.0", 8080)
    server.serve_forever()          # or server.start() for a thread; server.shutdown() stops it
"""

from __future__ import annotations

import logging
import threading
import time

from waitress import create_server, wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask
from waitress.utilities import Error

from . import lograte
from .wsgi import BODY_LIMIT, error_page, status_line

log = logging.getLogger(__name__)

THREADS = 100  # pages in hand at once: each mostly waits on the controller
CONNECTION_LIMIT = 500  # open connections; a phone keeps one or two
# from one address: a hall's phones come from their own Wi-Fi addresses, but a carrier's NAT
# can put many behind one, so this is far above what a phone (one or two) or a family needs
PER_CLIENT_LIMIT = 200
BACKLOG = 1024  # connections the kernel queues beyond that
IDLE_TIMEOUT_S = 10  # seconds without a byte before a connection is dropped
CLEANUP_S = 1  # how often idle and late connections are looked for
HEADER_DEADLINE_S = 15  # from a request's first byte to the end of its headers
BODY_DEADLINE_S = 30  # from a request's first byte to the end of its body (64 KB at most)
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
    """waitress's connection, which also knows when its request in the reading began, and
    closes itself at once if its address already holds `per_client_limit` connections."""

    error_task_class = _ZhErrorTask
    per_client_limit = PER_CLIENT_LIMIT  # a subclass per HttpServer sets its own
    _reading = None  # the partial request being read, if any, and since when
    began = 0.0

    def __init__(self, server, sock, addr, adj, map=None):
        super().__init__(server, sock, addr, adj, map=map)
        held = sum(1 for c in server.active_channels.values() if c.addr[0] == addr[0])
        if held > self.per_client_limit:  # this one is counted too
            lograte.warn(
                log, "per-client", "web: a connection refused: its address holds %d", held - 1
            )
            self.handle_close()

    def received(self, data):
        done = super().received(data)
        if self.request is not self._reading:  # a new request began in this data
            self._reading = self.request
            self.began = time.monotonic()
        return done


def _late(channel: _Channel, now: float, header_s: float, body_s: float) -> bool:
    """Whether the request being read on this connection has missed its deadline. A request
    already complete and in the app's hands is the app's business, not the reader's."""
    request = channel.request
    if request is None or channel.requests or channel.will_close:
        return False
    limit = body_s if request.headers_finished else header_s
    return now - channel.began > limit


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
        header_deadline_s: float = HEADER_DEADLINE_S,
        body_deadline_s: float = BODY_DEADLINE_S,
        per_client_limit: int = PER_CLIENT_LIMIT,
    ):
        self._map: dict = {}
        self._deadlines = (header_deadline_s, body_deadline_s)
        self._cleanup_s = cleanup_s
        self._next_cleanup = 0.0
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
        channel_class = type("_Channel", (_Channel,), {"per_client_limit": per_client_limit})
        for listener in self._listeners:
            listener.channel_class = channel_class
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
            "web: serving on port %d (body limit %d KB, idle timeout %d s, headers in %g s, "
            "body in %g s, %d connections, %d from one address)",
            self.port,
            BODY_LIMIT // 1024,
            self._server.adj.channel_timeout,
            *self._deadlines,
            self._server.adj.connection_limit,
            self._listeners[0].channel_class.per_client_limit,
        )
        self._serving.set()
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=LOOP_S, map=self._map, use_poll=True, count=1)
                self._close_late()
        finally:
            self._close()
            self._done.set()

    def _close_late(self) -> None:
        """Close the connections whose request missed its deadline: in the event loop's own
        thread, as waitress's idle check does (a closing channel is writable, so the next round
        of the loop closes it)."""
        now = time.monotonic()
        if now < self._next_cleanup:
            return
        self._next_cleanup = now + self._cleanup_s
        for listener in self._listeners:
            for channel in list(listener.active_channels.values()):
                if _late(channel, now, *self._deadlines):
                    lograte.warn(log, "late", "web: a request too slow to arrive was dropped")
                    channel.will_close = True

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
