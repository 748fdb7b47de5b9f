"""The page families see while the database is down passes the checks every page passes (axe's
WCAG 2.1 A and AA, weight, width, no outside requests), in French, and in English once chosen
with its footer's link, which works without the database."""

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings(tmp_path):
    """A database file that cannot be opened: its folder is missing (a volume that did not mount)."""
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'not-mounted' / 'lien.sqlite3'}"}


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_unavailable_page_passes_the_checks_in_french_and_in_english(open_tab, device):
    tab = open_tab(f"{device}-fr")
    tab.goto("/j/a-join-link")
    tab.arrive("Lien ne marche pas en ce moment")
    assert "Essayez encore dans quelques minutes." in tab.text()
    tab.page.get_by_role("contentinfo").get_by_role("link", name="English").click()
    tab.arrive("Lien is not working right now")
    assert "Try again in a few minutes." in tab.text()
