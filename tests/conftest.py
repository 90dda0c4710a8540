"""Fixtures shared by the test files. A test file never imports another: what several share is
here (fixtures) or in a helper module (busutil, ctlutil, kivyutil, kioskutil, pcscutil...).
Every test file passes alone and in any order (pytest-randomly)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from cityutil import drop_database, new_database
from cupsutil import PrivateCups, private_cups
from pcscutil import vpcd_reader

from busutil import Hall, open_hall_file, unlimited_config
from ctlutil import MONDAY_10
from ctlutil import Hall as ControllerHall
from kivyutil import App, Screen
from managerutil import start_console
from onewindow.web import serve


@pytest.fixture
def start_hall(tmp_path: Path) -> Iterator[Callable[..., Hall]]:
    """Starts a hall controller on a bus, with its devices, closed after the test:
    `start_hall("embedded", ("kiosk-1", "kiosk"), ("caller-3", "caller", [3]))`. Each device is
    what `Hall.add` takes; the hall is the shipped one, open around the clock without quotas
    (`config=` for another). `kind` as in busutil.Hall ("embedded", "mosquitto", a URL)."""
    halls: list[Hall] = []

    def start(kind: str, *devices: tuple, config: Path | None = None, **options) -> Hall:
        here = tmp_path / f"hall-{len(halls)}" if halls else tmp_path
        (here / "cfg").mkdir(parents=True, exist_ok=True)
        hall = Hall(here, kind, config=config or unlimited_config(here / "cfg"), **options)
        halls.append(hall)
        for device in devices:
            hall.add(*device)
        return hall.start()

    yield start
    for hall in reversed(halls):
        hall.close()


@pytest.fixture
def ctl_hall(tmp_path: Path) -> Iterator[ControllerHall]:
    """The controller in this process (no bus) on a Monday at 10:00, the shipped hall."""
    hall = ControllerHall(tmp_path, MONDAY_10)
    yield hall
    hall.ctl.store.close()


@pytest.fixture
def city_db() -> Iterator[str]:
    """A new, empty database on the machine's PostgreSQL (its URL), dropped after the test."""
    url = new_database()
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def vpcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The name of the vpcd reader of a pcscd: the running one, or ours for the session."""
    yield from vpcd_reader(tmp_path_factory.mktemp("pcscd"))


@pytest.fixture
def site(start_hall, tmp_path: Path) -> Iterator[tuple[Hall, str]]:
    """The QR pages (`onewindow web`) against a real hall on a real bus: (hall, base URL)."""
    hall = start_hall(
        "embedded",
        ("kiosk-1", "kiosk"),
        ("caller-4", "caller", [4]),
        ("web-1", "web"),
        config=open_hall_file(tmp_path),
    )
    web = hall.client("web-1")
    # a 1 s idle timeout (10 s in a hall) so that dropping half-sent requests is seen in seconds
    server = serve(web, "127.0.0.1", 0, idle_timeout_s=1, cleanup_s=1).start()
    yield hall, f"http://127.0.0.1:{server.port}"
    server.shutdown()


@pytest.fixture
def cups() -> Iterator[PrivateCups]:
    """A private cupsd on a free port of 127.0.0.1 with an A4 queue `hall-a4` whose jobs land
    as PDFs in `cups.out`, `nopaper`, a printer out of paper, and `jobfails`, one whose every
    job fails and is aborted (tests/cupsutil.py). It keeps no printed document in its spool."""
    with private_cups() as server:
        server.add_queue("hall-a4", f"pdfdir:{server.out}")
        server.add_queue("nopaper", "nopaper:/")
        # CUPS aborts the job and the queue goes on: the job leaves the queue as a printed one
        server.add_queue("jobfails", "jobfails:/", "printer-error-policy=abort-job")
        yield server


@pytest.fixture
def cups_keeping_documents() -> Iterator[PrivateCups]:
    """A private cupsd as CUPS ships (each printed document kept a day in its spool), with the
    queue `hall-a4` of `cups`."""
    with private_cups(preserve_files="86400") as server:
        server.add_queue("hall-a4", f"pdfdir:{server.out}")
        yield server


@pytest.fixture
def manager_console(hall, tmp_path: Path) -> Iterator[tuple[App, Screen]]:
    """(app, screen): the test file's `hall`'s manager console on a 1280x800 screen, at the PIN
    screen, sessions of 30 minutes (tests/managerutil.py unlocks it)."""
    screen = Screen(1280, 800)
    app = start_console(hall, screen, tmp_path, args=("--session-min", "30"))
    yield app, screen
    app.stop()
    screen.close()
