"""The repository explains itself: no file points outside it, and the docs' links resolve."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
# Spelled in pieces so that this file does not match itself.
OUTSIDE = ("../" + "shared", "REFERENCES" + ".md")
# [text](target) and ![alt](target); the target stops at whitespace or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _tracked() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in out.split("\0") if name]


def _text(path: Path) -> str | None:
    """The file's text, or None for binary files (and files deleted but not yet staged)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading, e.g. "Ties and overflow" -> "ties-and-overflow"."""
    text = CODE_SPAN.sub(lambda m: m.group(0)[1:-1], heading.strip()).lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in {"L", "N"})
    return kept.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for line in FENCE.sub("", text).splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        slug = _slug(m.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _links(text: str) -> list[str]:
    prose = CODE_SPAN.sub("", FENCE.sub("", text))
    return LINK.findall(prose)


def test_the_checks_see_links_and_files() -> None:
    """Guard against a vacuous pass: the helpers find what they must."""
    assert len(_tracked()) > 50
    assert {p.name for p in _docs()} >= {"README.md", "architecture.md", "api.md", "sources.md"}
    sample = 'See [a](docs/a.md#x), ![b](b.png "t"), `[c](nope.md)`.\n```\n[d](e.md)\n```\n'
    assert _links(sample) == ["docs/a.md#x", "b.png"]
    assert _anchors("# Ties and overflow\n## `GET /x` and Y\n# Ties and overflow\n") == {
        "ties-and-overflow",
        "get-x-and-y",
        "ties-and-overflow-1",
    }


def test_no_tracked_file_points_outside_the_repository() -> None:
    offenders = []
    for path in _tracked():
        text = _text(path)
        if text is None:
            continue
        for needle in OUTSIDE:
            for lineno, line in enumerate(text.splitlines(), start=1):
                if needle in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {needle}")
    assert offenders == []


@pytest.mark.parametrize("doc", _docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_in_the_docs_resolve(doc: Path) -> None:
    broken = []
    for target in _links(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:, ...
            continue
        path_part, _, fragment = target.partition("#")
        path_part = path_part.split("?", 1)[0]
        if not path_part:
            dest = doc
        elif path_part.startswith("/"):
            dest = (ROOT / path_part.lstrip("/")).resolve()
        else:
            dest = (doc.parent / path_part).resolve()
        if not dest.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
            continue
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(ROOT)}")
            continue
        anchors = _anchors(dest.read_text(encoding="utf-8")) if dest.suffix == ".md" else None
        if fragment and anchors is not None and fragment not in anchors:
            broken.append(f"{target}: no heading #{fragment} in {dest.name}")
    assert broken == []


# ---------------------------------------------------------------- the API contract (docs/api.md)

API_DOC = ROOT / "docs" / "api.md"
# "#### `GET /api/v1/formats/{name}`": one heading per endpoint
ENDPOINT = re.compile(r"^#{2,4}\s+`GET\s+(/\S+)`\s*$", re.M)
# "| `stages` | `4` | ..." and "| `name` (path) | required | ...": a parameter table row
PARAM_ROW = re.compile(r"^\|\s*`(\w+)`(?:\s*\(path\))?\s*\|\s*([^|]*?)\s*\|", re.M)
# curl -s 'http://127.0.0.1:8000/api/v1/mesh?axes=...' (origin optional)
CURL_URL = re.compile(r"curl\b[^'\n]*'(?:https?://[^/']+)?(/api/v1/[^']*)'")


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def _get_ops(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every GET operation under /api/v1 in the OpenAPI document, by path."""
    return {
        path: item["get"]
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/") and "get" in item
    }


def _sections(text: str) -> dict[str, str]:
    """api.md's text under each endpoint heading, up to the next heading of any level."""
    out = {}
    matches = list(ENDPOINT.finditer(text))
    for m in matches:
        rest = text[m.end() :]
        nxt = re.search(r"^#{1,4}\s", rest, re.M)
        out[m.group(1)] = rest[: nxt.start()] if nxt else rest
    return out


def _curl_urls(text: str) -> list[str]:
    """The API URL of every curl line inside the fenced code blocks of `text`."""
    return [u for block in FENCE.finditer(text) for u in CURL_URL.findall(block.group(0))]


def _same_default(cell: str, default: Any) -> bool:
    """Whether a table's default cell states the OpenAPI default (`4` is 4.0, `false` False)."""
    text = cell.strip().strip("`")
    if isinstance(default, bool):
        return text == str(default).lower()
    if isinstance(default, int | float):
        try:
            return float(text) == float(default)
        except ValueError:
            return False
    return text == str(default)


def test_the_contract_checks_see_sections_rows_and_urls() -> None:
    """Guard against a vacuous pass: the parsers find what they must, and no more."""
    sample = (
        "#### `GET /api/v1/a/{name}`\n\n| parameter | default |\n|---|---|\n"
        "| `name` (path) | required | x |\n| `stages` | `4` | y |\n\n"
        "```sh\ncurl -s 'http://h:1/api/v1/a/b?stages=2'\n```\n"
        "## Next\n\n`curl -s '/api/v1/not/in/a/fence'`\n"
    )
    sections = _sections(sample)
    assert list(sections) == ["/api/v1/a/{name}"]
    assert PARAM_ROW.findall(sections["/api/v1/a/{name}"]) == [
        ("name", "required"),
        ("stages", "`4`"),
    ]
    assert _curl_urls(sample) == ["/api/v1/a/b?stages=2"]
    assert _same_default("`4`", 4) and _same_default("`1.0`", 1)
    assert _same_default("`false`", False) and not _same_default("`0`", False)
    assert not _same_default("`8`", 4) and not _same_default("`1f1b`", "gpipe")


def test_every_get_endpoint_is_in_the_contract(openapi: dict[str, Any]) -> None:
    published = set(_get_ops(openapi))
    documented = set(_sections(API_DOC.read_text(encoding="utf-8")))
    assert len(published) >= 20  # the document really lists the API
    assert sorted(published - documented) == [], "endpoints missing from docs/api.md"
    extra = documented - published - {"/api/v1/openapi.json", "/healthz"}
    assert sorted(extra) == [], "docs/api.md documents endpoints that do not exist"


def test_the_contract_lists_every_parameter_with_its_default(openapi: dict[str, Any]) -> None:
    sections = _sections(API_DOC.read_text(encoding="utf-8"))
    problems = []
    for path, op in _get_ops(openapi).items():
        params = {p["name"]: p for p in op.get("parameters", [])}
        rows = dict(PARAM_ROW.findall(sections.get(path, "")))
        if set(rows) != set(params):
            problems.append(f"{path}: documents {sorted(rows)}, the API takes {sorted(params)}")
            continue
        for name, p in params.items():
            default = p.get("schema", {}).get("default")
            if default is not None and not _same_default(rows[name], default):
                problems.append(f"{path} {name}: docs say {rows[name]!r}, the API {default!r}")
    assert problems == []


def test_the_contract_refers_only_to_real_limits(client: TestClient) -> None:
    limits = set(client.get("/api/v1/limits").json()["limits"])
    named = set(re.findall(r"`([a-z]+(?:_[a-z]+)+)`", API_DOC.read_text(encoding="utf-8")))
    # every backticked snake_case word that reads like a limit (in a bounds cell) is one
    bounds = {
        word
        for row in re.findall(r"^\|[^\n]*\|$", API_DOC.read_text(encoding="utf-8"), re.M)
        for cell in [row.split("|")[3] if row.count("|") >= 5 else ""]
        for word in re.findall(r"`([a-z]+(?:_[a-z]+)*)`", cell)
    }
    assert bounds, "no bounds named after limits were found"
    assert sorted(bounds - limits) == []
    assert {"pipeline_stages", "mesh_ranks", "value_table_bits"} <= named & limits


def test_every_curl_in_the_contract_is_a_published_example(openapi: dict[str, Any]) -> None:
    """Each endpoint shows a worked request, and it is one the OpenAPI document publishes."""
    sections = _sections(API_DOC.read_text(encoding="utf-8"))
    problems = []
    for path, op in _get_ops(openapi).items():
        published = set(op.get("x-examples") or [])
        shown = _curl_urls(sections.get(path, ""))
        if published and not shown:
            problems.append(f"{path}: no curl example")
        problems += [f"{path}: {u} is not in x-examples" for u in shown if u not in published]
    assert problems == []


@pytest.mark.parametrize("doc", _docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_api_url_in_a_curl_line_answers_200(client: TestClient, doc: Path) -> None:
    urls = _curl_urls(doc.read_text(encoding="utf-8"))
    failing = [(u, s) for u in urls if (s := client.get(u).status_code) != 200]
    assert failing == []


def _state_table() -> dict[str, set[str]]:
    """docs/api.md's "View state in the URL" table: page path -> the keys it lists."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("**View state in the URL.**", 1)[1].split("\n\n**", 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`/"):
            rows[cells[0].strip("`")] = set(re.findall(r"`([a-z_]+)`", cells[1]))
    return rows


def test_every_view_state_key_is_documented_and_is_no_site_key() -> None:
    from app.pages import VIEWS

    table = _state_table()
    for view in VIEWS:
        assert not {"theme", "controls"} & set(view.state), view.key
        assert len(set(view.state)) == len(view.state), view.key
        if view.state:
            assert table.get(view.path) == set(view.state), (view.path, table.get(view.path))
    assert set(table) <= {v.path for v in VIEWS if v.state}, "a row for a view with no state"
