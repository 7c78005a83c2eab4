"""The /throughput page: what it shows is /api/v1/throughput's answer for its own query string
(the landing claim and a chosen one, page and embed), the claim kind lands in the URL, the
published runs are the gallery's, and it fits a phone in dark mode."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests

pytestmark = pytest.mark.browser

MTNLG = (
    "layers=105&hidden=20480&heads=128&vocab=51200&mlp=gelu&norm=layernorm&params=530000000000"
    "&gpu=a100-80gb&gpus=2240&seq_len=2048&step_time=60.1&global_batch_tokens=3932160"
    "&recompute=full"
)


def _api(base: str, path: str) -> dict[str, Any]:
    r = httpx.get(f"{base}{path}", timeout=60)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#tp-headline [data-metric='mfu']")
    page.wait_for_selector("#tp-conventions tbody tr")


def _shown(page: Any, key: str) -> float:
    return float(page.locator(f"#tp-headline [data-metric='{key}']").get_attribute("data-value"))


def _same_as_api(page: Any, api: dict[str, Any]) -> None:
    assert _shown(page, "tokens_per_second_per_gpu") == api["tokens_per_second_per_gpu"]
    ref = next(c for c in api["conventions"] if c["name"] == api["reference"])
    assert _shown(page, "mfu") == ref["mfu"]
    rows = page.locator("#tp-conventions tbody tr")
    assert rows.count() == len(api["conventions"])
    for i, c in enumerate(api["conventions"]):
        assert rows.nth(i).get_attribute("data-convention") == c["name"]
        cell = rows.nth(i).locator("td").nth(3)
        assert float(cell.get_attribute("data-value")) == c["tflops_per_gpu"]
    assert page.locator(".tp-seg").count() == sum(1 for t in api["time"] if t["fraction"] > 0)
    assert page.locator("#tp-checks li").count() == len(api["checks"])


def test_landing_is_the_first_published_run(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/throughput")
    gallery = _api(live_server, "/api/v1/throughput/gallery")
    first = gallery["runs"][0]["throughput_query"]
    assert parse_qs(urlparse(page.url).query) == parse_qs(first)
    _same_as_api(page, _api(live_server, f"/api/v1/throughput?{first}"))
    assert page.locator("#tp-run").input_value() == gallery["runs"][0]["name"]
    assert page.locator("#tp-gallery tbody tr").count() == len(gallery["runs"])
    dots = sum(1 + len(r["others"]) for r in gallery["runs"])
    assert page.locator(".tp-dot").count() == dots
    assert list(page.problems) == []


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_chosen_claim_is_the_apis(live_server: str, page: Any, where: str) -> None:
    _open(page, f"{live_server}{where}/throughput?{MTNLG}")
    api = _api(live_server, f"/api/v1/throughput?{MTNLG}")
    _same_as_api(page, api)
    assert page.locator("#tp-kind").input_value() == "step_time"
    hfu = page.locator("#tp-conventions tbody tr[data-convention='megatron_hfu'] td").nth(3)
    assert round(float(hfu.get_attribute("data-value"))) == 126  # MT-NLG §2.4
    assert list(page.problems) == []


def test_the_claim_kind_writes_the_url(live_server: str, page: Any) -> None:
    query = "model=llama3-70b&gpus=1024&seq_len=8192&tokens_per_second=8000000"
    _open(page, f"{live_server}/throughput?{query}")
    page.select_option("#tp-kind", "tokens_per_second_per_gpu")
    page.wait_for_function("() => location.search.includes('tokens_per_second_per_gpu=8000000')")
    want = _api(live_server, "/api/v1/throughput?model=llama3-70b&gpus=1024&seq_len=8192"
                "&tokens_per_second_per_gpu=8000000")["tokens_per_second_per_gpu"]  # fmt: skip
    page.wait_for_function(
        "(v) => Number(document.querySelector(\"[data-metric='tokens_per_second_per_gpu']\")"
        ".dataset.value) === v",
        arg=want,
    )
    assert "tokens_per_second=" not in urlparse(page.url).query.replace("tokens_per_second_per", "")


def test_phone_width_fits_and_dark_mode_draws(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/throughput?{MTNLG}")
    pg.wait_for_selector(".tp-seg")
    pg.wait_for_selector(".tp-dot")
    assert horizontal_overflow(pg) == 0
    assert errors == []
    context.close()


def test_the_home_preview_draws(live_server: str, page: Any) -> None:
    """views/throughput.js's preview decodes the first published run and draws its time bar."""
    _open(page, f"{live_server}/throughput?{MTNLG}")
    drawn = page.evaluate(
        """() => import('/static/js/views/throughput.js').then(async (m) => {
            const el = document.createElement('div');
            document.body.append(el);
            await m.preview(el);
            return el.querySelectorAll('.tp-seg').length;
        })"""
    )
    assert drawn > 0
    assert list(page.problems) == []


