"""Browser tests for /mesh: the drawing, hover coordinates against the API, URL state, presets.

Drawn values are read back from the canvas: the colour at a corner of each GPU's cell must be
shared by exactly the ranks the API puts in one group (numpy order, checked independently).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import numpy as np
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests

pytestmark = pytest.mark.browser

CANVAS = "canvas.mesh-canvas"
# The colour drawn in a corner of each rank's cell (the centre holds its rank label).
CELL_COLOURS = """(ranks) => {
  const c = document.querySelector('canvas.mesh-canvas');
  const view = c.bitmeshView;
  const cell = Number(c.dataset.cell);
  const off = cell >= 6 ? cell / 2 - 2 : 0;
  const dpr = window.devicePixelRatio || 1;
  const ctx = c.getContext('2d');
  return ranks.map((r) => {
    const p = view.cellCentre(r);
    const x = Math.round((p.x - off) * dpr);
    const d = ctx.getImageData(x, Math.round((p.y - off) * dpr), 1, 1).data;
    return `${d[0]},${d[1]},${d[2]},${d[3]}`;
  });
}"""


def _assert_colours_follow(page: Any, groups: list[list[int]]) -> None:
    """Each group's cells share one colour; with at most 30 groups, no two groups share one."""
    colours = page.evaluate(CELL_COLOURS, [r for g in groups for r in g])
    per_group, k = [], 0
    for g in groups:
        drawn = set(colours[k : k + len(g)])
        k += len(g)
        assert len(drawn) == 1, (g, drawn)
        per_group.append(drawn.pop())
    assert all(not c.endswith(",0") for c in per_group)  # opaque: something is drawn
    if len(groups) <= 30:
        assert len(set(per_group)) == len(groups)


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#app[data-state='ready']")
    page.wait_for_function(
        "() => { const c = document.querySelector('canvas.mesh-canvas');"
        " return c && c.dataset.animating !== '1' && Number(c.dataset.draws) > 0; }"
    )


def _wait_mesh(page: Any, key: str) -> None:
    """Wait until the page has drawn the mesh `axes|gpus_per_node`."""
    page.wait_for_function("(k) => document.querySelector('#app').dataset.mesh === k", arg=key)


def _query(page: Any) -> dict[str, list[str]]:
    """The page's own query string (history.replaceState is not always reflected in page.url)."""
    return parse_qs(urlparse(page.evaluate("() => location.href")).query)


def _hover_rank(page: Any, rank: int) -> None:
    pos = page.evaluate(f"() => document.querySelector('{CANVAS}').bitmeshView.cellCentre({rank})")
    page.evaluate(f"() => document.querySelector('{CANVAS}').scrollIntoView({{block: 'center'}})")
    box = page.locator(CANVAS).bounding_box()
    page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
    page.wait_for_function(
        f"() => document.querySelector('#mesh-inspector').dataset.rank === '{rank}'"
    )


def test_mesh_page_draws_without_problems(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh")
    assert page.locator(CANVAS).get_attribute("data-cells") == "16"
    api = httpx.get(live_server + "/api/v1/mesh").json()
    # coloured by tp groups: numpy order puts ranks 4k..4k+3 in one group (arange(16) rows)
    tp_groups = np.arange(16).reshape(2, 2, 4).reshape(-1, 4).tolist()
    assert api["groups"]["tp"] == tp_groups
    _assert_colours_follow(page, tp_groups)
    # the default mesh's axis table matches the API's axis_stats
    rows = page.locator("#mesh-axis-table tbody tr").all_inner_texts()
    assert len(rows) == 3
    for row, stats in zip(rows, api["axis_stats"], strict=True):
        cells = row.split("\t")
        assert cells[0].strip() == stats["name"]
        assert int(cells[3]) == stats["stride"]
    assert page.problems == []


def test_mesh_page_fits_480(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 480, "height": 900})
    _open(page, live_server + "/mesh?axes=dp:128,pp:16,cp:1,tp:8")
    assert horizontal_overflow(page) == 0
    assert page.locator(CANVAS).get_attribute("data-cells") == "16384"
    assert page.problems == []


