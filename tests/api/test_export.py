"""Sharing without a browser: oEmbed answers, framing rules, content-versioned static files,
the export's module inlining, and the `bitmesh` command line."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.cli import parser
from app.export import answers, assemble, module_graph
from app.export_data import NEEDS
from app.pages import FEATURED, VIEW_BY_KEY, VIEWS, Featured, View, available
from app.templating import STATIC_DIR, static_version

SIMPLE = [v for v in VIEWS if v.embeddable and "{" not in v.path and available(v)]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    p = _Tags()
    p.feed(html)
    return p.tags


# ---------------------------------------------------------------- oEmbed


@pytest.mark.parametrize("view", SIMPLE, ids=lambda v: v.key)
def test_every_page_advertises_oembed_and_the_answer_is_a_rich_iframe(
    client: TestClient, view: object
) -> None:
    path = view.path  # type: ignore[attr-defined]
    html = client.get(path + "?theme=dark").text
    links = [a for t, a in _tags(html) if t == "link" and a.get("rel") == "alternate"]
    assert [a["type"] for a in links] == ["application/json+oembed"]
    href = links[0]["href"] or ""
    assert urlsplit(href).path == "/oembed"
    r = client.get(href)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    data = r.json()
    # oEmbed 1.0 §2.3.4: version, type; rich requires html, width, height
    assert data["version"] == "1.0" and data["type"] == "rich"
    assert isinstance(data["width"], int) and isinstance(data["height"], int)
    frames = [a for t, a in _tags(data["html"]) if t == "iframe"]
    assert len(frames) == 1
    frame = frames[0]
    src = urlsplit(frame["src"] or "")
    assert src.path == "/embed" + path
    assert parse_qs(src.query)["theme"] == ["dark"]  # the page's state is kept
    assert frame["loading"] == "lazy" and frame["title"]
    assert int(frame["width"] or 0) == data["width"]


def test_oembed_pins_a_light_theme_and_honours_maxwidth(client: TestClient) -> None:
    page = "http://testserver" + SIMPLE[0].path
    data = client.get("/oembed", params={"url": page, "maxwidth": 500, "maxheight": 300}).json()
    assert data["width"] <= 500 and data["height"] <= 300
    src = re.search(r'src="([^"]+)"', data["html"])
    assert src is not None
    assert parse_qs(urlsplit(src.group(1).replace("&amp;", "&")).query)["theme"] == ["light"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"url": "http://testserver/nowhere"}, 404),
        ({"url": "http://elsewhere.example/pipeline"}, 404),
        ({"url": "http://testserver/pipeline", "format": "xml"}, 501),
    ],
)
def test_oembed_refuses_what_it_cannot_embed(
    client: TestClient, params: dict[str, str], status: int
) -> None:
    assert client.get("/oembed", params=params).status_code == status


# ---------------------------------------------------------------- framing


@pytest.mark.parametrize("view", SIMPLE, ids=lambda v: v.key)
def test_pages_refuse_framing_and_embeds_allow_it(client: TestClient, view: object) -> None:
    path = view.path  # type: ignore[attr-defined]
    page = client.get(path).headers
    assert "frame-ancestors 'self'" in page["content-security-policy"]
    assert page["x-frame-options"] == "SAMEORIGIN"
    embed = client.get("/embed" + path).headers
    assert "frame-ancestors *" in embed["content-security-policy"]
    assert "x-frame-options" not in embed


# ---------------------------------------------------------------- static files


def test_pages_link_content_versioned_static_files_cached_for_a_year(client: TestClient) -> None:
    html = client.get("/embed" + SIMPLE[0].path).text
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert urls and all(u.startswith(f"/static/{static_version()}/") for u in urls)
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    # the same file unversioned, or under a stale version, is revalidated
    rest = urls[0].split("/", 3)[3]
    assert client.get(f"/static/{rest}").headers["cache-control"] == "no-cache"
    assert client.get(f"/static/000000000000/{rest}").headers["cache-control"] == "no-cache"


def test_static_version_changes_with_any_file(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("export const a = 1;\n")
    before = static_version(tmp_path)
    (tmp_path / "a.js").write_text("export const a = 2;\n")
    assert static_version(tmp_path) != before


def test_relative_imports_resolve_inside_the_version(client: TestClient) -> None:
    """A module's `../lib/x.js` import, resolved against its versioned URL, is served."""
    html = client.get("/embed" + SIMPLE[0].path).text
    entry = re.findall(r'<script type="module" src="(/static/[^"]+)"', html)[-1]
    source = client.get(entry).text
    for spec in re.findall(r'from "(\.{1,2}/[^"]+)"', source):
        url = urlsplit("http://x" + entry.rsplit("/", 1)[0] + "/" + spec).path
        resolved = str(Path(url).resolve()) if ".." in url else url
        assert client.get(resolved).status_code == 200, resolved


