"""The /memory page: the bars, the verdict and the table show exactly what /api/v1/memory says."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests, url_query

pytestmark = pytest.mark.browser

FITS = (
    "model=llama3-70b&dp=8&tp=8&pp=4&zero=1&seq_len=8192&recompute=selective&sequence_parallel=true"
)
OVER = "model=llama3-8b&seq_len=4096"
INFERENCE = "model=llama3-70b&mode=inference&tp=4&seq_len=32768&batch=8"


def fmt_bytes(b: float, digits: int = 1) -> str:
    """static/js/lib/format.js fmtBytes(b, digits): SI units, `digits` decimals below 100."""
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    i = 0
    while abs(b) >= 1000 and i < len(units) - 1:
        b /= 1000
        i += 1
    if i == 0:
        return f"{round(b)} B"
    return f"{b:.0f} {units[i]}" if b >= 100 else f"{b:.{digits}f} {units[i]}"


def wait_loaded(page: Any, previous: str | None = None) -> str:
    """Wait until the page has painted the answer to its latest request; return that URL."""
    page.wait_for_function(
        """(prev) => {
            const app = document.querySelector('#app');
            return app.dataset.loaded && app.dataset.loaded !== prev
                && app.dataset.loaded.endsWith(app.dataset.apiUrl)
                && !app.classList.contains('is-loading');
        }""",
        arg=previous or "",
    )
    return str(page.eval_on_selector("#app", "el => el.dataset.loaded"))


def api(live_server: str, page: Any) -> dict[str, Any]:
    """The API's answer for the request the page made."""
    url = page.eval_on_selector("#app", "el => el.dataset.apiUrl")
    data: dict[str, Any] = httpx.get(live_server + url).json()
    return data


def open_memory(page: Any, live_server: str, query: str, width: int = 1280) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(reduced_motion="reduce")  # bars jump to their final heights
    page.goto(f"{live_server}/memory?{query}")
    wait_loaded(page)


