"""Helpers for the browser tests of view state in the URL (playhead, zoom, selection): which
API requests a page made, and that none of them carries one of the view's state keys."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse


def record_api_requests(page: Any) -> list[str]:
    """Every /api/ URL the page requests from now on (the list fills as it loads)."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if "/api/" in r.url else None)
    return urls


def assert_no_state_key_sent(urls: list[str], view_key: str) -> None:
    """The page asked the API something, and never with a key of View.state."""
    from app.pages import VIEW_BY_KEY

    state = set(VIEW_BY_KEY[view_key].state)
    assert urls and state
    for u in urls:
        assert not set(parse_qs(urlparse(u).query)) & state, u


def url_query(page: Any) -> dict[str, list[str]]:
    """The page's query string now (history.replaceState is not always reflected in page.url)."""
    return parse_qs(urlparse(page.evaluate("() => location.href")).query)