# ---------------------------------------------------------------- export pieces


def test_module_graph_reaches_every_static_import_and_rewrites_it() -> None:
    graph = module_graph(["/static/js/lib/embed.js"])
    assert set(graph) >= {"/static/js/lib/embed.js", "/static/js/lib/theme.js"}
    for url, source in graph.items():
        assert (STATIC_DIR / url.removeprefix("/static/")).is_file()
        assert not re.search(r"""from\s*["']\.{1,2}/""", source), url
        for spec in re.findall(r"""["']@bitmesh(/static/[^"']+)["']""", source):
            assert spec in graph


def test_export_of_an_unknown_page_is_a_404(client: TestClient) -> None:
    r = client.get("/export/nowhere")
    assert r.status_code == 404


def test_exported_file_is_self_contained(client: TestClient) -> None:
    """The file links nothing outside itself, and its CSP forbids every connection."""
    r = client.get("/export" + SIMPLE[0].path + ".html")
    assert r.status_code == 200, r.text
    html = r.text
    assert "content-security-policy" not in r.headers  # the file's own CSP governs it
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None and "connect-src &#x27;none&#x27;" in csp.group(1)
    for tag, attrs in _tags(html):
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if tag in {"script", "link", "img"} and value:
                assert value.startswith("data:"), (tag, value)
    imports = re.search(r'<script type="importmap">(.+?)</script>', html)
    assert imports is not None
    for url in re.findall(r"data:text/javascript;base64,([A-Za-z0-9+/=]+)", imports.group(1)):
        assert "/static/" not in base64.b64decode(url).decode().split("import")[0]


# ---------------------------------------------------------------- command line


def test_cli_parses_export_and_serve() -> None:
    args = parser().parse_args(
        ["export", "pipeline", "--param", "stages=8", "--param", "schedule=zb_h1", "-o", "f.html"]
    )
    assert (args.command, args.view, args.param, args.output) == (
        "export",
        "pipeline",
        ["stages=8", "schedule=zb_h1"],
        "f.html",
    )
    serve = parser().parse_args(["serve", "--port", "9000"])
    assert (serve.command, serve.port) == ("serve", 9000)


def test_pyproject_installs_the_bitmesh_command() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.search(r'^bitmesh = "app\.cli:main"$', text, re.M)


# ---------------------------------------------------------------- home and tour


@pytest.mark.parametrize("featured", FEATURED, ids=lambda f: f.title)
def test_famous_configurations_are_one_click_away_and_answer(
    client: TestClient, featured: Featured
) -> None:
    assert featured.url in client.get("/").text.replace("&amp;", "&")
    page = urlsplit(featured.url)
    assert client.get(featured.url).status_code == 200
    assert client.get(f"{featured.api}?{page.query}").status_code == 200


