"""A live Lien server and a real headless Chromium (Debian's, never a downloaded one)."""

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("LIEN_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic has nowhere to go on a closed network: switch it off.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A page at a cheap phone's size (360 px wide)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR",
                                  timezone_id="Europe/Paris")
    page = context.new_page()
    yield page
    context.close()