# ------------------------------------------------------------------ view state in the URL


def _tick_x(page: Any, api: dict[str, Any], mfu: float) -> float:
    """Where the bar's scale puts a utilisation: 18 px margins, 0 to max(1, every MFU)."""
    width = float(page.locator("#tp-time svg").get_attribute("width"))
    top = max(1.0, *(c["mfu"] for c in api["conventions"]))
    return 18 + mfu / top * (width - 36)


def _pinned_is(page: Any, api: dict[str, Any], name: str) -> None:
    c = next(c for c in api["conventions"] if c["name"] == name)
    assert (
        page.locator("#tp-conventions tbody tr.tp-pinned").get_attribute("data-convention") == name
    )
    tick = page.locator(f".tp-tick.tp-pinned[data-convention='{name}'] circle")
    assert float(tick.get_attribute("cx")) == pytest.approx(_tick_x(page, api, c["mfu"]), abs=0.01)
    detail = page.locator("#tp-time .pin-detail")
    assert detail.get_attribute("data-pinned") == name
    text = detail.inner_text()
    assert c["title"] in text
    assert f"{c['mfu'] * 100:.1f}%" in text


def test_a_clicked_convention_is_pinned_in_the_url(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/throughput?{MTNLG}")
    api = _api(live_server, f"/api/v1/throughput?{MTNLG}")
    name = api["conventions"][-1]["name"]
    page.locator(f"#tp-conventions tbody tr[data-convention='{name}']").click()
    page.wait_for_function(
        f"() => new URLSearchParams(location.search).get('convention') === '{name}'"
    )
    _pinned_is(page, api, name)
    first = api["conventions"][0]["name"]
    page.locator(f".tp-tick[data-convention='{first}']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => new URLSearchParams(location.search).get('convention') === '{first}'"
    )
    _pinned_is(page, api, first)
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('convention=')")
    assert page.locator("#tp-conventions tbody tr.tp-pinned").count() == 0
    assert page.locator("#tp-time .pin-detail").is_hidden()
    assert list(page.problems) == []


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_url_with_a_convention_opens_it_pinned(live_server: str, page: Any, where: str) -> None:
    api = _api(live_server, f"/api/v1/throughput?{MTNLG}")
    name = api["conventions"][1]["name"]
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/throughput?{MTNLG}&convention={name}&theme=light")
    page.wait_for_selector(".tp-tick.tp-pinned")
    _pinned_is(page, api, name)
    _same_as_api(page, api)
    assert_no_state_key_sent(urls, "throughput")
    assert list(page.problems) == []


def test_an_unknown_convention_falls_back_quietly(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/throughput?{MTNLG}&convention=not-a-convention")
    _same_as_api(page, _api(live_server, f"/api/v1/throughput?{MTNLG}"))
    assert page.locator(".tp-pinned").count() == 0
    assert page.locator("#tp-time .pin-detail").is_hidden()
    assert list(page.problems) == []
