"""The /pipeline page: metrics equal the API's, controls round-trip through the URL, the canvas
draws the schedule, the playhead moves, race mode stacks two schedules, 422s are shown."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow

pytestmark = pytest.mark.browser


# the colour ("#rrggbb") at CSS points [x, y] of the lane-th canvas
LANE_PIXELS_JS = """([lane, points]) => {
  const c = document.querySelectorAll('.pl-canvas')[lane];
  const dpr = c.width / c.getBoundingClientRect().width;
  const ctx = c.getContext('2d');
  return points.map(([x, y]) => {
    const d = ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data;
    return '#' + [d[0], d[1], d[2]].map((v) => v.toString(16).padStart(2, '0')).join('');
  });
}"""
# the same on the first lane
PIXELS_JS = f"(points) => ({LANE_PIXELS_JS})([0, points])"


def _var(page: Any, name: str) -> str:
    value: str = page.evaluate(
        "(n) => getComputedStyle(document.documentElement).getPropertyValue(n).trim()", name
    )
    return value.lower()


def _geometry(page: Any, lane: int = 0) -> dict[str, float]:
    """A lane's plot box (CSS px inside the canvas), as the lane publishes it."""
    c = page.locator(".pl-canvas").nth(lane)
    return {
        k: float(c.get_attribute(f"data-{k}") or "nan")
        for k in ("plot-left", "plot-right", "row-top", "row-height")
    }


def _x(g: dict[str, float], t: float, makespan: float) -> float:
    return g["plot-left"] + (g["plot-right"] - g["plot-left"]) * t / makespan


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    n = int(hex_colour[1:], 16)
    return (n >> 16) & 255, (n >> 8) & 255, n & 255


def _distance(a: str, b: str) -> int:
    return sum(abs(x - y) for x, y in zip(_rgb(a), _rgb(b), strict=True))


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".pl-view .pl-canvas")
    page.wait_for_function("() => Number(document.querySelector('.pl-view').dataset.draws) > 0")


def _api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/pipeline?{query}", timeout=30)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _metric(page: Any, name: str, nth: int = 0) -> str:
    text: str = page.locator(f"#pl-metrics [data-metric='{name}']").nth(nth).inner_text()
    return text.strip()


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def _pause_at_end(page: Any) -> None:
    page.evaluate(
        """() => { const s = document.querySelector('.pl-scrub');
                   s.value = s.max; s.dispatchEvent(new Event('input')); }"""
    )
    page.wait_for_function(
        "() => { const v = document.querySelector('.pl-view');"
        " return v.dataset.playing === '0' &&"
        " Number(v.dataset.playhead) === Number(document.querySelector('.pl-scrub').max); }"
    )


def test_page_loads_clean_and_fits_480(live_server: str, page: Any) -> None:
    page.set_viewport_size({"width": 480, "height": 900})
    _open(page, f"{live_server}/pipeline?schedule=dualpipev&stages=4&microbatches=8&race=1f1b")
    assert page.locator(".pl-lane").count() == 2
    assert horizontal_overflow(page) == 0
    assert list(page.problems) == []


def test_metrics_equal_the_api(live_server: str, page: Any) -> None:
    query = "schedule=gpipe&stages=4&microbatches=8"
    _open(page, f"{live_server}/pipeline?{query}")
    api = _api(live_server, query)
    # GPipe, p = 4, m = 8, F = 1, B = I + W = 2: makespan (m + p − 1)(F + B) = 33,
    # bubble (p − 1)/(m + p − 1) = 3/11 = 27.3 % (Narayanan et al. 2021 §2.2.1)
    assert api["makespan"] == 33.0
    assert abs(api["bubble_fraction"] - 3 / 11) < 1e-9
    assert _metric(page, "bubble") == "27.3%"
    shown = page.locator("#pl-metrics [data-metric='bubble']").get_attribute("data-value")
    assert float(shown) == api["bubble_fraction"]
    assert _metric(page, "makespan") == "33"
    assert _metric(page, "closed-form") == "27.3%"
    assert _metric(page, "ops") == str(api["op_count"]) == "64"
    # GPipe holds every microbatch's activations on rank 0: m = 8
    peak = max(r["peak_activations"] for r in api["per_rank"])
    assert peak == 8
    assert _metric(page, "peak") == "8"
    # the lane header says the same
    assert page.locator(".pl-lane [data-metric='bubble']").inner_text() == "27.3%"
    assert list(page.problems) == []


HEADLINE_QUERIES = ["", "schedule=zb_h1&stages=8&microbatches=16"]


@pytest.mark.parametrize("path", ["/pipeline", "/embed/pipeline"])
@pytest.mark.parametrize("query", HEADLINE_QUERIES)
def test_headline_figures_equal_the_api_for_the_same_query(
    live_server: str, page: Any, path: str, query: str
) -> None:
    """The page and its embed show the makespan and bubble the API gives for the same string."""
    api = _api(live_server, query)
    _open(page, f"{live_server}{path}{'?' + query if query else ''}")
    page.wait_for_selector(f"#pl-metrics .metrics[data-schedule='{api['schedule']}']")
    for name, key in (("makespan", "makespan"), ("bubble", "bubble_fraction")):
        for where in ("#pl-metrics", ".pl-lane-head"):
            shown = page.locator(f"{where} [data-metric='{name}']").first
            assert float(shown.get_attribute("data-value") or "nan") == api[key], (where, name)
    assert _metric(page, "makespan") == f"{api['makespan']:g}"
    assert _metric(page, "bubble") == f"{api['bubble_fraction'] * 100:.1f}%"
    lane = page.locator(".pl-lane [data-metric='bubble']").first.inner_text()
    assert lane == f"{api['bubble_fraction'] * 100:.1f}%"
    assert list(page.problems) == []


def test_names_as_typed_give_the_apis_answer(live_server: str, page: Any) -> None:
    """schedule=ZB-H1 means zb_h1 on the page as in the API; the URL and the select say so."""
    api = _api(live_server, "schedule=ZB-H1&stages=8")
    assert api["schedule"] == "zb_h1"
    _open(page, f"{live_server}/pipeline?schedule=ZB-H1&stages=8")
    page.wait_for_selector(".pl-lane[data-schedule='zb_h1']")
    assert page.input_value("#pl-schedule") == "zb_h1"
    page.wait_for_function("() => location.search.includes('schedule=zb_h1')")
    value = page.locator("#pl-metrics [data-metric='makespan']").get_attribute("data-value")
    assert float(value or "nan") == api["makespan"]
    assert list(page.problems) == []