def api_for(live_server: str, query: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{live_server}/api/v1/memory?{query}").json()
    return data


def drawn_bars(page: Any) -> list[dict[str, Any]]:
    """Every drawn bar: its total and the bytes of each visible segment, as data attributes."""
    bars: list[dict[str, Any]] = page.eval_on_selector_all(
        ".mem-bar",
        """gs => gs.map(g => ({
            total: +g.dataset.total,
            segments: Object.fromEntries([...g.querySelectorAll('rect.mem-seg')]
                .filter(r => r.getAttribute('display') !== 'none')
                .map(r => [r.dataset.key, +r.dataset.bytes])),
        }))""",
    )
    return bars


def assert_bars_are_the_api_stages(page: Any, data: dict[str, Any]) -> None:
    """One bar per stage; its total and each segment's bytes are what the API's terms say."""
    bars = drawn_bars(page)
    assert len(bars) == len(data["per_stage"])
    for bar, stage in zip(bars, data["per_stage"], strict=True):
        assert bar["total"] == stage["total"]
        for key, drawn in bar["segments"].items():
            assert drawn == sum(t["bytes"] for t in stage["terms"] if t["segment"] == key)


def assert_headline_is_the_api(page: Any, data: dict[str, Any]) -> None:
    shown = page.eval_on_selector(".mem-total-value", "e => [e.dataset.bytes, e.textContent]")
    assert int(shown[0]) == data["total"]
    assert shown[1] == fmt_bytes(data["total"])
    badge = page.eval_on_selector(".mem-verdict-badge", "e => [e.dataset.fits, e.dataset.verdict]")
    assert badge == [str(data["fits"]).lower(), data["verdict"]]
    text = page.inner_text(".mem-verdict-text")
    assert (
        text == {"fits": "Fits", "tight": "Fits, barely", "over": "Does not fit"}[data["verdict"]]
    )


def seg_height(page: Any, stage: int, key: str) -> float:
    sel = f'.mem-bar[data-index="{stage}"] rect.seg-{key}'
    h = page.eval_on_selector(
        sel, "r => r.getAttribute('display') === 'none' ? 0 : +r.getAttribute('height')"
    )
    return float(h)


@pytest.mark.parametrize("query", [FITS, OVER, INFERENCE])
@pytest.mark.parametrize("width", [480, 1280])
def test_no_problems_and_no_sideways_scroll(
    page: Any, live_server: str, query: str, width: int
) -> None:
    open_memory(page, live_server, query, width)
    assert page.problems == []
    assert horizontal_overflow(page) == 0
    # the chart fits its panel
    chart_w = page.eval_on_selector(".mem-svg", "s => s.getBoundingClientRect().width")
    panel_w = page.eval_on_selector("#mem-chart", "c => c.getBoundingClientRect().width")
    assert 0 < chart_w <= panel_w + 0.5


@pytest.mark.parametrize("query", [FITS, OVER, INFERENCE])
def test_total_verdict_and_bars_equal_the_api(page: Any, live_server: str, query: str) -> None:
    open_memory(page, live_server, query)
    data = api(live_server, page)
    # the page asked the API for exactly its own URL's settings
    page_q = parse_qs(urlsplit(page.url).query)
    api_q = parse_qs(urlsplit(page.eval_on_selector("#app", "el => el.dataset.apiUrl")).query)
    for k, v in parse_qs(query).items():
        assert page_q[k] == v
        assert api_q[k] == v

    shown = page.eval_on_selector(".mem-total-value", "e => [e.dataset.bytes, e.textContent]")
    assert int(shown[0]) == data["total"]
    assert shown[1] == fmt_bytes(data["total"])
    verdict = page.inner_text(".mem-verdict-text")
    if data["fits"]:
        assert verdict.startswith("Fits")
    else:
        assert verdict == "Does not fit"
    assert page.get_attribute(".mem-verdict-badge", "data-fits") == str(data["fits"]).lower()
    sub = page.inner_text(".mem-verdict-sub")
    assert fmt_bytes(abs(data["capacity"] - data["total"])) in sub

    # one bar per stage, each labelled with the stage's total
    labels = page.eval_on_selector_all(
        ".mem-bar", "gs => gs.map(g => g.getAttribute('aria-label'))"
    )
    assert len(labels) == len(data["per_stage"])
    for label, stage in zip(labels, data["per_stage"], strict=True):
        assert f": {fmt_bytes(stage['total'])} of {fmt_bytes(data['capacity'])}" in label

    # every term in the table with its bytes and formula
    rows = page.eval_on_selector_all(
        "#mem-terms tbody tr[data-term]",
        "rs => rs.map(r => [r.dataset.term, r.querySelector('td.num').title,"
        " r.querySelector('.mem-formula').textContent])",
    )
    assert [r[0] for r in rows] == [t["name"] for t in data["terms"]]
    for (_, title, formula), term in zip(rows, data["terms"], strict=True):
        assert title == f"{term['bytes']:,} bytes"
        assert formula == term["formula"]


HEADLINE_QUERIES = [
    "model=llama3-70b",  # every other parameter at its default: the 3.03 TB vs 1.65 TB
    FITS,
    INFERENCE,
    "params=7.5e9&dp=64&zero=2",
    "layers=32&hidden=4096&heads=32&kv_heads=8&pp=2&recompute=full",
]


@pytest.mark.parametrize("embed", [False, True])
@pytest.mark.parametrize("query", HEADLINE_QUERIES)
def test_headline_equals_the_api_for_the_same_query_string(
    page: Any, live_server: str, query: str, embed: bool
) -> None:
    page.set_viewport_size({"width": 600 if embed else 1280, "height": 900})
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server}{'/embed' if embed else ''}/memory?{query}")
    wait_loaded(page)
    # the page asked for exactly its query string, and kept it in its URL
    asked = page.eval_on_selector("#app", "el => el.dataset.apiUrl")
    assert asked == f"/api/v1/memory?{query}"
    assert urlsplit(page.url).query == query
    data = api_for(live_server, query)
    assert_headline_is_the_api(page, data)
    assert_bars_are_the_api_stages(page, data)
    assert page.problems == []


def test_an_empty_query_string_shows_the_landing_layout_in_its_url(
    page: Any, live_server: str
) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server}/memory?theme=dark")
    wait_loaded(page)
    query = urlsplit(page.url).query
    assert "model=" in query and query.endswith("&theme=dark")
    api_query = query.removesuffix("&theme=dark")  # the theme is the page's, not the API's
    assert page.eval_on_selector("#app", "el => el.dataset.apiUrl") == f"/api/v1/memory?{api_query}"
    assert_headline_is_the_api(page, api_for(live_server, api_query))


