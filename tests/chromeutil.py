"""Headless Chromium for the QR pages, driven by Selenium: a phone-sized window, taps where a
finger would land (pointer down and up at an element's centre), typing, reading the DOM.

Debian's `chromium` and `chromium-driver` (scripts/setup.sh installs both); a test that needs
them fails with a message naming them. The driver's path is given to Selenium, so Selenium
never tries to download a driver or a browser (the test boxes are offline)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PHONE = (420, 900)  # CSS pixels: the viewport of a large phone held upright
LOAD_TIMEOUT_S = 15  # a page load, or the page a tapped button leads to


def missing() -> str | None:
    """What to install for a browser test, or None when Chromium and its driver are there."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        return (
            "headless browser tests need Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver, or bash scripts/setup.sh); missing: "
            + ", ".join(
                n for n, p in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if p is None
            )
        )
    return None


class Browser:
    def __init__(
        self, width: int = PHONE[0], height: int = PHONE[1], accept_language: str = "zh-CN"
    ):
        problem = missing()
        if problem:
            raise RuntimeError(problem)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        # --no-sandbox: the sandbox refuses to start as root (tests run as root); the pages are ours
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
        ):
            options.add_argument(arg)
        # the phone's viewport and touch screen (Chromium's window is never under 500 px wide)
        options.add_experimental_option(
            "mobileEmulation",
            {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": True}},
        )
        # the phone's languages ("bo,zh-CN"), sent as Accept-Language: a phone in a Chinese hall
        # by default, as the pages choose their language by it (onewindow/weblang.py)
        if accept_language:
            options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
        self.driver = webdriver.Chrome(
            service=Service(executable_path=CHROMEDRIVER), options=options
        )
        self.driver.set_page_load_timeout(LOAD_TIMEOUT_S)

    def goto(self, url: str) -> None:
        self.driver.get(url)  # returns once the page has loaded

    def js(self, expression: str):
        return self.driver.execute_script(f"return ({expression});")

    def _find(self, selector: str):
        found = self.driver.find_elements(By.CSS_SELECTOR, selector)
        return found[0] if found else None

    def text(self, selector: str = "body") -> str:
        """What the page shows there, as the browser renders it to text (innerText: a table
        row's cells apart by tabs)."""
        from selenium.common.exceptions import StaleElementReferenceException

        for _ in range(5):  # a page that reloads itself (the live dashboards) may swap it away
            element = self._find(selector)
            if element is None:
                return ""
            try:
                return self.driver.execute_script("return arguments[0].innerText", element) or ""
            except StaleElementReferenceException:
                time.sleep(0.1)
        raise AssertionError(f"{selector} kept being replaced while it was read")

    def exists(self, selector: str) -> bool:
        return self._find(selector) is not None

    def visible(self, selector: str) -> bool:
        element = self._find(selector)
        return element is not None and element.is_displayed()

    def tap(self, selector: str, navigates: bool = False) -> None:
        """A finger on the element's centre (scrolled into view first): pointer down and up.
        With `navigates`, returns once the page the tap leads to has loaded."""
        element = self._find(selector)
        if element is None:
            raise AssertionError(f"no {selector} on the page: {self.text()[:400]}")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        # a finger lands where it taps (no 250 ms glide from elsewhere, as a mouse would)
        finger = PointerInput(interaction.POINTER_TOUCH, "finger")
        ActionChains(self.driver, duration=0, devices=[finger]).move_to_element(
            element
        ).click().perform()
        if navigates:
            # the old page is gone; chromedriver may say so as a stale reference or, mid-way
            # through the navigation, as a node that "does not belong to the document"
            wait = WebDriverWait(
                self.driver, LOAD_TIMEOUT_S, ignored_exceptions=(WebDriverException,)
            )
            wait.until(lambda d: _gone(old_page))
            wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def type(self, selector: str, text: str) -> None:
        """Tap the field, then type into it key by key."""
        self.tap(selector)
        ActionChains(self.driver).send_keys(text).perform()

    def screenshot(self, path: str | Path) -> None:
        if not self.driver.save_screenshot(str(path)):
            raise RuntimeError(f"no screenshot written to {path}")

    def close(self) -> None:
        try:
            self.driver.quit()
        except WebDriverException:
            pass  # the browser is gone already: nothing left to stop


def _gone(element) -> bool:
    try:
        element.is_enabled()
    except WebDriverException:  # stale, or its node already left the document
        return True
    return False
