"""The kiosk's screens, one module and one KV file each, built the first time they are shown
(KioskApp.screen): {screen name: "module:Class"}."""

from __future__ import annotations

SCREENS = {
    "oos": "outofservice:OutOfServiceScreen",
    "home": "home:HomeScreen",
    "confirm": "confirm:ConfirmScreen",
    "ticket": "ticket:TicketScreen",
    "guides": "guide:GuidesScreen",
    "guide": "guide:GuideScreen",
    "theme": "theme:ThemeScreen",
    "form": "form:FormScreen",
    "book": "booking:BookScreen",
    "slots": "booking:SlotsScreen",
    "booked": "booking:BookDoneScreen",
    "mine": "mine:MineScreen",
    "rating": "rating:RatingScreen",
    "message": "message:MessageScreen",
}
