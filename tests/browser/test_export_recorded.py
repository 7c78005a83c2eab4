"""The export computes in process the API answers each view asks for at its first draw
(app/export_data.py declares them). Here a real browser draws each embed against the app and
records every request it makes (tests/browser/recorder.py); the exported file's fetch shim must
answer every one of them with the byte-identical body, for the defaults of every embeddable
view, every famous configuration of the home page and every embed of the tour, and the file
must draw from file:// with no console error (a request with no baked answer logs one)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from app.export import export_html, view_at
from app.export_data import query_string
from app.pages import FEATURED, VIEWS, available
from tests.browser.recorder import record

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "https://bitmesh.example"
DEFAULTS = [v.path for v in VIEWS if v.embeddable and "{" not in v.path and available(v)]
EXPLORERS = [
    "/formats/bfloat16",
    "/formats/float8_e4m3fn",
    "/formats/float8_e4m3fn?value=300&rounding=stochastic&seed=3",
    "/formats/float32?value=0.1",  # a wide format: windows of codes, one around the encoded
    "/formats/float32?value=1.5",  # ... and one already loaded
    "/formats/mxfp4",
    "/formats/nvfp4?distribution=student_t&block=3",
]
TOUR = re.findall(r'figure\("[^"]+", "([^"]+)"', (ROOT / "templates" / "tour.html").read_text())
CASES = list(dict.fromkeys(DEFAULTS + EXPLORERS + [f.url for f in FEATURED] + TOUR))


def _with_controls(url: str) -> tuple[str, str]:
    """(page, query) as the export draws it: compact controls unless the URL says."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "controls" for k, _ in pairs):
        pairs.append(("controls", "compact"))
    return parts.path, query_string(pairs)


def test_cases_cover_the_tour_and_every_view() -> None:
    assert len(TOUR) >= 10
    drawn = {found[0].key for u in CASES if (found := view_at(urlsplit(u).path))}
    assert drawn == {v.key for v in VIEWS if v.embeddable and available(v)}


@pytest.mark.parametrize("url", CASES)
def test_export_answers_every_request_the_view_makes(
    browser: Any, url: str, tmp_path: Path
) -> None:
    page_path, query = _with_controls(url)
    rec = record(page_path, query, browser)
    assert rec.status == 200 and rec.responses, url
    file = tmp_path / "figure.html"
    file.write_text(export_html(page_path, query, ORIGIN))
    ctx = browser.new_context(viewport={"width": 800, "height": 900})
    try:
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(file.as_uri(), wait_until="load")
        pg.wait_for_timeout(400)
        for key, want in rec.responses.items():
            method, rest = key.split(" ", 1) if key.startswith(("POST ", "PUT ")) else ("GET", key)
            target, _, body = rest.partition(" ")
            got = pg.evaluate(
                "([m, u, b]) => window.__bitmeshLookup(m, u, b || undefined)",
                [method, target, body],
            )
            assert got is not None, f"{url}: nothing baked in answers {key}"
            assert (got["status"], got["body"]) == (want["status"], want["body"]), key
        assert errors == [], errors
    finally:
        ctx.close()


def test_a_request_with_no_baked_answer_is_a_404_and_a_console_error(
    browser: Any, tmp_path: Path
) -> None:
    """So a view whose declaration misses a request fails the tests above, loudly."""
    file = tmp_path / "figure.html"
    file.write_text(export_html("/pipeline", "schedule=zb_h1", ORIGIN))
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.goto(file.as_uri(), wait_until="load")
        # the same request spelled with a default (stages, from the schedules' catalogue)
        # is answered; another schedule is not
        stages = pg.evaluate(
            "async () => (await (await fetch('/api/v1/pipeline/schedules')).json())"
            ".parameters.find((p) => p.name === 'stages').default"
        )
        spelled = f"/api/v1/pipeline?format=columns&stages={stages}&schedule=zb_h1"
        status = pg.evaluate("async (u) => (await fetch(u)).status", spelled)
        assert status == 200 and errors == []
        other = "/api/v1/pipeline?schedule=gpipe&format=columns"
        assert pg.evaluate("async (u) => (await fetch(u)).status", other) == 404
        assert any(other in e for e in errors), errors
    finally:
        ctx.close()
