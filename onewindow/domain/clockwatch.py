"""The clock watch: what the hall knows of its wall clock being set wrong. No I/O.

Fed two readings at a time (the wall clock, and the seconds truly passed since boot), it tells
a step of the clock from time passing, so that the hall's day follows the time truly passed:

- a step forward (a wrong date set, a bad time server) while tickets wait is not believed: the
  service day follows the clock less `ahead`, so the step expires nobody's ticket;
- a step back is known from the clock alone; the controller keeps numbering on the hall's day;
- putting the clock right after a step back gains on the time truly passed just as a step
  forward does: it pays `behind` off, and is no step forward of its own (and the reverse: a
  forward step put right is no step back).

Each step is told once (`next_step`). While the clock is known wrong, `to_dict` is what a
controller restarted on the same boot needs (`restore`) to go on measuring across the restart:
without it, the restart would take a step for time passed and expire the waiting.

Worked example: a ticket waits at 10:00 (`ten`); the date is set a day on with no time passing,
and put right five minutes later (`DAY` = timedelta(days=1), elapsed in seconds)::

    w = ClockWatch("boot-1")
    w.read(ten, 1000.0, waiting=True)         # the first reading: nothing to compare with
    w.read(ten + DAY, 1000.0, waiting=True)   # a day gained on 0 s passed: w.ahead == DAY
    w.next_step(floor_start)  -> ClockStep(forward=True, was=ten, to=ten + DAY)
    w.read(ten + 5 min, 1300.0, waiting=True) # a day lost on 5 min passed: w.ahead == 0
    w.next_step(floor_start)  -> None         # putting it right is no step back
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Optional

CLOCK_STEP = timedelta(seconds=30)  # the clock going back more than this is a step, not jitter
# the clock gaining more than this on the time truly passed (since boot), while tickets wait, is
# a step (a wrong date set, a bad time server), not the hours going by
FORWARD_STEP = timedelta(hours=1)


@dataclass(frozen=True)
class ClockStep:
    """A step of the clock to tell the managers: `was` is None for a clock found behind the
    hall's data at start (no earlier reading to name)."""

    forward: bool
    was: Optional[datetime]
    to: datetime


