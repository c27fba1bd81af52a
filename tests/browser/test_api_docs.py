"""The partner API's reference page renders in a browser with no way out to the internet."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_api_reference_renders_without_the_internet(browser, live_server):
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    elsewhere: list[str] = []

    def only_this_server(route):
        url = route.request.url
        if url.startswith((live_server.url, "blob:", "data:")):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    page.goto("/api/v1/docs/")
    page.get_by_role("heading", name="Kindred partner API").wait_for(timeout=20_000)
    page.get_by_role("heading", name="conversions_create").wait_for()
    context.close()
    assert elsewhere == []
