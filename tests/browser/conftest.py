"""Fixtures for the real-browser tests: a JupyterLab server (lab_server.py), Debian's
Chromium driven by Playwright, one browser tab, and numbered screenshots.

The repository is only written in ``test-output/browser/`` (gitignored): the
screenshots, the server log (jupyterlab.log) and the browser console (console.log).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from lab_server import CHROMIUM, CHROMIUM_FLAGS, REPO, LabServer, running_lab_server
from shared_work import built_once

OUTPUT = REPO / "test-output" / "browser"
OPEN_PAGE = pytest.StashKey[Page]()  # the tab in use, for the screenshot of a failure


class Screenshots:
    """Saves test-output/browser/NN-step-name.png, numbered in the order taken."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0

    def take(self, page: Page, step: str) -> Path:
        self.count += 1
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def output_dir(tmp_path_factory) -> Path:
    """test-output/browser/, emptied of the previous run's screenshots (once per run, whichever worker is first)."""

    def empty(_):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        for old in OUTPUT.glob("*.png"):
            old.unlink()

    built_once(tmp_path_factory, "browser-output-emptied", empty)
    return OUTPUT


@pytest.fixture(scope="session")
def screenshots(output_dir) -> Screenshots:
    return Screenshots(output_dir)


@pytest.fixture(scope="session")
def lab(tmp_path_factory, output_dir) -> LabServer:
    """JupyterLab on a copy of the course, on a free port of 127.0.0.1; stopped after the tests."""
    with running_lab_server(tmp_path_factory.mktemp("jupyterlab"), output_dir / "jupyterlab.log") as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, output_dir, request) -> Page:
    """One browser tab for the whole module; its console messages go to console.log."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    with (output_dir / "console.log").open("w") as console:
        page.on("console", lambda message: console.write(f"[{message.type}] {message.text}\n"))
        page.on("pageerror", lambda error: console.write(f"[pageerror] {error}\n"))
        request.config.stash[OPEN_PAGE] = page
        yield page
        del request.config.stash[OPEN_PAGE]
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """A test that fails (or whose set-up fails) leaves FAILED-<test name>.png: what the page showed."""
    report = yield
    page = item.config.stash.get(OPEN_PAGE, None)
    if report.failed and report.when in ("setup", "call") and page is not None:
        page.screenshot(path=str(OUTPUT / f"FAILED-{item.name}.png"))
    return report