class ClockWatch:
    """One hall's watch on its clock: the readings before, what is ahead or behind, and the
    steps not yet told. The controller feeds it and turns its steps into alerts."""

    def __init__(self, boot: Optional[str] = None):
        """`boot`: which count the `elapsed` readings are (the machine's boot id); a record of
        another boot measures from another zero, and None means nothing can be kept."""
        self.boot = boot
        self.last_clock: Optional[datetime] = None  # the clock's previous reading
        self.last_elapsed = 0.0  # elapsed at the clock's previous reading
        # how far the clock stepped forward past the time truly passed, while tickets waited:
        # the service day follows the clock less this, so the step expires nobody's ticket
        self.ahead = timedelta(0)
        # how far a step back set the clock behind, not yet put right: putting it right is a
        # gain on the time truly passed, and no step forward of its own
        self.behind = timedelta(0)
        self._back_step: Optional[tuple[Optional[datetime], datetime]] = None  # not yet told
        self._ahead_step: Optional[tuple[datetime, datetime]] = None  # not yet told
        self._back_until: Optional[datetime] = None  # a step back's alert lasts until then

    # -- readings -------------------------------------------------------------------------

    def read(self, now: datetime, elapsed: float, waiting: bool) -> None:
        """One reading of the clock (`now`) and of the seconds truly passed (`elapsed`), with
        whether tickets wait (a step forward matters only to them). A step back is known from
        the clock alone; a step forward from the clock gaining on the time truly passed (a hall
        switched off, or asleep, overnight has truly passed the night)."""
        last = self.last_clock
        if last is not None:
            gained = (now - last) - timedelta(seconds=elapsed - self.last_elapsed)
            if gained > CLOCK_STEP and self.behind:
                # first the clock put right after a step back: no step forward
                recovered = min(gained, self.behind)
                self.behind -= recovered
                gained -= recovered
                if self.behind < CLOCK_STEP:  # put right to within the clock's jitter
                    self.behind = timedelta(0)
            if gained > FORWARD_STEP and waiting:
                self.ahead += gained
                self._ahead_step = (last, now)
            elif now < last - CLOCK_STEP or (self.ahead and gained < -CLOCK_STEP):
                # a forward step put right, in part or whole, is no step back of its own
                back = max(last - now, -gained)
                undone = min(back, self.ahead)
                self.ahead -= undone
                if self.ahead < CLOCK_STEP:  # put right to within the clock's jitter
                    self.ahead = timedelta(0)
                if (last - now) - undone > CLOCK_STEP:
                    self._back_step = (last, now)
                    self.behind += back - undone
        self.last_clock, self.last_elapsed = now, elapsed

    def found_behind(self, now: datetime, floor_start: datetime) -> None:
        """The clock reads before `floor_start` (the start of the latest day the hall issued
        numbers for): a step back with no reading before it, as at a start after the clock
        was set back with the hall switched off. Reaching that day again is no step forward."""
        self._back_step = (None, now)
        self.behind = max(self.behind, floor_start - now)

    # -- decisions ------------------------------------------------------------------------

    @property
    def wrong(self) -> bool:
        """The clock is known to be set wrong: ahead of, or behind, the time truly passed."""
        return bool(self.ahead or self.behind)

    @property
    def untold(self) -> bool:
        """A step waits to be told (and the day looked at again)."""
        return self._back_step is not None or self._ahead_step is not None

    def next_step(self, floor_start: datetime) -> Optional[ClockStep]:
        """The next step not yet told, or None: each is given once, a step back before a step
        forward, and one at a time (a step whose telling failed is not retold, the others are).
        A step back's alert lasts until the clock is back where it was (or, found behind at
        start, at `floor_start`): the hall's day is the clock's again only then."""
        if self._back_step is not None:
            was, now = self._back_step
            self._back_step = None
            self._back_until = was or floor_start
            return ClockStep(False, was, now)
        if self._ahead_step is not None:
            was, now = self._ahead_step
            self._ahead_step = None
            return ClockStep(True, was, now)
        return None

    def back_over(self, now: datetime) -> bool:
        """The clock has caught up with where it stepped back from: the step back's alert may
        end (and is forgotten)."""
        if self._back_until is None or now >= self._back_until:
            self._back_until = None
            return True
        return False

    def settle(self, waiting: bool) -> bool:
        """A forward step not put right is over once no ticket waits: the day may then follow
        the clock, and its roll expires nobody. True when it just ended so."""
        if self.ahead and not waiting:
            self.ahead = timedelta(0)
            return True
        return False

    # -- kept across a restart on the same boot ----------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The record a restart on this boot resumes from (`restore`); needs a reading."""
        if self.last_clock is None:
            raise ValueError("no reading of the clock to keep")
        return {
            "boot": self.boot,
            "clock": self.last_clock.isoformat(),
            "elapsed": self.last_elapsed,
            "ahead_s": self.ahead.total_seconds(),
            "behind_s": self.behind.total_seconds(),
        }

    def restore(self, record: object) -> bool:
        """Resume from `to_dict`'s record: the next reading measures the gain across the
        restart, as between two readings. False (nothing changed) for a record of another boot,
        or with no boot known; ValueError (nothing changed) for an unreadable one, whatever it
        holds (a list, a number: the stored JSON is not trusted to be `to_dict`'s)."""
        if not isinstance(record, Mapping):
            raise ValueError(f"unreadable clock record: not a table but {type(record).__name__}")
        if self.boot is None or record.get("boot") != self.boot:
            return False
        try:
            last = datetime.fromisoformat(record["clock"])
            elapsed = float(record["elapsed"])
            ahead = timedelta(seconds=float(record["ahead_s"]))
            behind = timedelta(seconds=float(record["behind_s"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"unreadable clock record: {exc!r}") from None
        self.last_clock, self.last_elapsed = last, elapsed
        self.ahead, self.behind = ahead, behind
        if ahead:
            self._ahead_step = (last - ahead, last)  # told again: the alert went with the process
        return True