def test_a_misspelt_parameter_gets_the_apis_answer(live_server: str, page: Any) -> None:
    """?stage=8 is a 422 with a suggestion from the API, so the page says the same."""
    r = httpx.get(f"{live_server}/api/v1/pipeline?stage=8", timeout=30)
    assert r.status_code == 422
    msg = r.json()["detail"][0]["msg"]
    assert "did you mean 'stages'" in msg
    page.goto(f"{live_server}/pipeline?stage=8")
    err = page.locator("#pl-errors .api-error")
    err.wait_for(state="visible")
    assert msg in err.inner_text()
    page.wait_for_selector("#pl-chart .pl-nothing")


def test_controls_come_from_the_catalogue(live_server: str, page: Any) -> None:
    cat = httpx.get(f"{live_server}/api/v1/pipeline/schedules", timeout=30).json()
    _open(page, f"{live_server}/pipeline")
    options = page.locator("#pl-schedule option")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == [
        s["name"] for s in cat["schedules"]
    ]
    assert [options.nth(i).inner_text() for i in range(options.count())] == [
        s["label"] for s in cat["schedules"]
    ]
    bounds = {p["name"]: p for p in cat["parameters"]}
    assert page.get_attribute("#pl-stages", "max") == f"{bounds['stages']['maximum']:g}"
    assert page.get_attribute("#pl-microbatches", "max") == f"{bounds['microbatches']['maximum']:g}"
    presets = page.locator("#pl-presets button")
    assert [presets.nth(i).inner_text() for i in range(presets.count())] == [
        c["title"] for c in cat["cost_presets"]
    ]
    # each control shows the value the API used (its echo), defaults included
    echo = _api(live_server, "")["query"]
    assert page.input_value("#pl-stages") == str(echo["stages"])
    assert page.input_value("#pl-chunks") == str(echo["chunks"])
    dual = next(s for s in cat["schedules"] if s["name"] == "dualpipev")
    page.select_option("#pl-schedule", "dualpipev")
    page.wait_for_selector(".pl-lane[data-schedule='dualpipev']")
    assert page.locator("#pl-chunks-note").inner_text() == dual["rules"]
    assert page.locator("#pl-fb-control").is_visible()  # dualpipev reads forward_backward