def test_tour_is_built_only_from_public_embeds(client: TestClient) -> None:
    html = client.get("/tour").text
    frames = [a for t, a in _tags(html) if t == "iframe"]
    assert len(frames) >= 10
    for f in frames:
        src = f["src"] or ""
        assert src.startswith("/embed/") and f["loading"] == "lazy" and f["title"]
        assert client.get(src).status_code == 200
    # its only script is the documented resize snippet (plus keeping state in the URL)
    scripts = [a["src"] for t, a in _tags(html) if t == "script" and a.get("src")]
    tour = next(s for s in scripts if s and s.endswith("/pages/tour.js"))
    snippet = re.search(
        r"<!-- resize-snippet -->\s*```html\n<script>\n(.*?)</script>",
        (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(),
        re.S,
    )
    assert snippet is not None and snippet.group(1) in client.get(tour or "").text


def test_cli_writes_the_standalone_file_without_a_server(tmp_path: Path) -> None:
    from app.cli import main

    out = tmp_path / "figure.html"
    assert main(["export", "pipeline", "--param", "schedule=zb_h1", "-o", str(out)]) == 0
    baked = _baked(out.read_text())
    assert baked["page"] == "/pipeline" and "schedule=zb_h1" in baked["search"]
    answers = [json.loads(r["body"]) for k, r in baked["responses"].items() if "?" in k]
    assert any(a.get("query", {}).get("schedule") == "zb_h1" for a in answers)
    assert main(["export", "format", "-o", str(out)]) == 1  # the format view needs a name


def _baked(html: str) -> dict[str, Any]:
    data = re.search(r'<script type="application/json" id="bitmesh-export">(.+?)</script>', html)
    assert data is not None
    return dict(json.loads(data.group(1).replace("<\\/", "</")))


# ---------------------------------------------------------------- computed, not recorded

EMBEDDABLE = [v for v in VIEWS if v.embeddable and available(v)]


def test_every_embeddable_view_declares_what_it_fetches() -> None:
    assert {v.key for v in EMBEDDABLE} <= set(NEEDS)
    assert set(NEEDS) <= {v.key for v in VIEWS}  # no declaration outlives its view


@pytest.mark.parametrize("view", EMBEDDABLE, ids=lambda v: v.key)
def test_every_view_exports_at_its_defaults_with_2xx_answers(view: View) -> None:
    name = {"format": "bfloat16", "format_block": "mxfp4"}.get(view.key, "")
    got = answers(view, name, "controls=compact")
    assert got and all(200 <= a["status"] < 300 for a in got.values()), got.keys()
    assert all(urlsplit(u).path.startswith("/api/v1/") for u in got)


def test_state_and_site_keys_stay_in_the_url_and_out_of_the_api() -> None:
    """A view's state keys (here a playhead `t`) and theme/controls are not API inputs: the
    answers are computed without them and the file opens with them."""
    view = replace(VIEW_BY_KEY["pipeline"], state=("t", "sel"))
    query = "schedule=zb_h1&t=3.5&theme=dark&sel=2&controls=0"
    got = answers(view, "", query)
    for url in got:
        assert not {"t", "sel", "theme", "controls"} & dict(parse_qsl(urlsplit(url).query)).keys()
    main = next(u for u in got if urlsplit(u).path == "/api/v1/pipeline")
    assert dict(parse_qsl(urlsplit(main).query))["schedule"] == "zb_h1"
    assert assemble('<meta charset="utf-8">\n<body >', got, "/pipeline", query, "o").count(
        '"search":"?' + query + '"'
    )


def test_the_format_explorer_decodes_the_code_its_encode_returned(client: TestClient) -> None:
    got = answers(VIEW_BY_KEY["format"], "bfloat16", "value=0.1")
    encode = next(u for u in got if "/encode?" in u)
    code = json.loads(got[encode]["body"])["code"]
    assert code == client.get("/api/v1/formats/bfloat16/encode?value=0.1").json()["code"]
    assert f"/api/v1/formats/bfloat16/decode?code={code}" in got


def test_exports_work_without_playwright_and_the_cli_writes_what_the_endpoint_serves(
    tmp_path: Path,
) -> None:
    """Under the runtime dependencies only (playwright unimportable), `bitmesh export` and GET
    /export both answer, with the same bytes for the same query and origin."""
    script = f"""
import sys
sys.modules["playwright"] = None
from app.cli import main
from app.export import export_html
from fastapi.testclient import TestClient
from app.main import app
assert main(["export", "memory", "--param", "model=llama3-8b", "--param", "tp=2",
             "--origin", "http://testserver", "-o", {str(tmp_path / "cli.html")!r}]) == 0
export_html.cache_clear()
r = TestClient(app).get("/export/memory.html?model=llama3-8b&tp=2")
assert r.status_code == 200, r.text
open({str(tmp_path / "endpoint.html")!r}, "w", encoding="utf-8").write(r.text)
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    cli = (tmp_path / "cli.html").read_bytes()
    assert cli == (tmp_path / "endpoint.html").read_bytes()
    assert b"llama3-8b" in cli


def test_oembed_titles_a_block_format_page_as_the_block_view(client: TestClient) -> None:
    for name, key in (("mxfp4", "format_block"), ("nvfp4", "format_block"), ("bfloat16", "format")):
        data = client.get("/oembed", params={"url": f"http://testserver/formats/{name}"}).json()
        assert data["title"] == f"{VIEW_BY_KEY[key].title} (bitmesh)", name


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/export/pipeline.html?stages=-1", "stages"),
        ("/export/pipeline.html?stages=abc", "stages"),
        ("/export/pipeline.html?bogus=1", "bogus"),
        ("/export/memory.html?model=llama3-70b&seq_len=1e400", "seq_len"),
        ("/export/mesh.html?axes=dp:100000,tp:100000", "axes"),
    ],
)
def test_an_export_of_a_query_the_api_refuses_is_that_422(
    client: TestClient, url: str, field: str
) -> None:
    """Not a 200 file that only shows an error box: the author gets the API's own 422, with
    the field named, as the same query on the API would."""
    r = client.get(url)
    assert r.status_code == 422, r.text[:200]
    assert field in json.dumps(r.json()["detail"])


def test_a_bad_playhead_is_no_api_input_and_still_exports(client: TestClient) -> None:
    """State keys are not sent to the API: a bad one falls back in the page, the file is made."""
    assert client.get("/export/pipeline.html?t=nan&op=-3").status_code == 200
