"""English through Django's i18n: the footer's switch sets the cookie; pages render in English."""

from django.conf import settings
from django.core.management import call_command


def test_pages_render_in_english_after_switching(client, city):
    call_command("compile_catalogs", stdout=__import__("io").StringIO())
    assert "登录" in client.get("/accounts/login/").content.decode()  # Chinese by default
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in" in page and '<html lang="en">' in page