def test_control_changes_url_chart_and_metrics(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline")
    assert page.locator(".pl-lane").first.get_attribute("data-schedule") == "1f1b"
    page.select_option("#pl-schedule", "zb_h1")
    page.wait_for_selector(".pl-lane[data-schedule='zb_h1']")
    assert _query(page)["schedule"] == ["zb_h1"]
    page.fill("#pl-microbatches", "12")
    page.locator("#pl-microbatches").dispatch_event("change")
    page.wait_for_function("() => location.search.includes('microbatches=12')")
    page.wait_for_function(
        "() => document.querySelector(\"#pl-metrics [data-metric='ops']\").textContent === '144'"
    )
    api = _api(live_server, "schedule=zb_h1&stages=4&microbatches=12")
    assert api["op_count"] == 4 * 12 * 3  # F, I and W per (stage, microbatch)
    page.wait_for_function(
        "(v) => document.querySelector(\"#pl-metrics [data-metric='bubble']\").dataset.value"
        " === String(v)",
        arg=api["bubble_fraction"],
    )
    assert _metric(page, "bubble") == f"{api['bubble_fraction'] * 100:.1f}%"
    # the chunks input is only live for interleaved 1F1B
    assert page.locator("#pl-chunks").is_disabled()
    page.select_option("#pl-schedule", "interleaved_1f1b")
    page.wait_for_selector(".pl-lane[data-schedule='interleaved_1f1b']")
    assert page.locator("#pl-chunks").is_enabled()
    assert list(page.problems) == []


def _without_t(url: str) -> dict[str, list[str]]:
    q = parse_qs(urlparse(url).query)
    q.pop("t", None)
    return q


def test_reload_reproduces_state(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline")
    page.select_option("#pl-schedule", "zb_h2")
    page.wait_for_selector(".pl-lane[data-schedule='zb_h2']")
    page.click("button[data-preset='zb']")
    page.wait_for_function("() => location.search.includes('backward_input=1.5')")
    api = _api(
        live_server,
        "schedule=zb_h2&stages=4&microbatches=8&forward=1&backward_input=1.5&backward_weight=0.5",
    )
    page.wait_for_function(
        "(v) => document.querySelector(\"#pl-metrics [data-metric='makespan']\").dataset.value"
        " === String(v)",
        arg=api["makespan"],
    )
    assert page.locator("#pl-metrics .metrics").get_attribute("data-schedule") == "zb_h2"
    bubble = _metric(page, "bubble")
    url = page.url
    q = _query(page)
    assert q["backward_input"] == ["1.5"] and q["backward_weight"] == ["0.5"]
    page.reload()
    page.wait_for_selector(".pl-lane[data-schedule='zb_h2']")
    page.wait_for_selector("#pl-metrics [data-metric='bubble']")
    # the playhead (t) is written when the autoplay ends, which may fall on either side of the
    # reload on a slow machine: every other key must be the same
    assert _without_t(page.url) == _without_t(url)
    assert page.input_value("#pl-schedule") == "zb_h2"
    assert page.input_value("#pl-backward-input") == "1.5"
    assert page.input_value("#pl-backward-weight") == "0.5"
    assert _metric(page, "bubble") == bubble
    assert bubble == f"{api['bubble_fraction'] * 100:.1f}%"
    assert list(page.problems) == []


def test_every_op_is_drawn_where_the_api_puts_it(live_server: str, page: Any) -> None:
    """At the end of 1F1B p = 4, m = 8, each of the 64 ops is painted in its kind's colour at
    its own rank row and [start, end] span; a bubble is not; the dark theme repaints."""
    query = "schedule=1f1b&stages=4&microbatches=8"
    api = _api(live_server, query)
    _open(page, f"{live_server}/pipeline?{query}")
    _pause_at_end(page)
    page.wait_for_timeout(100)

    def sample() -> tuple[list[str], list[str]]:
        g = _geometry(page)
        points = [
            # the middle of the op in time, 3 px into its row (above the microbatch label)
            [
                _x(g, (o["start"] + o["end"]) / 2, api["makespan"]),
                g["row-top"] + o["rank"] * g["row-height"] + 3,
            ]
            for o in api["ops"]
        ]
        want = [_var(page, f"--op-{o['kind'].lower()}") for o in api["ops"]]
        return page.evaluate(PIXELS_JS, points), want

    got, want = sample()
    assert got == want
    # rank 3 idles until the first forward reaches it at t = 3 (Narayanan et al. 2021 §2.2)
    g = _geometry(page)
    idle = page.evaluate(
        PIXELS_JS, [[_x(g, 1.5, api["makespan"]), g["row-top"] + 3 * g["row-height"] + 3]]
    )[0]
    assert idle not in {_var(page, "--op-f"), _var(page, "--op-b")}
    renders = page.locator(".pl-view").get_attribute("data-renders")
    page.click("#theme-toggle")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    page.wait_for_function(
        "(n) => document.querySelector('.pl-view').dataset.renders !== n", arg=renders
    )
    page.wait_for_timeout(100)
    got, want = sample()
    assert got == want and want[0] == _var(page, "--op-f")
    assert list(page.problems) == []


def test_playing_draws_up_to_the_playhead(live_server: str, page: Any) -> None:
    """While it plays the playhead advances; once paused, the line is drawn at its time, ops
    that ended before it are in full colour and ops that start after it are faded."""
    query = "stages=8&microbatches=16"
    api = _api(live_server, query)
    _open(page, f"{live_server}/pipeline?{query}&speed=0.5")  # 16 s to play: time to pause
    page.locator(".pl-chart-panel").scroll_into_view_if_needed()
    view = page.locator(".pl-view")
    page.wait_for_function("() => Number(document.querySelector('.pl-view').dataset.playhead) > 4")
    first = float(view.get_attribute("data-playhead") or "0")
    page.wait_for_function(
        "(t) => Number(document.querySelector('.pl-view').dataset.playhead) > t + 2", arg=first
    )
    page.click(".pl-play")
    t = float(view.get_attribute("data-playhead") or "0")
    page.wait_for_timeout(250)
    assert float(view.get_attribute("data-playhead") or "0") == t  # paused: the clock stops
    assert first < t < api["makespan"]
    g = _geometry(page)
    row0 = g["row-top"] + 3
    before = [o for o in api["ops"] if o["rank"] == 0 and o["end"] < t - 1]
    after = [o for o in api["ops"] if o["rank"] == 0 and o["start"] > t + 1]
    assert before and after
    points = [
        [_x(g, (o["start"] + o["end"]) / 2, api["makespan"]), row0] for o in (before[-1], after[0])
    ]
    # the playhead is a 2 px bar over [x − 1, x + 1]: the pixel from ⌈x − 1⌉ lies wholly in it
    points.append([math.ceil(_x(g, t, api["makespan"]) - 1), row0])
    done, to_come, line = page.evaluate(PIXELS_JS, points)
    full = _var(page, f"--op-{after[0]['kind'].lower()}")
    assert done == _var(page, f"--op-{before[-1]['kind'].lower()}")
    assert to_come != full and _distance(to_come, _var(page, "--surface")) < _distance(
        to_come, full
    )
    assert line == _var(page, "--accent")
    assert list(page.problems) == []


def test_hover_shows_op_and_its_chain(live_server: str, page: Any) -> None:
    query = "schedule=1f1b&stages=4&microbatches=8"
    api = _api(live_server, query)
    _open(page, f"{live_server}/pipeline?{query}")
    _pause_at_end(page)
    page.locator(".pl-canvas").first.scroll_into_view_if_needed()
    box = page.locator(".pl-canvas").first.bounding_box()
    g = _geometry(page)
    # rank 2 runs F0 F1 B0 F2 B1 … (one warm-up forward, then 1F1B); its fifth op, B1, waits
    # for its own forward and for rank 3's backward of microbatch 1
    ops = api["ops"]
    op = [o for o in ops if o["rank"] == 2][4]
    assert op["kind"] == "B" and len(op["waits_for"]) == 2
    x = _x(g, (op["start"] + op["end"]) / 2, api["makespan"])
    page.mouse.move(box["x"] + x, box["y"] + g["row-top"] + 2 * g["row-height"] + 6)
    tip = page.locator(".tooltip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert f"B · microbatch {op['microbatch']}" in text
    assert "rank: 2" in text
    assert f"start: {op['start']:g}" in text and f"end: {op['end']:g}" in text
    waits = ", ".join(
        f"{ops[d]['kind']}{ops[d]['microbatch']} (rank {ops[d]['rank']})" for d in op["waits_for"]
    )
    assert f"waits for: {waits}" in text
    assert list(page.problems) == []


def test_race_mode_shows_two_schedules(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?schedule=1f1b&stages=4&microbatches=8&race=zb_h1")
    lanes = page.locator(".pl-lane")
    assert lanes.count() == 2
    assert lanes.nth(0).get_attribute("data-schedule") == "1f1b"
    assert lanes.nth(1).get_attribute("data-schedule") == "zb_h1"
    a = _api(live_server, "schedule=1f1b&stages=4&microbatches=8")
    b = _api(live_server, "schedule=zb_h1&stages=4&microbatches=8")
    assert lanes.nth(0).locator("[data-metric='bubble']").inner_text() == (
        f"{a['bubble_fraction'] * 100:.1f}%"
    )
    assert lanes.nth(1).locator("[data-metric='bubble']").inner_text() == (
        f"{b['bubble_fraction'] * 100:.1f}%"
    )
    # ZB-H1 with F = I = W = 1 beats 1F1B (Qi et al. 2023): fewer idle units, shorter makespan
    assert b["makespan"] < a["makespan"]
    assert "ZB-H1 finishes" in page.locator(".pl-race-verdict").inner_text()
    # both lanes share one time scale: equal canvas widths, one playhead
    w0 = lanes.nth(0).locator("canvas").bounding_box()["width"]
    w1 = lanes.nth(1).locator("canvas").bounding_box()["width"]
    assert w0 == w1
    # past its own makespan the faster lane says it is done (same time scale as the slower)
    canvas = lanes.nth(1).locator("canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    left = float(canvas.get_attribute("data-plot-left"))
    right = float(canvas.get_attribute("data-plot-right"))
    t = (b["makespan"] + a["makespan"]) / 2
    page.mouse.move(box["x"] + left + (right - left) * t / a["makespan"], box["y"] + 20)
    tip = page.locator(".tooltip")
    tip.wait_for(state="visible")
    assert "ZB-H1 is done" in tip.inner_text()
    page.select_option("#pl-race", "")
    page.wait_for_function("() => document.querySelectorAll('.pl-lane').length === 1")
    assert "race" not in _query(page)
    assert list(page.problems) == []


def test_invalid_combination_shows_the_api_message(live_server: str, page: Any) -> None:
    query = "schedule=dualpipev&stages=4&microbatches=4"
    r = httpx.get(f"{live_server}/api/v1/pipeline?{query}", timeout=30)
    assert r.status_code == 422
    msg = r.json()["detail"][0]["msg"]
    assert "8" in msg  # needs m ≥ 2p = 8
    page.goto(f"{live_server}/pipeline?{query}")
    err = page.locator("#pl-errors .api-error")
    err.wait_for(state="visible")
    assert msg in err.inner_text()
    assert "microbatches" in err.inner_text()
    # the only problems are the API's own 422 (the response and the console's note of it)
    assert any("HTTP 422" in p for p in page.problems)
    assert all("422" in p for p in page.problems), list(page.problems)
    # fixing m clears the message and draws the chart
    page.problems.clear()
    page.fill("#pl-microbatches", "8")
    page.locator("#pl-microbatches").dispatch_event("change")
    err.wait_for(state="hidden")
    page.wait_for_selector(".pl-lane[data-schedule='dualpipev']")
    assert list(page.problems) == []


def test_links_to_api_and_trace(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?schedule=zbv&stages=4&microbatches=8")
    api_href = page.get_attribute("#pl-api-link", "href")
    trace_href = page.get_attribute("#pl-trace-link", "href")
    assert api_href is not None and trace_href is not None
    assert "schedule=zbv" in api_href and "format=chrome_trace" in trace_href
    data = httpx.get(live_server + api_href, timeout=30).json()
    assert _metric(page, "bubble") == f"{data['bubble_fraction'] * 100:.1f}%"
    trace = httpx.get(live_server + trace_href, timeout=30).json()
    assert len([e for e in trace["traceEvents"] if e.get("ph") == "X"]) == data["op_count"]


def test_embed_loads_and_is_frameable(live_server: str, page: Any) -> None:
    r = httpx.get(f"{live_server}/embed/pipeline?schedule=zbv", timeout=30)
    assert r.status_code == 200
    assert "frame-ancestors *" in r.headers.get("content-security-policy", "")
    page.set_viewport_size({"width": 480, "height": 800})
    _open(page, f"{live_server}/embed/pipeline?schedule=zbv")
    assert page.locator(".site-header").count() == 0
    assert horizontal_overflow(page) == 0
    assert list(page.problems) == []


def test_home_preview_draws(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/")
    card = page.locator("[data-preview='pipeline']")
    card.scroll_into_view_if_needed()
    page.wait_for_selector("[data-preview='pipeline'] canvas.pl-preview[data-painted='1']")
    drawn = page.evaluate(
        """() => {
          const hex = getComputedStyle(document.documentElement)
            .getPropertyValue('--surface-2').trim();
          const n = parseInt(hex.slice(1), 16);
          const bg = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
          const c = document.querySelector("[data-preview='pipeline'] canvas");
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let k = 0;
          for (let i = 0; i < d.length; i += 4) {
            const dist = Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1])
              + Math.abs(d[i + 2] - bg[2]);
            if (dist > 12) k++;
          }
          return k;
        }"""
    )
    # 64 ops of a 4-rank, 8-microbatch 1F1B fill most of a 300 × 120 card
    assert drawn > 5000
    assert [p for p in page.problems if "pipeline" in p] == []


def test_reduced_motion_shows_the_final_state(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    pg = context.new_page()
    try:
        _open(pg, f"{live_server}/pipeline?schedule=gpipe&stages=4&microbatches=8")
        view = pg.locator(".pl-view")
        assert view.get_attribute("data-playing") == "0"
        assert float(view.get_attribute("data-playhead")) == 33.0  # the makespan
        # the final state is drawn: GPipe's last op, rank 0's B of microbatch 7 at 31..33
        pg.wait_for_timeout(100)
        g = _geometry(pg)
        last = pg.evaluate(PIXELS_JS, [[_x(g, 32, 33), g["row-top"] + 3]])[0]
        assert last == _var(pg, "--op-b")
        # the user can still play it on purpose
        pg.click(".pl-play")
        pg.wait_for_function("() => document.querySelector('.pl-view').dataset.playing === '1'")
    finally:
        context.close()


def test_drag_on_the_chart_scrubs(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?schedule=gpipe&stages=4&microbatches=8")
    canvas = page.locator(".pl-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    left = float(canvas.get_attribute("data-plot-left"))
    right = float(canvas.get_attribute("data-plot-right"))
    x = box["x"] + left + (right - left) * 0.5
    page.mouse.move(x, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(x + 1, box["y"] + 20)
    page.mouse.up()
    view = page.locator(".pl-view")
    page.wait_for_function("() => document.querySelector('.pl-view').dataset.playing === '0'")
    # data-playhead is written when the next frame paints
    page.wait_for_function(
        "() => Math.abs(Number(document.querySelector('.pl-view').dataset.playhead) - 16.5) < 0.5"
    )
    t = float(view.get_attribute("data-playhead"))
    page.wait_for_timeout(200)
    assert float(view.get_attribute("data-playhead")) == t  # dragging paused the clock


def test_zoom_and_svg_export(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?schedule=1f1b&stages=4&microbatches=8")
    page.click("button[aria-label='Zoom in']")
    assert page.locator(".pl-zoom-label").inner_text() == "2× zoom"
    page.click("button[aria-label='Zoom to fit']")
    assert page.locator(".pl-zoom-label").inner_text() == ""
    with page.expect_download() as info:
        page.click("text=Download SVG")
    path = info.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<svg" in text
    # one rect per op (64) plus the hatched row backgrounds and the legend swatches
    assert text.count("<rect") >= 64
    assert list(page.problems) == []


def test_stage_costs_round_trip(live_server: str, page: Any) -> None:
    query = "schedule=1f1b&stages=4&microbatches=8&stage_costs=1.3,1,1,1.6"
    _open(page, f"{live_server}/pipeline?{query}")
    assert page.input_value("#pl-stage-costs") == "1.3,1,1,1.6"
    api = _api(live_server, query)
    assert _metric(page, "makespan") == f"{api['makespan']:g}"
    # the closed form assumes equal stages, so it is not applied
    assert api["closed_form"]["applies"] is False
    assert _metric(page, "closed-form") == "n/a"
    page.fill("#pl-stage-costs", "1,2")
    err = page.locator("#pl-errors .api-error")
    err.wait_for(state="visible")
    assert "stage_costs" in err.inner_text() and "4" in err.inner_text()


def test_op_order_as_text(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?schedule=1f1b&stages=4&microbatches=8")
    order = page.locator(".pl-lane .pl-order")
    order.locator("summary").click()
    rows = order.locator("li")
    assert rows.count() == 4
    # 1F1B (Narayanan et al. 2021 §2.2): rank 0 warms up with p = 4 forwards; the last rank
    # alternates from the start, beginning with microbatch 0
    assert rows.nth(0).inner_text().startswith("rank 0: F0 F1 F2 F3 B0 F4 B1")
    assert rows.nth(3).inner_text().startswith("rank 3: F0 B0 F1 B1 F2 B2")
    assert horizontal_overflow(page) == 0


def test_keyboard_steps_the_playhead_and_announces(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?schedule=gpipe&stages=4&microbatches=8")
    canvas = page.locator(".pl-canvas").first
    page.locator(".pl-scrub").focus()
    page.keyboard.press("ArrowRight")  # pauses, steps by 1/100 of the makespan from wherever
    view = page.locator(".pl-view")
    assert view.get_attribute("data-playing") == "0"
    # scrub to 0 and step: 10 steps of 0.33 lands inside rank 0's forward of microbatch 3
    page.evaluate(
        "() => { const s = document.querySelector('.pl-scrub'); s.value = '0';"
        " s.dispatchEvent(new Event('input')); }"
    )
    canvas.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    # data-playhead is written when the next frame paints
    page.wait_for_function(
        "() => Math.abs(Number(document.querySelector('.pl-view').dataset.playhead) - 3.3) < 1e-9"
    )
    said = page.locator(".pl-view [aria-live='polite']").inner_text()
    # GPipe: rank r starts microbatch k's forward at t = k + r (F = 1)
    assert "rank 0 F3" in said and "rank 1 F2" in said and "rank 3 F0" in said


def test_race_error_keeps_the_main_schedule(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/pipeline?schedule=1f1b&stages=4&microbatches=6&race=dualpipev")
    err = page.locator("#pl-errors .api-error")
    err.wait_for(state="visible")
    text = err.inner_text()
    assert text.startswith("race against DualPipeV:")
    r = httpx.get(
        f"{live_server}/api/v1/pipeline?schedule=dualpipev&stages=4&microbatches=6", timeout=30
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] in text
    page.wait_for_selector(".pl-lane[data-schedule='1f1b']")
    assert page.locator(".pl-lane").count() == 1
    assert _metric(page, "ops") == "48"


def test_dependency_chain_geometry(live_server: str, page: Any) -> None:
    """The pure helpers behind hover: ops found by rank + time, chains from `waits_for`."""
    _open(page, f"{live_server}/pipeline")
    out = page.evaluate(
        """async () => {
          const m = await import('/static/js/views/pipeline-data.js');
          const data = await (await fetch(
            '/api/v1/pipeline?schedule=gpipe&stages=4&microbatches=8&format=columns')).json();
          const P = m.packSchedule(data);
          const name = (i) => i < 0 ? null
            : `${P.kindNames[P.kind[i]]}${P.mb[i]}@s${P.stage[i]}r${P.rank[i]}`;
          const f = m.opAt(P, 2, 5.5);         // rank 2 at t = 5.5: F3 (starts at 3 + 2)
          const b = m.opAt(P, 3, 12.5);        // rank 3 at t = 12.5: B0 (11..13)
          const idle = m.opAt(P, 3, 1.5);      // rank 3 waits until t = 3
          const cf = m.dependencyChain(P, f);
          const cb = m.dependencyChain(P, b);
          const cross = [];
          for (let q = 0; q < cf.links.length; q += 2) {
            if (P.rank[cf.links[q]] !== P.rank[cf.links[q + 1]]) cross.push(q);
          }
          return {
            f: name(f), b: name(b), idle,
            predsF: Array.from(cf.preds, name), predsB: Array.from(cb.preds, name),
            members: cf.members.length, links: cf.links.length / 2, cross: cross.length,
            act: m.activationAt(P, 0, 7.5),
          };
        }"""
    )
    assert out["f"] == "F3@s2r2" and out["b"] == "B0@s3r3" and out["idle"] == -1
    assert out["predsF"] == ["F3@s1r1"]  # a forward waits for the previous stage's forward
    assert out["predsB"] == ["F0@s3r3"]  # the last stage's backward waits for its own forward
    # microbatch 3: 4 forwards + 4 backwards; edges F0→F1→F2→F3 (3), each B on its own F (4)
    # and B3→B2→B1→B0 (3); 6 of them cross ranks (the F→B edges stay on their rank)
    assert (out["members"], out["links"], out["cross"]) == (8, 10, 6)
    assert out["act"] == 8  # GPipe: all 8 microbatches in flight on rank 0 before the backwards


def test_tap_shows_the_op_on_touch_screens(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 480, "height": 900}, has_touch=True)
    pg = context.new_page()
    try:
        _open(pg, f"{live_server}/pipeline?schedule=gpipe&stages=4&microbatches=8")
        _pause_at_end(pg)
        canvas = pg.locator(".pl-canvas").first
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        left = float(canvas.get_attribute("data-plot-left"))
        pg.touchscreen.tap(box["x"] + left + 2, box["y"] + 6 + 12)
        tip = pg.locator(".tooltip")
        tip.wait_for(state="visible")
        assert "F · microbatch 0" in tip.inner_text()
        # a tap inspects; it does not move the playhead
        assert float(pg.locator(".pl-view").get_attribute("data-playhead")) == 33.0
    finally:
        context.close()


OVERLAP_BANDS_JS = """([x, ys]) => {
  const c = document.querySelector('.pl-canvas');
  const dpr = c.width / c.getBoundingClientRect().width;
  const ctx = c.getContext('2d');
  return ys.map((y) => {
    const d = ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data;
    return '#' + [d[0], d[1], d[2]].map((v) => v.toString(16).padStart(2, '0')).join('');
  });
}"""


def test_overlapped_span_shows_forward_and_backward_bands(live_server: str, page: Any) -> None:
    # DualPipeV p = 4, m = 10: rank 0 runs F7 (chunk 0) and B3 (chunk 1) as one overlapped
    # span (deepseek-ai/DualPipe dualpipev.py step 4). The legend promises an F band on top
    # and a B band below; the B op used to paint its F&B fill over its partner's F band.
    query = "schedule=dualpipev&stages=4&microbatches=10"
    data = _api(live_server, query)
    pair = [
        o
        for o in data["ops"]
        if o["rank"] == 0
        and o.get("overlapped")
        and o["microbatch"] == 7
        and o["kind"] == "F"
        and o["chunk"] == 0
    ]
    assert len(pair) == 1
    op = pair[0]
    _open(page, f"{live_server}/pipeline?{query}")
    _pause_at_end(page)
    page.wait_for_timeout(100)
    g = _geometry(page)
    x = _x(g, (op["start"] + op["end"]) / 2, data["makespan"])
    # rank 0's bar is row-height − 1 px tall, each band 22 % of it; the middle sample sits
    # above the "7|3" label
    y0, bar = g["row-top"], g["row-height"] - 1
    top, mid, bottom = page.evaluate(OVERLAP_BANDS_JS, [x, [y0 + 1.5, y0 + 7.5, y0 + bar - 1.5]])
    var = page.evaluate(
        "(n) => getComputedStyle(document.documentElement).getPropertyValue(n).trim()", "--op-f"
    )
    assert top == var.lower()
    fb = page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--op-fb').trim()"
    )
    b = page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--op-b').trim()"
    )
    assert mid == fb.lower()
    assert bottom == b.lower()
    assert list(page.problems) == []


def test_bad_link_says_nothing_was_simulated_and_marks_the_field(
    live_server: str, page: Any
) -> None:
    page.goto(f"{live_server}/pipeline?schedule=interleaved_1f1b&stages=4&microbatches=6")
    page.locator("#pl-errors .api-error").wait_for(state="visible")
    assert "multiple of stages" in page.locator("#pl-errors .api-error").inner_text()
    # no endless "Simulating…" placeholder once the API has answered 422
    page.wait_for_selector("#pl-chart .pl-nothing")
    assert page.locator("#pl-metrics .loading").count() == 0
    assert page.get_attribute("#pl-microbatches", "aria-invalid") == "true"
    # the hint under the controls states the same rule as the API (a multiple, not m ≥ p)
    assert "multiple of p" in page.locator("#pl-chunks-note").inner_text()
    page.fill("#pl-microbatches", "8")
    page.locator("#pl-microbatches").dispatch_event("change")
    page.wait_for_selector(".pl-lane[data-schedule='interleaved_1f1b']")
    assert page.get_attribute("#pl-microbatches", "aria-invalid") is None
    assert all("422" in p for p in page.problems), list(page.problems)


def test_race_error_marks_the_race_control(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?schedule=1f1b&stages=4&microbatches=6&race=dualpipev")
    page.locator("#pl-errors .api-error").wait_for(state="visible")
    assert page.get_attribute("#pl-race", "aria-invalid") == "true"


def test_readout_shows_the_makespan_exactly(live_server: str, page: Any) -> None:
    # makespan 11 × (1.23456 + 2) = 35.58016: a 4-digit readout said 35.58
    query = "schedule=1f1b&stages=4&microbatches=8&forward=1.23456"
    data = _api(live_server, query)
    assert abs(data["makespan"] - 35.58016) < 1e-9
    _open(page, f"{live_server}/pipeline?{query}")
    _pause_at_end(page)
    page.wait_for_function(
        "() => document.querySelector('.pl-readout').textContent.includes('35.5802 / 35.5802')"
    )


def test_home_and_end_keys_jump_the_playhead(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?schedule=1f1b&stages=4&microbatches=8")
    canvas = page.locator(".pl-canvas").first
    canvas.focus()
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('.pl-view').dataset.playhead === '33'")
    assert page.locator(".pl-view").get_attribute("data-playing") == "0"
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('.pl-view').dataset.playhead === '0'")
    assert "Home" in (canvas.get_attribute("aria-label") or "")
    assert list(page.problems) == []


def test_zb_h2_shows_the_papers_claim_next_to_the_simulation(live_server: str, page: Any) -> None:
    # F = I = W: Qi et al.'s ZB-H2 formula gives a zero bubble, which needs the next
    # iteration's warm-up; within one iteration the bound is m(F + I + W) + (p − 1)F = 27
    query = "schedule=zb_h2&stages=4&microbatches=8"
    api = _api(live_server, query)
    assert api["closed_form"]["applies"] is False
    assert api["closed_form"]["bubble_fraction"] == 0
    assert api["makespan"] == 27
    _open(page, f"{live_server}/pipeline?{query}")
    card = page.locator("#pl-metrics .metric").filter(has_text="bubble, closed form")
    assert _metric(page, "closed-form") == "n/a"
    assert "the formula gives 0.0%" in card.inner_text()
    assert _metric(page, "bubble") == f"{api['bubble_fraction'] * 100:.1f}%"


def test_svg_export_names_both_ops_of_an_overlapped_span(live_server: str, page: Any) -> None:
    # DualPipeV p = 4, m = 10, rank 0: F7 (chunk 0) overlapped with B3 (chunk 1), as in
    # deepseek-ai/DualPipe dualpipev.py step 4; the export used to name only the forward
    _open(page, f"{live_server}/pipeline?schedule=dualpipev&stages=4&microbatches=10")
    with page.expect_download() as info:
        page.click("text=Download SVG")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "F&amp;B: F mb 7 + B mb 3 rank 0" in text
    assert ">7|3<" in text
    assert list(page.problems) == []


def test_negative_cost_in_a_link_shows_the_api_error(live_server: str, page: Any) -> None:
    page.goto(live_server + "/pipeline?forward=-1", wait_until="networkidle")
    alert = page.locator(".api-error:not([hidden])").first
    alert.wait_for(timeout=10_000)
    assert "forward" in alert.inner_text()


def _seconds(s: float) -> str:
    """A time as the page writes seconds: ms below one second (2 decimals), else s (3)."""
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.3f} s"


MODEL_QUERIES = [
    # the default layout with a model, as the memory page links it
    "model=llama3-8b&gpu=h100-sxm&stages=4&microbatches=8",
    # nothing at its default: another schedule, model, GPU, layout and efficiency
    "schedule=zb_h1&model=llama3-70b&gpu=b200&tp=8&seq_len=8192&stages=8&microbatches=16"
    "&efficiency=0.4",
]


@pytest.mark.parametrize("path", ["/pipeline", "/embed/pipeline"])
@pytest.mark.parametrize("query", MODEL_QUERIES)
def test_a_model_shows_the_apis_makespan_in_seconds(
    live_server: str, page: Any, path: str, query: str
) -> None:
    api = _api(live_server, query)
    assert api["units"] == "seconds"
    _open(page, f"{live_server}{path}?{query}")
    page.wait_for_selector(f"#pl-metrics .metrics[data-schedule='{api['schedule']}']")
    for where in ("#pl-metrics", ".pl-lane-head"):
        shown = page.locator(f"{where} [data-metric='makespan']").first
        assert float(shown.get_attribute("data-value") or "nan") == api["makespan"], where
        assert shown.inner_text().strip() == _seconds(api["makespan"]), where
    assert "seconds" in page.locator("#pl-metrics .metric").first.inner_text()
    assert api["cost_model"]["note"] in page.locator("#pl-metrics .pl-cost-model").inner_text()
    assert page.input_value("#pl-model") == api["query"]["model"]
    assert page.locator("#pl-forward").is_disabled()  # derived by the API, not given
    assert list(page.problems) == []


def test_choosing_a_model_switches_to_seconds_and_back(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/pipeline?stages=4&microbatches=8")
    assert _metric(page, "makespan") == "33"
    page.select_option("#pl-model", "llama3-8b")
    page.wait_for_function("() => location.search.includes('model=llama3-8b')")
    api = _api(live_server, "model=llama3-8b&stages=4&microbatches=8")
    page.wait_for_function(
        "(v) => document.querySelector(\"#pl-metrics [data-metric='makespan']\")"
        ".dataset.value === v",
        arg=str(api["makespan"]),
    )
    assert _metric(page, "makespan") == _seconds(api["makespan"])
    assert page.locator("#pl-efficiency").is_visible()
    page.fill("#pl-efficiency", "0.25")
    page.locator("#pl-efficiency").dispatch_event("change")
    slower = _api(live_server, "model=llama3-8b&stages=4&microbatches=8&efficiency=0.25")
    page.wait_for_function(
        "(v) => document.querySelector(\"#pl-metrics [data-metric='makespan']\")"
        ".dataset.value === v",
        arg=str(slower["makespan"]),
    )
    page.select_option("#pl-model", "")
    page.wait_for_function("() => !location.search.includes('model')")
    page.wait_for_function(
        "() => document.querySelector(\"#pl-metrics [data-metric='makespan']\")"
        ".dataset.value === '33'"
    )
    assert not page.locator("#pl-efficiency").is_visible()
    assert "efficiency" not in _query(page)
    assert list(page.problems) == []


def test_a_model_with_an_explicit_cost_shows_the_apis_422(live_server: str, page: Any) -> None:
    r = httpx.get(f"{live_server}/api/v1/pipeline?model=llama3-8b&forward=2", timeout=30)
    assert r.status_code == 422
    msg = r.json()["detail"][0]["msg"]
    page.goto(f"{live_server}/pipeline?model=llama3-8b&forward=2")
    err = page.locator("#pl-errors .api-error")
    err.wait_for(state="visible")
    assert msg in err.inner_text()
    assert page.get_attribute("#pl-forward", "aria-invalid") == "true"


# ---- the frame in the URL: playhead `t`, time window `from`/`to`, pinned `op` ----

FRAME_QUERY = "schedule=1f1b&stages=4&microbatches=8"


def _state_keys() -> tuple[str, ...]:
    from app.pages import VIEWS

    return next(v for v in VIEWS if v.key == "pipeline").state


def _x_in(g: dict[str, float], t: float, lo: float, hi: float) -> float:
    """CSS x of time t when the plot shows the window [lo, hi]."""
    return g["plot-left"] + (g["plot-right"] - g["plot-left"]) * (t - lo) / (hi - lo)


def _api_requests(page: Any) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if "/api/" in r.url else None)
    return urls


def _no_state_key_in(urls: list[str]) -> None:
    keys = set(_state_keys())
    assert urls, "no API request seen"
    for url in urls:
        assert not keys & set(parse_qs(urlparse(url).query, keep_blank_values=True)), url


def _wait_url_has(page: Any, key: str, present: bool = True) -> None:
    page.wait_for_function(
        "([k, on]) => new URLSearchParams(location.search).has(k) === on", arg=[key, present]
    )


def test_the_columns_ops_are_the_apis_ops_in_order(live_server: str) -> None:
    """`op` is an index into the API's `ops` list: the columns the page reads are that list."""
    ops = _api(live_server, FRAME_QUERY)["ops"]
    cols = _api(live_server, FRAME_QUERY + "&format=columns")["ops"]
    assert [(o["rank"], o["microbatch"], o["kind"], o["start"], o["end"]) for o in ops] == list(
        zip(cols["rank"], cols["microbatch"], cols["kind"], cols["start"], cols["end"], strict=True)
    )


def test_reading_the_chart_writes_the_frame_to_the_url(live_server: str, page: Any) -> None:
    """Pausing, zooming, pinning, stepping and Escape each rewrite the URL (replaceState, not
    per animation frame); no API request ever carries a state key."""
    api = _api(live_server, FRAME_QUERY)
    makespan = api["makespan"]
    urls = _api_requests(page)
    page.add_init_script(
        "window.__writes = 0; const r = history.replaceState.bind(history);"
        " history.replaceState = (...a) => { window.__writes++; return r(...a); };"
        " history.pushState = () => { throw new Error('pushState'); };"
    )
    _open(page, f"{live_server}/pipeline?{FRAME_QUERY}&speed=0.5")
    page.wait_for_function("() => Number(document.querySelector('.pl-view').dataset.playhead) > 0")
    writes = page.evaluate("() => window.__writes")
    page.wait_for_timeout(1000)  # playing: the URL is not rewritten frame by frame
    assert page.locator(".pl-view").get_attribute("data-playing") == "1"
    assert page.evaluate("() => window.__writes") == writes
    assert "t" not in _query(page)
    _pause_at_end(page)
    page.wait_for_function(
        "(m) => new URLSearchParams(location.search).get('t') === String(m)", arg=f"{makespan:g}"
    )
    # zoom in 2× about the middle of the whole schedule: the window is its middle half
    page.click("button[aria-label='Zoom in']")
    _wait_url_has(page, "from")
    q = _query(page)
    assert float(q["from"][0]) == pytest.approx(makespan / 4, rel=1e-5)
    assert float(q["to"][0]) == pytest.approx(3 * makespan / 4, rel=1e-5)
    page.click("button[aria-label='Zoom to fit']")
    _wait_url_has(page, "from", False)
    # a click on rank 2's fifth op (1F1B: F0 F1 B0 F2 B1) pins it: its index in the API's ops
    op = [o for o in api["ops"] if o["rank"] == 2][4]
    index = api["ops"].index(op)
    canvas = page.locator(".pl-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    g = _geometry(page)
    page.mouse.click(
        box["x"] + _x(g, (op["start"] + op["end"]) / 2, makespan),
        box["y"] + g["row-top"] + 2 * g["row-height"] + 6,
    )
    page.wait_for_function(
        "(i) => new URLSearchParams(location.search).get('op') === i", arg=str(index)
    )
    assert page.locator(".pl-pin").get_attribute("data-op") == str(index)
    # the click also put the playhead inside that op (a click is a one-point drag)
    t = float(_query(page)["t"][0])
    assert op["start"] <= t <= op["end"]
    page.keyboard.press("Escape")
    _wait_url_has(page, "op", False)
    assert page.locator(".pl-pin").count() == 0
    # a step from the keyboard writes the new playhead
    page.locator(".pl-scrub").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(t) => Number(new URLSearchParams(location.search).get('t')) > t", arg=t
    )
    # Enter on the chart pins the op running at the playhead (rank 0 first)
    canvas.focus()
    page.keyboard.press("Enter")
    _wait_url_has(page, "op")
    at = float(_query(page)["t"][0])
    pinned = api["ops"][int(_query(page)["op"][0])]
    assert pinned["rank"] == 0 and pinned["start"] <= at <= pinned["end"]
    _no_state_key_in(urls)
    assert list(page.problems) == []


FRAME_PATHS = [
    "/pipeline",
    "/embed/pipeline?controls=1",
    "/embed/pipeline?controls=compact",
    "/embed/pipeline?controls=0",
]


@pytest.mark.parametrize("path", FRAME_PATHS)
def test_a_link_with_a_playhead_and_a_window_opens_on_that_frame(
    live_server: str, page: Any, path: str
) -> None:
    """t = 14.5 in the window [6, 22]: paused, the playhead line at the window's scale of t,
    every op that lies in the window before t in its kind's full colour at that scale."""
    t, lo, hi = 14.5, 6.0, 22.0
    api = _api(live_server, FRAME_QUERY)
    assert lo < t < hi < api["makespan"]
    urls = _api_requests(page)
    sep = "&" if "?" in path else "?"
    _open(page, f"{live_server}{path}{sep}{FRAME_QUERY}&t={t}&from={lo}&to={hi}")
    view = page.locator(".pl-view")
    page.wait_for_function("() => document.querySelector('.pl-view').dataset.playhead === '14.5'")
    assert view.get_attribute("data-playing") == "0"
    page.locator(".pl-canvas").first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    assert float(view.get_attribute("data-playhead") or "nan") == t  # static: no clock runs
    g = _geometry(page)
    inside = [o for o in api["ops"] if o["start"] >= lo and o["end"] <= t]
    assert len(inside) >= 8
    points = [
        [
            _x_in(g, (o["start"] + o["end"]) / 2, lo, hi),
            g["row-top"] + o["rank"] * g["row-height"] + 3,
        ]
        for o in inside
    ]
    row0 = g["row-top"] + 3
    points.append([math.ceil(_x_in(g, t, lo, hi) - 1), row0])
    got = page.evaluate(PIXELS_JS, points)
    assert got[:-1] == [_var(page, f"--op-{o['kind'].lower()}") for o in inside]
    assert got[-1] == _var(page, "--accent")
    # the link survives the page's own rewrite of its URL
    q = _query(page)
    assert (q["t"], q["from"], q["to"]) == (["14.5"], ["6"], ["22"])
    controls = parse_qs(urlparse(path).query).get("controls")
    if controls == ["0"]:
        assert page.locator(".pl-transport").is_hidden()
    else:
        # play resumes from t, not from 0
        page.click(".pl-play")
        page.wait_for_function(
            "() => Number(document.querySelector('.pl-view').dataset.playhead) > 14.5"
        )
        page.click(".pl-play")
        assert float(view.get_attribute("data-playhead") or "nan") > t
    _no_state_key_in(urls)
    assert list(page.problems) == []


def _pin_text(page: Any) -> str:
    text: str = page.locator(".pl-pin").inner_text()
    return " ".join(text.split())


@pytest.mark.parametrize("path", ["/pipeline", "/embed/pipeline?controls=0"])
def test_a_link_with_a_pinned_op_shows_its_record(live_server: str, page: Any, path: str) -> None:
    """op=<i> opens with the API's op i pinned: its card says the API's stage, microbatch, kind,
    start and end; in race mode race.<i> pins the raced schedule's op i, and both lanes draw
    the playhead at the same time scale."""
    race = _api(live_server, "schedule=zb_h1&stages=4&microbatches=8")
    main = _api(live_server, FRAME_QUERY)
    cat = httpx.get(f"{live_server}/api/v1/pipeline/schedules", timeout=30).json()
    kinds = {k["kind"]: k["title"] for k in race["kinds"]}
    index = next(i for i, o in enumerate(race["ops"]) if o["rank"] == 2 and o["kind"] == "W")
    op = race["ops"][index]
    t = 12.0
    urls = _api_requests(page)
    sep = "&" if "?" in path else "?"
    _open(page, f"{live_server}{path}{sep}{FRAME_QUERY}&race=zb_h1&t={t:g}&op=race.{index}")
    pin = page.locator(".pl-pin")
    pin.wait_for(state="visible")
    assert pin.get_attribute("data-op") == f"race.{index}"
    # the card sits in the raced lane
    assert page.locator(".pl-lane").nth(1).locator(".pl-pin").count() == 1
    label = next(s["label"] for s in cat["schedules"] if s["name"] == "zb_h1")
    text = _pin_text(page)
    assert f"Pinned: W · microbatch {op['microbatch']}" in text
    assert f"schedule: {label}" in text
    assert f"rank: {op['rank']}" in text and f"stage: {op['stage']}" in text
    assert f"kind: W, {kinds['W']}" in text
    assert f"start: {op['start']:g}" in text and f"end: {op['end']:g}" in text
    # one time scale: the slower schedule's makespan spans both plots
    span = max(main["makespan"], race["makespan"])
    for lane in (0, 1):
        g = _geometry(page, lane)
        x = math.ceil(_x(g, t, span) - 1)
        assert page.evaluate(LANE_PIXELS_JS, [lane, [[x, g["row-top"] + 3]]]) == [
            _var(page, "--accent")
        ]
    if "controls=0" not in path:
        page.click(".pl-pin button")
        _wait_url_has(page, "op", False)
        assert pin.count() == 0
    _no_state_key_in(urls)
    assert list(page.problems) == []


BAD_FRAMES = [
    "t=-5",
    "t=abc",
    "t=1e9",
    "from=-1&to=5",
    "from=10&to=5",
    "from=0&to=999",
    "from=3",
    "from=1&to=1.000001",
    "op=999",
    "op=race.2",
    "op=-1",
    "op=abc",
    "speed=3",
]


@pytest.mark.parametrize("bad", BAD_FRAMES)
def test_a_bad_frame_value_falls_back_silently(live_server: str, page: Any, bad: str) -> None:
    """Out of range or unreadable: the default (autoplay, the whole schedule, nothing pinned,
    speed 1×), the bad key dropped from the URL, and no console error."""
    _open(page, f"{live_server}/pipeline?{FRAME_QUERY}&{bad}")
    for key in parse_qs(bad):
        _wait_url_has(page, key, False)
    assert page.locator(".pl-view").get_attribute("data-playing") == "1"
    assert page.locator(".pl-zoom-label").inner_text() == ""
    assert page.locator(".pl-pin").count() == 0
    assert page.input_value(".pl-speed") == "1"
    assert list(page.problems) == []


def test_changing_the_schedule_drops_the_frame(live_server: str, page: Any) -> None:
    """The frame belongs to the schedule it was taken on: another schedule opens afresh."""
    _open(page, f"{live_server}/pipeline?{FRAME_QUERY}&t=10&from=5&to=15&op=3")
    page.locator(".pl-pin").wait_for(state="visible")
    page.select_option("#pl-schedule", "gpipe")
    page.wait_for_selector(".pl-lane[data-schedule='gpipe']")
    for key in ("t", "from", "to", "op"):
        _wait_url_has(page, key, False)
    assert page.locator(".pl-pin").count() == 0
    assert list(page.problems) == []