def test_controls_show_the_values_the_api_computed_with(page: Any, live_server: str) -> None:
    query = "model=llama3-70b&mode=inference&dtype=fp8&kv_dtype=e4m3&tp=8"
    open_memory(page, live_server, query)
    q = api_for(live_server, query)["query"]
    assert page.input_value("#mem-dtype") == q["dtype"]  # the alias, as the registry spells it
    assert page.input_value("#mem-kv_dtype") == q["kv_dtype"]
    for key in ("dp", "tp", "pp", "batch"):
        assert page.input_value(f"#mem-{key}") == str(q[key])
    assert page.text_content("#mem-seq-out") == f"{q['seq_len']:,} tokens"
    assert (
        page.get_attribute(f'#mem-mode button[data-value="{q["mode"]}"]', "aria-pressed") == "true"
    )


def test_an_invalid_first_query_shows_the_declared_defaults(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/memory?model=llama3-8b&tp=3")
    page.wait_for_function(
        "() => (document.querySelector('#app').dataset.loaded || '').startsWith('error:')"
    )
    doc = httpx.get(f"{live_server}/api/v1/openapi.json").json()
    declared = {
        p["name"]: p["schema"].get("default")
        for p in doc["paths"]["/api/v1/memory"]["get"]["parameters"]
    }
    page.wait_for_function("() => document.querySelector('#mem-dp').value !== ''")
    assert page.input_value("#mem-tp") == "3"  # the URL's own value, marked invalid
    assert page.input_value("#mem-dp") == str(declared["dp"])
    assert page.input_value("#mem-dtype") == ""  # declared null: the "Default" entry
    assert declared["dtype"] is None
    assert page.input_value("#mem-gpu") == declared["gpu"]


def test_segments_are_proportional_to_bytes(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    data = api(live_server, page)
    s0 = data["per_stage"][0]
    h_params = seg_height(page, 0, "parameters")
    h_act = seg_height(page, 0, "activations")
    assert h_params > 0
    assert h_act / h_params == pytest.approx(s0["activations"] / s0["parameters"], rel=1e-3)


def test_zero_3_lowers_the_optimizer_segment_and_updates_the_url(
    page: Any, live_server: str
) -> None:
    open_memory(page, live_server, "model=llama3-8b&dp=8&seq_len=4096")
    before = seg_height(page, 0, "optimizer_states")
    bytes_before = int(
        page.get_attribute('.mem-bar[data-index="0"] rect.seg-optimizer_states', "data-bytes")
    )
    total_before = int(page.eval_on_selector(".mem-total-value", "e => e.dataset.bytes"))
    prev = page.eval_on_selector("#app", "el => el.dataset.loaded")
    page.click('#mem-zero button[data-value="3"]')
    wait_loaded(page, prev)
    assert parse_qs(urlsplit(page.url).query)["zero"] == ["3"]
    assert page.get_attribute('#mem-zero button[data-value="3"]', "aria-pressed") == "true"
    after = seg_height(page, 0, "optimizer_states")
    assert 0 < after < before
    sel = '.mem-bar[data-index="0"] rect.seg-optimizer_states'
    assert int(page.get_attribute(sel, "data-bytes")) == pytest.approx(bytes_before / 8, rel=1e-6)
    data = api(live_server, page)
    assert data["total"] < total_before
    assert int(page.eval_on_selector(".mem-total-value", "e => e.dataset.bytes")) == data["total"]


def test_stepper_doubles_pp_and_adds_bars(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    prev = page.eval_on_selector("#app", "el => el.dataset.loaded")
    page.click('.mem-stepper[data-key="pp"] button[data-dir="1"]')
    wait_loaded(page, prev)
    assert parse_qs(urlsplit(page.url).query)["pp"] == ["8"]
    assert page.input_value("#mem-pp") == "8"
    data = api(live_server, page)
    assert data["query"]["pp"] == 8
    assert_bars_are_the_api_stages(page, data)
    assert_headline_is_the_api(page, data)


def test_tooltip_on_a_segment_shows_its_formula_and_source(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    data = api(live_server, page)
    page.hover('.mem-bar[data-index="0"] rect.seg-optimizer_states')
    tip = page.locator(".tooltip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    term = next(t for t in data["per_stage"][0]["terms"] if t["name"] == "optimizer_states")
    assert "Optimizer states · Stage 0" in text
    assert term["formula"] in text
    assert term["source"] in text
    assert fmt_bytes(term["bytes"]).split()[0] in text


def test_invalid_combination_shows_the_api_message(page: Any, live_server: str) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server}/memory?model=llama3-8b&tp=3&seq_len=4096")
    page.wait_for_function(
        "() => (document.querySelector('#app').dataset.loaded || '').startsWith('error:')"
    )
    url = page.eval_on_selector("#app", "el => el.dataset.apiUrl")
    resp = httpx.get(live_server + url)
    assert resp.status_code == 422
    msg = resp.json()["detail"][0]["msg"]
    err = page.locator("#mem-errors .api-error")
    assert err.is_visible()
    assert msg in err.inner_text()
    assert page.get_attribute("#mem-tp", "aria-invalid") == "true"
    # the only problem is the expected 422
    assert [p for p in page.problems if "422" not in p and "Unprocessable" not in p] == []

    # fixing it clears the message and draws the chart
    page.click('.mem-stepper[data-key="tp"] button[data-dir="-1"]')
    wait_loaded(page, f"error:{url}")
    assert not err.is_visible()
    assert page.get_attribute("#mem-tp", "aria-invalid") is None
    assert len(page.query_selector_all(".mem-bar")) == 1


def test_reload_reproduces_the_view(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    prev = page.eval_on_selector("#app", "el => el.dataset.loaded")
    page.click('#mem-mode button[data-value="inference"]')
    prev = wait_loaded(page, prev)
    page.click('.mem-stepper[data-key="batch"] button[data-dir="1"]')
    prev = wait_loaded(page, prev)
    page.select_option("#mem-gpu", "h200")
    wait_loaded(page, prev)
    url = page.url
    total = page.eval_on_selector(".mem-total-value", "e => e.dataset.bytes")
    q = parse_qs(urlsplit(url).query)
    assert q["mode"] == ["inference"] and q["batch"] == ["2"] and q["gpu"] == ["h200"]

    page.reload()
    wait_loaded(page)
    assert page.url == url
    assert page.eval_on_selector(".mem-total-value", "e => e.dataset.bytes") == total
    assert page.get_attribute('#mem-mode button[data-value="inference"]', "aria-pressed") == "true"
    assert page.input_value("#mem-batch") == "2"
    assert page.input_value("#mem-gpu") == "h200"
    assert "H200" in page.text_content(".mem-cap-label")
    assert page.problems == []


def test_advice_applies_its_change(page: Any, live_server: str) -> None:
    open_memory(page, live_server, OVER)
    data = api(live_server, page)
    first = data["advice"][0]
    prev = page.eval_on_selector("#app", "el => el.dataset.loaded")
    page.click(".mem-advice-btn >> nth=0")
    wait_loaded(page, prev)
    q = parse_qs(urlsplit(page.url).query)
    for k, v in first["params"].items():
        assert q[k] == [str(v)]
    assert int(page.eval_on_selector(".mem-total-value", "e => e.dataset.bytes")) == first["total"]


def test_custom_architecture_round_trips(page: Any, live_server: str) -> None:
    open_memory(
        page, live_server, "layers=32&hidden=4096&heads=32&kv_heads=8&ffn=14336&vocab=128256"
    )
    assert page.input_value("#mem-model") == "custom"
    assert page.is_visible("#mem-layers")
    prev = page.eval_on_selector("#app", "el => el.dataset.loaded")
    page.fill("#mem-layers", "16")
    wait_loaded(page, prev)
    q = parse_qs(urlsplit(page.url).query)
    assert q["layers"] == ["16"] and "model" not in q
    assert api(live_server, page)["model"] == "custom"


def test_download_svg(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    with page.expect_download() as dl:
        page.click("text=Download SVG")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<svg" in text and "H100 SXM 80GB" in text


def test_embed_loads(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 600, "height": 900})
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server}/embed/memory?{FITS}")
    wait_loaded(page)
    assert page.query_selector(".site-header") is None
    assert_bars_are_the_api_stages(page, api(live_server, page))
    assert page.problems == []
    assert horizontal_overflow(page) == 0


def test_home_preview_draws_the_api_totals(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    card = page.locator('[data-preview="memory"]')
    with page.expect_response(lambda r: "/api/v1/memory?" in r.url) as answer:
        card.scroll_into_view_if_needed()
    data = answer.value.json()
    totals = [fmt_bytes(s["total"], 0) for s in data["per_stage"]]
    sel = '[data-preview="memory"] svg g text'
    page.wait_for_function(f"() => document.querySelectorAll('{sel}').length >= {len(totals)}")
    assert page.eval_on_selector_all(sel, "ts => ts.map(t => t.textContent)") == totals
    # other cards' previews are other views' business
    assert [p for p in page.problems if "memory" in p] == []


def test_rapid_changes_paint_only_the_latest_answer(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    plus = '.mem-stepper[data-key="pp"] button[data-dir="1"]'
    for _ in range(3):
        page.click(plus)  # 4 → 8 → 16 → 32, each superseding the previous request
    page.wait_for_function(
        "() => document.querySelector('#app').dataset.loaded?.includes('pp=32')"
        " && !document.querySelector('#app').classList.contains('is-loading')"
    )
    assert parse_qs(urlsplit(page.url).query)["pp"] == ["32"]
    data = api(live_server, page)
    assert len(data["per_stage"]) == 32
    assert_bars_are_the_api_stages(page, data)
    assert_headline_is_the_api(page, data)
    # superseded requests may be aborted; nothing else may go wrong
    assert [p for p in page.problems if not p.startswith("request failed")] == []


def test_keyboard_focus_on_a_bar_shows_its_breakdown(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    data = api(live_server, page)
    page.focus('.mem-bar[data-index="3"]')
    tip = page.locator(".tooltip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    last = data["per_stage"][3]
    assert "Stage 3 (LM head)" in text
    assert f"{last['layers']} layers" in text
    assert "Total" in text and f"{last['total'] / 1e9:.2f} GB" in text


# Korthikanti's accounting (eager attention keeps the s×s scores): every stage is over.
LLAMA3_405B_NO_RECOMPUTE = (
    "model=llama3-405b&dp=64&tp=8&pp=16&zero=1&seq_len=8192&attention=eager&anatomy=gpt"
)


@pytest.mark.parametrize(
    ("name", "badge"), [("llama3-405b-8k", "Published layout"), ("mixtral-8x7b-64", "Illustrative")]
)
def test_layouts_say_published_or_illustrative_as_the_api_does(
    page: Any, live_server: str, name: str, badge: str
) -> None:
    """Llama 3 405B on its Table 4 layout (arXiv 2407.21783) ran on 80 GB H100s: the page
    labels it published, with the source, and it fits; an illustrative layout says so."""
    open_memory(page, live_server, "model=llama3-70b")
    presets = httpx.get(live_server + "/api/v1/presets/parallel").json()["presets"]
    p = next(x for x in presets if x["name"] == name)
    label = page.eval_on_selector(
        "#mem-layout",
        "(s, q) => [...s.options].find((o) => o.value === q).textContent",
        p["memory_query"],
    )
    assert label.endswith(f"({p['provenance']})")
    prev = page.eval_on_selector("#app", "el => el.dataset.loaded")
    page.select_option("#mem-layout", p["memory_query"])
    wait_loaded(page, prev)
    url_q = parse_qs(urlsplit(page.url).query)
    for k, v in parse_qs(p["memory_query"]).items():
        assert url_q.get(k) == v
    data = api(live_server, page)
    assert data["verdict"] == "fits" and data["layout"]["provenance"] == p["provenance"]
    assert int(page.eval_on_selector(".mem-total-value", "e => e.dataset.bytes")) == data["total"]
    assert page.input_value("#mem-layout") == p["memory_query"]  # the picker names it
    text = page.text_content("#mem-provenance")
    assert text.startswith(badge) and p["source"] in text
    assert page.problems == []


def test_advice_says_when_it_needs_more_gpus(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    data = api(live_server, page)
    buttons = page.locator(".mem-advice-btn")
    assert buttons.count() == len(data["advice"])
    for i, a in enumerate(data["advice"]):
        text = buttons.nth(i).inner_text()
        world = 8 * 8 * 4
        for k, v in a["params"].items():
            if k in ("dp", "tp", "pp", "cp"):
                world = world // {"dp": 8, "tp": 8, "pp": 4, "cp": 1}[k] * int(v)
        if world != 256:
            assert f"· {world:,} GPUs" in text, text
        else:
            assert "GPUs" not in text, text


def test_capacity_value_moves_to_the_axis_when_every_bar_crosses_it(
    page: Any, live_server: str
) -> None:
    open_memory(page, live_server, LLAMA3_405B_NO_RECOMPUTE)
    data = api(live_server, page)
    assert data["fits"] is False
    # no tag drawn over the bars; the value sits on the y axis and in the legend
    assert page.locator(".mem-cap-label").count() == 0
    assert page.text_content(".mem-cap-axis") == "85.9"
    assert "Capacity (H100 SXM 80GB, 85.9 GB)" in page.text_content(".mem-legend")
    cap = page.locator(".mem-cap-axis").bounding_box()
    for t in page.locator(".mem-svg .axis text").all():
        box = t.bounding_box()
        if box and t.text_content() not in ("", None) and "GB per GPU" not in t.text_content():
            bottom = min(cap["y"] + cap["height"], box["y"] + box["height"])
            overlap = bottom - max(cap["y"], box["y"])
            assert overlap <= 0 or box["x"] > cap["x"] + cap["width"], t.text_content()
    assert page.problems == []


def test_setup_line_names_the_layout(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    text = page.text_content("#mem-setup")
    assert text.startswith("Llama 3 70B · training · bfloat16 · DP 8 × TP 8 × PP 4 (256 GPUs)")
    assert "ZeRO-1" in text and "selective recompute" in text and "sequence parallel" in text


def test_embed_folds_controls_and_terms_but_names_the_setup(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 600, "height": 900})
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server}/embed/memory?{FITS}")
    wait_loaded(page)
    folds = page.locator("details.mem-embed-fold")
    assert folds.count() == 4  # controls, pipeline, anatomy, terms
    assert all(not folds.nth(i).evaluate("d => d.open") for i in range(4))
    assert page.locator("#mem-dp").is_visible() is False
    assert page.text_content("#mem-setup").startswith("Llama 3 70B")
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 1400, height
    page.locator("details.mem-embed-controls > summary").click()
    assert page.locator("#mem-dp").is_visible()
    # a layout the API rejects opens the controls so the highlighted field is visible
    page.goto(f"{live_server}/embed/memory?model=llama3-70b&tp=16")
    page.wait_for_function(
        "() => document.querySelector('#app').dataset.loaded?.startsWith('error:')"
    )
    assert page.locator("details.mem-embed-controls").evaluate("d => d.open")
    assert page.get_attribute("#mem-tp", "aria-invalid") == "true"
    assert horizontal_overflow(page) == 0


def test_note_says_what_the_api_says_about_stages(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    data = api(live_server, page)
    note = page.text_content("#mem-note")
    first, last = data["per_stage"][0], data["per_stage"][-1]
    assert f"the {data['gpus_per_stage']} GPUs of a stage" in note
    assert f"embeddings and {first['microbatches_in_flight']:g} microbatches" in note
    assert f"LM head and {last['microbatches_in_flight']:g} microbatch" in note


def test_page_keeps_terms_and_controls_unfolded(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    assert page.locator("details.mem-embed-fold").count() == 0
    assert page.locator("#mem-terms").is_visible()


def test_downloaded_svg_names_the_layout_and_the_page_is_unchanged(
    page: Any, live_server: str
) -> None:
    open_memory(page, live_server, FITS)
    view_box = page.get_attribute(".mem-svg", "viewBox")
    with page.expect_download() as dl:
        page.click("text=Download SVG")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Llama 3 70B · training · bfloat16 · DP 8 × TP 8 × PP 4 (256 GPUs)" in text
    assert "Capacity (H100 SXM 80GB, 85.9 GB)" in text
    page.wait_for_function("() => !document.querySelector('.mem-export-caption')")
    assert page.get_attribute(".mem-svg", "viewBox") == view_box
    assert page.problems == []


# ---------------------------------------------------------------- issue 8: what the page adds


def test_assumption_controls_state_their_defaults_and_drive_the_query(
    page: Any, live_server: str
) -> None:
    """Every assumption is a labelled control whose default is the API's declared one; pressing
    one changes the query string and the headline follows the API."""
    open_memory(page, live_server, FITS)
    options = httpx.get(live_server + "/api/v1/memory/options").json()
    for control in options["controls"]:
        node = page.locator(f'[data-control="{control["name"]}"]')
        assert node.count() == 1, control["name"]
        text = node.inner_text()
        assert control["label"] in text
        if control["default"] is not None:
            default = next(c for c in control["choices"] if c["value"] == control["default"])
            assert f"default: {default['label']}" in text
    prev = page.eval_on_selector("#app", "el => el.dataset.loaded")
    page.click('[data-control="attention"] button[data-value="eager"]')
    wait_loaded(page, prev)
    assert parse_qs(urlsplit(page.url).query)["attention"] == ["eager"]
    data = api(live_server, page)
    assert data["query"]["attention"] == "eager"
    assert_headline_is_the_api(page, data)
    pressed = page.eval_on_selector(
        '[data-control="attention"] button[aria-pressed="true"]', "b => b.dataset.value"
    )
    assert pressed == "eager"
    assert data["accounting"] in page.text_content("#mem-accounting")


def test_pipeline_strip_and_links_are_the_apis(page: Any, live_server: str) -> None:
    query = FITS + "&schedule=zbv&global_batch=524288"
    open_memory(page, live_server, query)
    data = api(live_server, page)
    sch = data["schedule"]
    assert sch["name"] == "zbv" and data["microbatches"] == 524288 // (8 * 8192)
    assert page.locator(".mem-strip-row").count() == data["query"]["pp"]
    head = page.text_content(".mem-pipe-head")
    assert f"bubble {100 * sch['bubble_fraction']:.1f}%" in head
    hrefs = page.eval_on_selector_all(".mem-links a", "as => as.map(a => a.getAttribute('href'))")
    assert hrefs == [data["links"]["pipeline"], data["links"]["mesh"]]
    assert page.locator(".mem-strip-row.worst").count() == 1
    assert f"{data['microbatches']} microbatches per iteration" in page.text_content(
        "#mem-microbatches"
    )


def test_phone_keeps_the_verdict_in_sight_while_controls_change(
    page: Any, live_server: str
) -> None:
    open_memory(page, live_server, FITS, width=390)
    page.locator("#mem-dp").scroll_into_view_if_needed()
    bar = page.locator(".mem-sticky-bar")
    page.wait_for_function(
        "() => document.querySelector('#app').classList.contains('verdict-away')"
    )
    box = bar.bounding_box()
    assert box is not None and box["y"] >= -1 and box["y"] < 60 and bar.is_visible()
    prev = page.eval_on_selector("#app", "el => el.dataset.loaded")
    page.click('.mem-stepper[data-key="pp"] button[data-dir="1"]')
    wait_loaded(page, prev)
    data = api(live_server, page)
    assert data["query"]["pp"] == 8
    assert page.text_content(".mem-sticky-total").startswith(fmt_bytes(data["total"]))
    assert bar.bounding_box()["y"] < 60  # still on screen after the change
    assert horizontal_overflow(page) == 0


def test_anatomy_panel_lists_the_apis_tensors(page: Any, live_server: str) -> None:
    open_memory(page, live_server, "model=deepseek-v3&dp=128&pp=16&ep=64&zero=1&seq_len=4096")
    data = api(live_server, page)
    layers = data["anatomy"]["layers"]
    assert [layer["kind"] for layer in layers] == ["dense", "moe"]
    for layer in layers:
        rows = page.locator(f'.mem-anatomy-table[data-kind="{layer["kind"]}"] tbody tr')
        assert rows.count() == len(layer["tensors"])
        names = rows.locator(".mem-kept-name").all_inner_texts()
        assert names == [t["name"] for t in layer["tensors"]]
    assert data["anatomy"]["left_out"] in page.text_content("#mem-anatomy")


# ------------------------------------------------------------------ view state in the URL


def _segment_bytes(stage: dict[str, Any], segment: str) -> int:
    return int(sum(t["bytes"] for t in stage["terms"] if t["segment"] == segment))


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_pinned_segment_in_the_url_opens_pinned(page: Any, live_server: str, where: str) -> None:
    urls = record_api_requests(page)
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server}{where}/memory?{FITS}&stage=2&segment=activations")
    wait_loaded(page)
    stage = api_for(live_server, FITS)["per_stage"][2]
    want = _segment_bytes(stage, "activations")
    assert want > 0
    # the pinned mark is stage 2's activations, drawn with the API's bytes
    pinned = page.eval_on_selector_all(
        "rect.mem-seg.pinned",
        "rs => rs.map(r => [r.dataset.index, r.dataset.key, +r.dataset.bytes])",
    )
    assert pinned == [["2", "activations", want]]
    assert page.eval_on_selector_all(".mem-bar.pinned", "gs => gs.map(g => g.dataset.index)") == [
        "2"
    ]
    # its tooltip's lines stay shown under the chart
    box = page.locator("#mem-pin")
    assert box.is_visible()
    assert (box.get_attribute("data-stage"), box.get_attribute("data-segment")) == (
        "2",
        "activations",
    )
    text = box.inner_text()
    assert f"Activations · Stage {stage['stage']}" in text
    assert f"({want:,} B)" in text
    # the schedule strip marks the same stage; the table marks the segment's terms
    assert page.eval_on_selector_all(
        ".mem-strip-row.pinned", "gs => gs.map(g => g.dataset.stage)"
    ) == ["2"]
    rows = page.eval_on_selector_all(
        "#mem-terms tr[data-segment]",
        "rs => rs.map(r => [r.dataset.segment, r.classList.contains('pinned')])",
    )
    assert rows and all(pinned == (seg == "activations") for seg, pinned in rows)
    assert_no_state_key_sent(urls, "memory")
    assert page.problems == []


def test_click_pins_a_segment_enter_a_bar_escape_clears(page: Any, live_server: str) -> None:
    open_memory(page, live_server, FITS)
    page.click('.mem-bar[data-index="1"] rect.seg-parameters')
    q = url_query(page)
    assert (q["stage"], q["segment"]) == (["1"], ["parameters"])
    data = api_for(live_server, FITS)
    want = _segment_bytes(data["per_stage"][1], "parameters")
    assert f"({want:,} B)" in page.inner_text("#mem-pin")
    page.click('.mem-bar[data-index="1"] rect.seg-parameters')  # the same again unpins
    assert not {"stage", "segment"} & set(url_query(page))
    assert page.locator("#mem-pin").is_hidden()
    page.focus('.mem-bar[data-index="3"]')
    page.keyboard.press("Enter")
    q = url_query(page)
    assert q["stage"] == ["3"] and "segment" not in q
    # a whole bar: its breakdown, ending with the API's total for that stage
    assert f"Total\n{fmt_bytes(data['per_stage'][3]['total'], 2)} of" in page.inner_text("#mem-pin")
    page.keyboard.press("Escape")
    assert "stage" not in url_query(page)
    assert page.problems == []


@pytest.mark.parametrize(
    ("bad", "stage", "segment"),
    [
        ("stage=4&segment=activations", "-1", ""),  # pp 4: stages 0 to 3
        ("stage=x&segment=activations", "-1", ""),
        ("stage=-1", "-1", ""),
        ("stage=1&segment=bogus", "1", ""),
        ("stage=1&segment=kv_cache", "1", ""),  # training: no KV cache on any stage
    ],
)
def test_bad_pins_fall_back_quietly(
    page: Any, live_server: str, bad: str, stage: str, segment: str
) -> None:
    open_memory(page, live_server, f"{FITS}&{bad}")
    box = page.locator("#mem-pin")
    assert (box.get_attribute("data-stage"), box.get_attribute("data-segment")) == (stage, segment)
    q = url_query(page)
    assert q.get("stage", ["-1"]) == [stage] and "segment" not in q
    assert page.locator("rect.mem-seg.pinned").count() == 0
    assert page.problems == []
