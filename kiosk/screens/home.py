"""Home: service and 一件事 tiles with the live queue, the hall's state, and the other services."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import ColorProperty, StringProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen

from onewindow.hallwords import wait_words

from ..widgets import Tile, load_kv

SERVICE_ACCENT = (0.1, 0.33, 0.68, 1)
THEME_ACCENT = (0.82, 0.35, 0.08, 1)
BANNERS = {
    "notice": (0.86, 0.91, 0.98, 1),
    "closed": (0.83, 0.89, 1, 1),
    "offline": (1, 0.8, 0.72, 1),
    "printer": (1, 0.86, 0.8, 1),
    "no_printer": (1, 0.95, 0.8, 1),
}

load_kv("home.kv")


class HomeScreen(Screen):
    banner = StringProperty("")
    banner_color = ColorProperty(BANNERS["notice"])

    def __init__(self, **kw):
        super().__init__(**kw)
        self.tiles: list[Tile] = []
        app = App.get_running_app()
        app.bind(
            cols=lambda *a: self.rebuild(),
            elder=lambda *a: self.rebuild(),
            lang=lambda *a: self.rebuild(),
            queues=lambda *a: self.refresh(),
            hall_open=lambda *a: self.refresh(),
            offline_mode=lambda *a: self.refresh(),
        )
        self.rebuild()  # built when first shown: the configuration is known by then

    def rebuild(self) -> None:
        """Tiles from the configuration: themes first, then services by department."""
        app = App.get_running_app()
        box = self.ids.sections
        box.clear_widgets()
        self.tiles = []
        from kivy.factory import Factory

        groups: list[tuple[str, list]] = []
        if app.themes:
            groups.append((app.t("themes"), [("theme", t) for t in app.themes.values()]))
        # one grid ordered by department (each tile names its department): nine departments
        # with a heading each would push most services below the fold
        services = sorted(
            app.services.values(),
            key=lambda s: list(
                dict.fromkeys(x.get("department", "") for x in app.services.values())
            ).index(s.get("department", "")),
        )
        groups.append((app.t("by_department"), [("service", s) for s in services]))
        for title, items in groups:
            box.add_widget(Factory.SectionTitle(text=title))
            grid = GridLayout(
                cols=app.cols,
                spacing=app.u * 14,
                size_hint_y=None,
                row_default_height=app.u * 170,
                row_force_default=True,
            )
            grid.bind(minimum_height=grid.setter("height"))
            for kind, item in items:
                tile = Tile(
                    title=app.pick(item),
                    code=item["code"],
                    test_id=f"tile-{item['code']}",
                    accent=THEME_ACCENT if kind == "theme" else SERVICE_ACCENT,
                    badge=(
                        app.pick(item, "department")
                        if kind == "service"
                        else app.pick(item, "lead_department")
                    ),
                )
                tile.kind = kind
                tile.bind(on_release=self.open_tile)
                grid.add_widget(tile)
                self.tiles.append(tile)
            box.add_widget(grid)
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        if app is None or not hasattr(app, "sm"):
            return
        for tile in self.tiles:
            q = app.queues.get(tile.code) or {}
            if app.offline_mode:  # last known waits would be stale: none is shown
                tile.subtitle = app.t("tile_offline")
            elif not app.hall_open:
                tile.subtitle = app.t("tile_guide")
            elif q.get("ahead"):
                # the controller's one estimate: a comprehensive window calls across queues, so
                # a new ticket may have people ahead although its own queue is empty
                tile.subtitle = f"{app.t('tile_ahead', n=q['ahead'])} · {wait_words(q, app.lang)}"
            else:
                tile.subtitle = wait_words(q, app.lang)
        if app.offline_mode:
            self.banner, kind = (
                app.t("offline_banner", where=app.offline_where(), hours=app.offline_hours()),
                "offline",
            )
        elif not app.hall_open:
            self.banner, kind = app.t("closed_banner", when=app.next_opening_text()), "closed"
        elif app.printer_reason == "none":
            self.banner, kind = app.t("no_printer_banner"), "no_printer"
        elif not app.can_print:
            self.banner, kind = app.t("printer_banner", reason=app.printer_message()), "printer"
        else:
            hall = app.hall_state or {}
            # a notice not given in the citizen's language is left out (the display shows it)
            given = app.lang == "zh" or hall.get(f"notice_{app.lang}")
            notice = app.pick(hall, "notice") if given else ""
            self.banner, kind = notice or app.t("choose"), "notice"
        self.banner_color = BANNERS[kind]
        self.banner_kind = kind

    def open_tile(self, tile: Tile) -> None:
        app = App.get_running_app()
        if tile.kind == "theme":
            app.go("theme", code=tile.code)
        elif app.taking:
            app.go("confirm", code=tile.code)
        else:
            app.go("guide", code=tile.code)

    def on_enter(self, *a) -> None:
        self.ids.scroll.scroll_y = 1
        self.refresh()
