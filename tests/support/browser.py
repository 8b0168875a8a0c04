"""Browser tests' shared parts: Debian's chromium driven by Playwright, and checked screenshots.

Playwright never downloads a browser here: it drives the system's /usr/bin/chromium.
Screenshots go to tests/screenshots/ (git-ignored).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"


@contextmanager
def chromium() -> Iterator[Browser]:
    """Launch Debian's chromium through Playwright, and close it on the way out."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def browser_fixture(scope: str) -> Any:
    """A `browser` fixture for a test module: `browser = browser_fixture(scope="module")`.

    A factory rather than an import, so each module states its scope and nothing is imported unused.
    """

    @pytest.fixture(scope=scope, name="browser")
    def browser() -> Iterator[Browser]:
        with chromium() as launched:
            yield launched

    return browser


def shoot(page: Page, name: str, *, min_colours: int = 20, min_size: tuple[int, int] = (0, 0)) -> Path:
    """Save a full-page screenshot and check it is a real picture, not a blank or broken page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name} is suspiciously small"
    with Image.open(path) as img:
        assert img.width >= min_size[0] and img.height >= min_size[1], img.size
        colours = img.convert("RGB").getcolors(maxcolors=1 << 18)
    assert colours is None or len(colours) > min_colours, f"{name} is nearly a single colour"
    return path


def sign_in(page: Page, base_url: str, name: str, password: str) -> None:
    """Sign in to the agent console through its login form, as an agent does."""
    page.goto(f"{base_url}/agent/")
    assert "/agent/login" in page.url
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/agent/")


def fits_width(page: Page, width: int) -> bool:
    """Whether the page fits `width` pixels without scrolling sideways."""
    return page.evaluate("document.documentElement.scrollWidth") <= width
