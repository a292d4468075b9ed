"""The site's own pages outside /api and the console: the landing page at / and the HTML 404
for every other unknown path, in the console's look, with DEBUG on as with it off."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

UNKNOWN_PATHS = ["/nowhere", "/index.html", "/events/", "/apis", "/api-docs", "/admin-x/"]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_the_landing_page_links_to_the_console_and_the_api_docs(debug):
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    for link in ('href="/admin/"', 'href="/api/docs"', 'href="/api/redoc"', 'href="/api/schema"'):
        assert link in html, link
    # The console's look: its stylesheet, its mark, its name.
    assert "/static/evently/console.css" in html
    assert 'class="ev-mark"' in html
    assert "<title>Evently | Evently</title>" in html


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_an_unknown_path_outside_the_api_is_the_sites_html_404(debug, path, method):
    response = getattr(Client(), method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<title>Page not found | Evently</title>" in html
    assert "/static/evently/console.css" in html
    assert 'href="/admin/"' in html and 'href="/api/docs"' in html
    # Never Django's technical page, whatever the mode.
    assert "Using the URLconf defined in" not in html
    assert "technical_404" not in html and "DEBUG = True" not in html


def test_an_unknown_console_page_for_staff_is_the_sites_404(debug, staff):
    response = staff.get("/admin/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page not found | Evently</title>" in html
    assert "DEBUG = True" not in html


def test_an_unknown_console_page_still_asks_an_anonymous_visitor_to_sign_in():
    response = Client().get("/admin/no-such-page/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