def test_hover_shows_the_api_coordinates(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh?axes=pp:2,dp:2,tp:4&gpus_per_node=8")
    api = httpx.get(live_server + "/api/v1/mesh?axes=pp:2,dp:2,tp:4&gpus_per_node=8").json()
    rank13 = api["ranks"][13]
    # numpy semantics, computed independently: 13 in arange(16).reshape(2, 2, 4) is (1, 1, 1)
    expected = dict(zip(["pp", "dp", "tp"], np.unravel_index(13, (2, 2, 4)), strict=True))
    assert (
        rank13["coords"] == {k: int(v) for k, v in expected.items()} == {"pp": 1, "dp": 1, "tp": 1}
    )
    _hover_rank(page, 13)
    assert page.locator("#mesh-rank-value").inner_text() == "13"
    assert page.locator("#mesh-node-value").inner_text() == str(rank13["node"]) == "1"
    assert page.locator("#mesh-local-value").inner_text() == str(rank13["local_rank"]) == "5"
    for axis, value in rank13["coords"].items():
        assert page.locator(f"#mesh-inspector dd[data-axis='{axis}']").inner_text() == str(value)
    # the tooltip names the rank too, and the inspector lists its groups from the API
    assert "GPU rank 13" in page.locator(".tooltip").inner_text()
    groups = page.locator(".mesh-groups").inner_text()
    assert "ranks 12, 13, 14, 15" in groups  # tp group of rank 13
    assert [5, 13] in api["groups"]["pp"] and "ranks 5, 13" in groups
    assert page.problems == []


def test_hover_in_a_16k_mesh(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh?axes=dp:128,pp:16,cp:1,tp:8")
    _hover_rank(page, 9000)
    coords = np.unravel_index(9000, (128, 16, 1, 8))
    for axis, value in zip(["dp", "pp", "cp", "tp"], coords, strict=True):
        assert page.locator(f"#mesh-inspector dd[data-axis='{axis}']").inner_text() == str(value)
    assert page.locator("#mesh-node-value").inner_text() == "1,125"


def test_keyboard_moves_between_gpus(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh")
    page.locator(CANVAS).focus()
    page.wait_for_function("() => document.querySelector('#mesh-inspector').dataset.rank === '0'")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('#mesh-inspector').dataset.rank === '2'")
    page.keyboard.press("Enter")
    assert _query(page)["rank"] == ["2"]


def test_url_round_trip(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh")
    page.fill("#mesh-axes", "dp:4,tp:4")
    page.press("#mesh-axes", "Enter")
    _wait_mesh(page, "dp:4,tp:4|8")
    page.fill("#mesh-gpn", "4")
    page.press("#mesh-gpn", "Enter")
    page.wait_for_function("() => document.querySelector('#app').dataset.mesh === 'dp:4,tp:4|4'")
    page.locator("#mesh-colour button[data-color='dp']").click()
    page.locator("#mesh-mode button[data-mode='coord']").click()
    page.wait_for_function(
        "() => document.querySelector('canvas.mesh-canvas').dataset.animating !== '1'"
    )
    pos = page.evaluate(f"() => document.querySelector('{CANVAS}').bitmeshView.cellCentre(6)")
    box = page.locator(CANVAS).bounding_box()
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    q = _query(page)
    assert q["axes"] == ["dp:4,tp:4"]
    assert q["gpus_per_node"] == ["4"]
    assert q["color"] == ["dp"] and q["by"] == ["coord"] and q["rank"] == ["6"]
    url = page.evaluate("() => location.href")
    assert page.problems == []
    page.goto("about:blank")
    page.problems.clear()  # leaving the page may cancel its favicon request
    _open(page, url)
    assert page.input_value("#mesh-axes") == "dp:4,tp:4"
    assert page.input_value("#mesh-gpn") == "4"
    assert (
        page.locator("#mesh-colour button[data-color='dp']").get_attribute("aria-pressed") == "true"
    )
    assert page.locator("#mesh-rank-value").inner_text() == "6"
    assert page.locator("#mesh-inspector dd[data-axis='dp']").inner_text() == "1"
    assert page.locator("#mesh-inspector dd[data-axis='tp']").inner_text() == "2"
    assert page.problems == []


def test_preset_loads_8192_gpus(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh")
    page.wait_for_selector("#mesh-preset optgroup[label='Published layouts']", state="attached")
    page.select_option("#mesh-preset", "dp:64,pp:16,cp:1,tp:8|8")
    page.wait_for_function("() => document.querySelector('#app').dataset.world === '8192'")
    page.wait_for_function(
        "() => document.querySelector('canvas.mesh-canvas').dataset.animating !== '1'"
    )
    assert page.locator(CANVAS).get_attribute("data-cells") == "8192"
    assert _query(page)["axes"] == ["dp:64,pp:16,cp:1,tp:8"]
    # Llama 3 puts TP innermost: every TP group sits inside one node (the table says so)
    tp_row = page.locator("#mesh-axis-table tbody tr").nth(3).inner_text().split("\t")
    assert tp_row[0].strip() == "tp" and tp_row[4].strip() == "1" and tp_row[5].strip() == "0"
    # the first TP groups are blocks of 8 consecutive ranks, each drawn in one colour
    _assert_colours_follow(page, [list(range(8 * g, 8 * g + 8)) for g in range(12)])
    assert page.problems == []


def test_steppers_reorder_and_animate(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh")
    page.evaluate(
        f"""() => {{ const c = document.querySelector('{CANVAS}'); window.__anim = [];
        new MutationObserver(() => window.__anim.push(c.dataset.animating))
          .observe(c, {{attributes: true, attributeFilter: ['data-animating']}}); }}"""
    )
    page.locator("button[aria-label='move tp outward']").click()
    _wait_mesh(page, "pp:2,tp:4,dp:2|8")
    page.wait_for_function(
        "() => document.querySelector('canvas.mesh-canvas').dataset.animating === '0'"
    )
    assert page.evaluate("() => window.__anim") == ["1", "0"]  # it moved, then settled
    # coloured by the innermost axis, now dp: its groups are the rows of arange(16).reshape(8, 2)
    _assert_colours_follow(page, np.arange(16).reshape(8, 2).tolist())
    # tp is no longer innermost: the API warns and the page lists it
    assert "tp is not the innermost axis" in page.locator("#mesh-warnings").inner_text()
    page.locator("button[aria-label='double dp']").click()
    page.wait_for_function("() => document.querySelector('#app').dataset.world === '32'")
    assert page.input_value("#mesh-axes") == "pp:2,tp:4,dp:4"
    assert page.problems == []


def test_bad_axes_show_the_api_message(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh")
    page.fill("#mesh-axes", "dp:2,tp:x")
    page.press("#mesh-axes", "Enter")
    page.wait_for_selector(".api-error:not([hidden])")
    detail = httpx.get(live_server + "/api/v1/mesh?axes=dp:2,tp:x").json()["detail"][0]["msg"]
    assert detail in page.locator(".api-error").inner_text()
    assert page.get_attribute("#mesh-axes", "aria-invalid") == "true"
    assert [p for p in page.problems if "422" not in p] == []


def test_embed_twin(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 480, "height": 800})
    _open(page, live_server + "/embed/mesh?axes=dp:2,pp:2,tp:4&color=pp")
    assert page.locator(".site-header").count() == 0
    assert page.locator(CANVAS).get_attribute("data-cells") == "16"
    assert (
        page.locator("#mesh-colour button[data-color='pp']").get_attribute("aria-pressed") == "true"
    )
    assert horizontal_overflow(page) == 0
    assert page.problems == []


def test_reduced_motion_jumps_to_the_final_layout(page: Any, live_server: str) -> None:
    page.emulate_media(reduced_motion="reduce")
    _open(page, live_server + "/mesh?axes=dp:4,tp:4&gpus_per_node=4&color=tp")
    page.evaluate(
        f"""() => {{ const c = document.querySelector('{CANVAS}'); window.__anim = [];
        new MutationObserver(() => window.__anim.push(c.dataset.animating))
          .observe(c, {{attributes: true, attributeFilter: ['data-animating']}}); }}"""
    )
    draws = int(page.locator(CANVAS).get_attribute("data-draws") or 0)
    page.locator("button[aria-label='move tp outward']").click()
    page.wait_for_function("() => document.querySelector('#app').dataset.mesh === 'tp:4,dp:4|4'")
    page.wait_for_function(
        f"() => Number(document.querySelector('{CANVAS}').dataset.draws) > {draws}"
    )
    assert "1" not in page.evaluate("() => window.__anim")
    # the final picture at once: tp groups of tp:4,dp:4 are the columns of arange(16).reshape(4, 4)
    _assert_colours_follow(page, np.arange(16).reshape(4, 4).T.tolist())
    # rank 1 is now (tp 0, dp 1): the drawing already shows the new mesh
    _hover_rank(page, 1)
    assert page.locator("#mesh-inspector dd[data-axis='dp']").inner_text() == "1"
    assert page.locator("#mesh-inspector dd[data-axis='tp']").inner_text() == "0"


def test_legend_names_every_colour_of_a_small_mesh(page: Any, live_server: str) -> None:
    # dp groups of pp:2,dp:2,tp:4: 8 groups of 2 ranks {r, r + 4} (numpy order, dp stride 4)
    _open(page, live_server + "/mesh?axes=pp:2,dp:2,tp:4&color=dp")
    api = httpx.get(live_server + "/api/v1/mesh?axes=pp:2,dp:2,tp:4&gpus_per_node=8").json()
    items = page.locator("#mesh-legend .legend:not(.mesh-legend-hover) .legend-item")
    texts = [items.nth(i).inner_text() for i in range(items.count())]
    expected = sorted(api["groups"]["dp"], key=lambda g: g[0])
    assert texts == [f"ranks {a}, {b}" for a, b in expected]
    assert not any("more" in t for t in texts)
    # 16 pipeline coordinates: 8 named, the rest counted
    _open(page, live_server + "/mesh?axes=dp:2,pp:16,tp:8&color=pp&by=coord")
    items = page.locator("#mesh-legend .legend:not(.mesh-legend-hover) .legend-item")
    texts = [items.nth(i).inner_text() for i in range(items.count())]
    assert texts[:8] == [f"pp = {k}" for k in range(8)] and texts[8] == "… 8 more"
    assert page.problems == []


def test_svg_export_is_self_explaining(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh?axes=pp:2,dp:2,tp:4")
    with page.expect_download() as dl:
        page.click("text=Download SVG")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Mesh(pp:2, dp:2, tp:4), outermost first" in text
    assert "16 GPUs on 2 nodes of 8" in text and "one colour = one tp group" in text
    assert ">node 1</text>" in text
    # every rank is labelled with its numpy coordinates: rank 6 = (0, 1, 2)
    assert ">6</text>" in text and ">0·1·2</text>" in text and ">15</text>" in text


def test_axis_table_explains_its_columns(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh")
    th = page.locator("#mesh-axis-table th", has_text="rank stride")
    assert "product of the sizes" in (th.get_attribute("title") or "")
    assert "inter-node network" in page.locator(".mesh-table-note").inner_text()


def test_arrow_keys_follow_the_drawing(page: Any, live_server: str) -> None:
    # pp:2,dp:2,tp:4 on 8-GPU nodes: each node is 4 × 2 cells, nodes 0 and 1 side by side
    _open(page, live_server + "/mesh")
    page.locator(CANVAS).focus()
    page.wait_for_function("() => document.querySelector('#mesh-inspector').dataset.rank === '0'")

    def press(key: str, rank: int) -> None:
        page.keyboard.press(key)
        page.wait_for_function(
            f"() => document.querySelector('#mesh-inspector').dataset.rank === '{rank}'"
        )

    press("ArrowDown", 4)  # the cell drawn below rank 0, not a whole row of nodes away
    press("ArrowDown", 4)  # bottom edge: stays
    press("ArrowUp", 0)
    for r in (1, 2, 3):
        press("ArrowRight", r)
    press("ArrowRight", 8)  # across the gap into node 1, same row
    press("ArrowDown", 12)
    press("ArrowLeft", 7)  # back across the gap, bottom row of node 0
    press("PageDown", 15)
    press("Home", 0)
    pos = page.evaluate(f"() => document.querySelector('{CANVAS}').bitmeshView.cellCentre(4)")
    under = page.evaluate(
        f"() => document.querySelector('{CANVAS}').bitmeshView.rankAt({pos['x']}, {pos['y']})"
    )
    assert under == 4
    assert page.problems == []


@pytest.mark.parametrize("path", ["/mesh", "/embed/mesh"])
@pytest.mark.parametrize(
    ("query", "world", "nodes"),
    [
        ("", 2 * 2 * 4, 16 // 8),  # the API's default: pp:2,dp:2,tp:4 on 8-GPU nodes
        # DeepSeek-V3's layout (arXiv 2412.19437 §3.2) on 4-GPU nodes
        ("axes=pp:16,dp:2,ep:64&gpus_per_node=4", 16 * 2 * 64, 2048 // 4),
    ],
)
def test_headline_equals_the_api_for_the_same_query(
    page: Any, live_server: str, path: str, query: str, world: int, nodes: int
) -> None:
    _open(page, f"{live_server}{path}?{query}")
    api = httpx.get(f"{live_server}/api/v1/mesh?{query}").json()
    assert (api["world_size"], api["node_count"]) == (world, nodes)
    assert page.locator("#mesh-world").inner_text() == f"{world:,}"
    assert page.locator("#mesh-nodes").inner_text() == f"{nodes:,}"
    assert page.locator(CANVAS).get_attribute("data-cells") == str(world)
    degrees = page.locator("#mesh-degrees").inner_text()
    for name, degree in api["degrees"].items():
        if degree > 1:
            assert f"{name} {degree:,}" in degrees
    assert page.input_value("#mesh-axes") == api["query"]["axes"]
    assert page.input_value("#mesh-gpn") == str(api["query"]["gpus_per_node"])
    assert page.problems == []


def test_deepseek_preset_counts_dp_as_memory_does(page: Any, live_server: str) -> None:
    _open(page, live_server + "/mesh?axes=pp:16,dp:2,ep:64")
    # 2,048 GPUs / 16 stages = 128 data-parallel ranks per stage, 64 of them share the experts
    assert "dp 128" in page.locator("#mesh-degrees").inner_text()
    assert "carved out of DP" in page.locator("#mesh-notes").inner_text()
    link = page.locator("#mesh-preset-note a")
    assert "dp=128" in (link.get_attribute("href") or "") and "ep=64" in (
        link.get_attribute("href") or ""
    )


# ------------------------------------------------------------------ view state in the URL

# The colour at the middle of the top edge of each rank's cell: clear of its label (centre) and
# of the ring drawn around a neighbouring pinned cell (its sides).
TOP_COLOURS = """(ranks) => {
  const c = document.querySelector('canvas.mesh-canvas');
  const view = c.bitmeshView;
  const cell = Number(c.dataset.cell);
  const dpr = window.devicePixelRatio || 1;
  const ctx = c.getContext('2d');
  return ranks.map((r) => {
    const p = view.cellCentre(r);
    const y = Math.round((p.y - cell / 2 + 2) * dpr);
    const d = ctx.getImageData(Math.round(p.x * dpr), y, 1, 1).data;
    return `${d[0]},${d[1]},${d[2]}`;
  });
}"""
SMALL = "axes=pp:2,dp:2,tp:4"


def _groups_of(api: dict[str, Any], rank: int) -> dict[str, list[int]]:
    return {axis: next(g for g in groups if rank in g) for axis, groups in api["groups"].items()}


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_pinned_rank_in_the_url_opens_pinned(page: Any, live_server: str, where: str) -> None:
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/mesh?{SMALL}&rank=13&color=dp&by=coord")
    api = httpx.get(f"{live_server}/api/v1/mesh?{SMALL}").json()
    record = api["ranks"][13]
    assert page.locator("#mesh-inspector").get_attribute("data-rank") == "13"
    assert page.locator("#mesh-inspector .panel-title").text_content() == "Pinned GPU"
    assert page.locator("#mesh-node-value").inner_text() == str(record["node"])
    assert page.locator("#mesh-local-value").inner_text() == str(record["local_rank"])
    for axis, value in record["coords"].items():
        assert page.locator(f"#mesh-inspector dd[data-axis='{axis}']").inner_text() == str(value)
    # drawn: every group of rank 13 (as the API lists them) in its axis's colour, the rest dimmed
    groups = _groups_of(api, 13)
    others = {axis: [r for r in g if r != 13] for axis, g in groups.items()}
    assert others == {"pp": [5], "dp": [9], "tp": [12, 14, 15]}  # numpy order, by hand
    lit = {axis: set(page.evaluate(TOP_COLOURS, rs)) for axis, rs in others.items()}
    assert all(len(c) == 1 for c in lit.values()), lit
    (dimmed,) = set(page.evaluate(TOP_COLOURS, [0, 1, 2, 3]))  # in no group of rank 13
    assert len({*[c.pop() for c in lit.values()], dimmed}) == 4
    assert page.locator("#mesh-colour button[data-color='dp']").get_attribute("aria-pressed") == (
        "true"
    )
    assert_no_state_key_sent(urls, "mesh")
    assert page.problems == []


def test_click_pins_a_rank_and_escape_clears_it(page: Any, live_server: str) -> None:
    _open(page, f"{live_server}/mesh?{SMALL}")
    pos = page.evaluate(f"() => document.querySelector('{CANVAS}').bitmeshView.cellCentre(9)")
    box = page.locator(CANVAS).bounding_box()
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    assert _query(page)["rank"] == ["9"]
    page.mouse.move(0, 0)  # hover leaves: the pin stays
    page.wait_for_function("() => document.querySelector('#mesh-inspector').dataset.rank === '9'")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('rank')")
    page.wait_for_function("() => document.querySelector('#mesh-inspector').dataset.rank === '-1'")
    assert page.problems == []


@pytest.mark.parametrize("bad", ["rank=16", "rank=-4", "rank=x", "color=zz&by=diagonal"])
def test_bad_state_values_fall_back_quietly(page: Any, live_server: str, bad: str) -> None:
    _open(page, f"{live_server}/mesh?{SMALL}&{bad}")
    assert page.locator("#mesh-inspector").get_attribute("data-rank") == "-1"
    # the default colouring: the innermost axis's groups, one group at a time
    assert (
        page.locator("#mesh-colour button[data-color='tp']").get_attribute("aria-pressed") == "true"
    )
    assert page.locator("#mesh-mode button[data-mode='group']").get_attribute("aria-pressed") == (
        "true"
    )
    assert "rank" not in _query(page)
    assert page.problems == []
