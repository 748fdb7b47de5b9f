"""In a real browser: "Tester mon micro et ma caméra" shows the camera's picture and the
microphone's level, says what to do when the device refuses, and explains itself without
JavaScript — with no request leaving Lien. Chromium's fake camera and microphone stand in for
a phone's."""

from urllib.parse import urlsplit

import pytest
from browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fake_devices_browser(browser):
    """A second Chromium from the session's Playwright (one Playwright per thread), with a fake
    camera and microphone."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream"])
    yield chromium
    chromium.close()


def open_test_page(browser, live_server, **context_options):
    context = browser.new_context(locale="fr-FR", **context_options)
    page = context.new_page()
    requests, problems = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server}/tester")
    return context, page, requests, problems


def test_the_camera_shows_and_the_microphone_moves_the_bar_without_any_outside_request(
        fake_devices_browser, live_server):
    context, page, requests, problems = open_test_page(fake_devices_browser, live_server)
    context.grant_permissions(["camera", "microphone"], origin=live_server)
    assert page.get_by_role("heading", name="Tester mon micro et ma caméra").is_visible()
    page.get_by_role("button", name="Commencer le test").click()
    page.wait_for_selector('#device-test[data-state="live"]')
    page.wait_for_function("() => document.getElementById('device-test-video').videoWidth > 0")
    # Chromium's fake microphone beeps: the bar moves.
    page.wait_for_function("() => document.getElementById('device-test-level').value > 0", timeout=10000)
    assert page.get_by_text("Vous vous voyez ? Votre caméra marche.").is_visible()
    assert not page.get_by_role("button", name="Commencer le test").is_visible()
    page.get_by_role("button", name="Arrêter le test").click()
    assert page.get_by_role("button", name="Commencer le test").is_visible()
    assert {urlsplit(url).netloc for url in requests} == {urlsplit(live_server).netloc}
    assert problems == []  # no CSP refusal, no script error
    context.close()


def test_a_refusal_says_how_to_allow_the_camera_on_android_and_iphone(fake_devices_browser, live_server):
    context, page, _, _ = open_test_page(fake_devices_browser, live_server)
    page.get_by_role("button", name="Commencer le test").click()  # nobody allows it: refused
    page.wait_for_selector('#device-test[data-state="refused"]')
    assert page.get_by_role("alert").filter(has_text="Votre appareil a refusé la caméra ou le micro.").is_visible()
    assert page.get_by_role("heading", name="Sur Android (Chrome)").is_visible()
    assert page.get_by_text("Touchez « Autorisations ». Puis autorisez la caméra et le micro.").is_visible()
    assert page.get_by_role("heading", name="Sur iPhone (Safari)").is_visible()
    context.close()


def test_without_javascript_the_page_says_what_to_do(fake_devices_browser, live_server):
    context, page, requests, _ = open_test_page(fake_devices_browser, live_server, java_script_enabled=False)
    # Rendered text (Playwright's text locators skip <noscript>, which the browser shows here).
    assert "Ce test ne marche pas dans cette application. La salle vidéo non plus." in page.inner_text("main")
    assert not page.get_by_role("button", name="Commencer le test").is_visible()
    assert page.get_by_role("heading", name="Sur iPhone (Safari)").is_visible()
    context.close()
