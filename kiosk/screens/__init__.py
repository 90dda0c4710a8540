"""The kiosk's screens, one module and one KV file each."""
from __future__ import annotations


def all_screens() -> list:
    from .booking import BookDoneScreen, BookScreen, SlotsScreen
    from .confirm import ConfirmScreen
    from .guide import GuideScreen, GuidesScreen
    from .home import HomeScreen
    from .message import MessageScreen
    from .mine import MineScreen
    from .outofservice import OutOfServiceScreen
    from .rating import RatingScreen
    from .theme import ThemeScreen
    from .ticket import TicketScreen
    return [OutOfServiceScreen(name="oos"), HomeScreen(name="home"), ConfirmScreen(name="confirm"),
            TicketScreen(name="ticket"), GuidesScreen(name="guides"), GuideScreen(name="guide"),
            ThemeScreen(name="theme"), BookScreen(name="book"), SlotsScreen(name="slots"),
            BookDoneScreen(name="booked"), MineScreen(name="mine"), RatingScreen(name="rating"),
            MessageScreen(name="message")]
