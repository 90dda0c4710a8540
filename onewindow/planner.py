"""排班建议 for the manager console and the printed report, worked out beside the hall (op
report.plan, docs/staffing.md). A plan takes seconds of simulation: the controller's thread
never runs one. It asks the Planner, which answers from the plans it has and starts a missing
one in a process of its own (the controller's thread keeps its core, and the GIL), reading the
database through its own read-only connection as `onewindow plan` does.

A plan depends on the history up to yesterday only, so one made today stays right all day;
the op asks again until it is ready ("computing").
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the simulator and the process pool load when a plan is first asked for
    from multiprocessing.pool import AsyncResult, Pool

log = logging.getLogger(__name__)

PLAN_DEADLINE_S = 600  # a plan takes seconds to a minute; none takes ten
KEEP = 16  # plans kept (a few targets a day, and the report's days)
Key = tuple[date, date, float, float, int]  # since, until, target, percentile, weekday


class Planner:
    def __init__(self, data_dir: str | Path, days: Optional[int] = None):
        self.data_dir = Path(data_dir)
        self.days = days  # None: planning.DEFAULT_DAYS
        self._pool: Optional[Pool] = None
        self._running: dict[Key, AsyncResult] = {}
        self._done: OrderedDict[Key, dict] = OrderedDict()
        self._started: dict[Key, float] = {}

    def get(self, key: Key) -> Optional[dict]:
        """The plan's JSON ({"plan"} or {"message", "message_en"}), or None while it is being
        worked out (then it has been started). Never blocks."""
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]
        job = self._running.get(key)
        if job is None:
            import multiprocessing

            from . import planning

            if self._pool is None:
                # spawned, not forked: the hall process has threads (the bus) and a database open
                self._pool = multiprocessing.get_context("spawn").Pool(1)
            since, until, target, percentile, weekday = key
            days = self.days if self.days is not None else planning.DEFAULT_DAYS
            self._started[key] = time.monotonic()
            self._running[key] = self._pool.apply_async(
                planning.plan_dict,
                (self.data_dir, since, until, target, percentile, weekday, days),
            )
            return None
        if not job.ready():
            if time.monotonic() - self._started.get(key, time.monotonic()) < PLAN_DEADLINE_S:
                return None
            # a worker killed (out of memory...) never completes its job: the pool goes, the
            # plan is said to have failed, and asked again it starts afresh
            log.error(
                "排班建议: no result after %d s; the planning process is restarted", PLAN_DEADLINE_S
            )
            self.close()
            self._running.clear()
            self._started.clear()
            return {
                "message": "排班建议计算超时，请稍后重试",
                "message_en": "the staffing advice took too long; please try again",
                "failed": True,
            }
        del self._running[key]
        self._started.pop(key, None)
        try:
            result = job.get()
        except Exception as exc:  # the history unreadable, the process killed...: said, not kept
            log.error("排班建议 failed: %s", exc, exc_info=exc)
            return {
                "message": f"排班建议计算失败：{exc}",
                "message_en": f"the staffing advice failed: {exc}",
                "failed": True,
            }
        self._done[key] = result
        while len(self._done) > KEEP:
            self._done.popitem(last=False)
        return result

    def close(self) -> None:
        """Stop at once: a plan being worked out is dropped (the hall is stopping)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
