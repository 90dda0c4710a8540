"""Repeated log lines, rate-limited with counts: a flood of bad requests is one line a minute.

A hostile or broken device can send 20,000 bad requests a minute; one log line each would bury
everything else in the journal (and fill the disk). `warn(log, key, ...)` logs the first line
of a kind at once, counts the rest for a minute, and then says how many there were:

    bad request from led-1: not UTF-8 JSON
    bad request from led-1: not UTF-8 JSON (and 19,999 more like it in the last minute)

`key` says what "like it" means: usually the message with the device it came from, so one
noisy device never hides another's first line. Counts are told when the next line of the kind
comes after the minute, or at the latest when the owner calls `flush()` (the hall controller
does, every few seconds).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Hashable

WINDOW_S = 60.0  # one line per kind and minute
MAX_KINDS = 4096  # kinds remembered at once; the oldest quiet ones are told and forgotten


class LogRate:
    def __init__(self, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()  # device apps log from several threads
        # key -> [window start, lines held back, logger, level, last msg, last args]
        self._kinds: dict[Hashable, list] = {}

    def log(
        self,
        logger: logging.Logger,
        level: int,
        key: Hashable,
        msg: str,
        *args,
        exc_info: bool = False,
    ) -> None:
        """`exc_info`: the traceback goes with the first line of each minute only."""
        now = self.clock()
        forgotten = None
        with self._lock:
            kind = self._kinds.get(key)
            if kind is not None and now - kind[0] < self.window_s:
                kind[1] += 1
                kind[4], kind[5] = msg, args
                return
            held = kind[1] if kind else 0
            self._kinds.pop(key, None)
            if len(self._kinds) >= MAX_KINDS:
                oldest = min(self._kinds, key=lambda k: self._kinds[k][0])
                forgotten = self._kinds.pop(oldest)
            self._kinds[key] = [now, 0, logger, level, msg, args]
        if forgotten is not None and forgotten[1]:
            _emit(*forgotten[1:])
        if held:
            _emit(held, logger, level, msg, args, exc_info)
        else:
            logger.log(level, msg, *args, exc_info=exc_info)

    def flush(self) -> None:
        """Tell the counts of kinds whose minute is over, and forget them."""
        now = self.clock()
        told = []
        with self._lock:
            for key, kind in list(self._kinds.items()):
                if now - kind[0] >= self.window_s:
                    del self._kinds[key]
                    if kind[1]:
                        told.append(kind)
        for kind in told:
            _emit(*kind[1:])


def _emit(
    held: int, logger: logging.Logger, level: int, msg: str, args: tuple, exc_info: bool = False
) -> None:
    logger.log(
        level,
        msg + " (and %s more like it in the last minute)",
        *args,
        f"{held:,}",
        exc_info=exc_info,
    )


_DEFAULT = LogRate()


def warn(logger: logging.Logger, key: Hashable, msg: str, *args) -> None:
    """logger.warning, at most one line per `key` a minute, then the count of the rest."""
    _DEFAULT.log(logger, logging.WARNING, (logger.name, key), msg, *args)


def error(logger: logging.Logger, key: Hashable, msg: str, *args, exc_info: bool = False) -> None:
    """logger.error, likewise; `exc_info` logs the traceback with the minute's first line."""
    _DEFAULT.log(logger, logging.ERROR, (logger.name, key), msg, *args, exc_info=exc_info)


def flush() -> None:
    _DEFAULT.flush()
