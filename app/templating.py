"""The one Jinja2 environment (autoescaping on) shared by pages and error pages, and the
content-versioned static paths pages link to.

Static files are served twice: under `/static/<version>/...` (the version is a hash of every
file under static/, so any change gives new URLs) with a year-long immutable cache, and under
`/static/...` revalidated on every load (for links that were written by hand). Pages are
rendered with their `/static/` links rewritten to the versioned prefix, so every view
template gets the long cache without knowing about it; ES modules import each other by
relative paths, which resolve inside the same version.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.core.parallel.memory_terms import picker_dtypes

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


def static_version(root: Path = STATIC_DIR) -> str:
    """A 12-hex-digit hash of every static file's path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


STATIC_VERSION = static_version()
# BITMESH_STATIC_VERSIONS=0 links plain /static/ (revalidated every load), as the site did
# before; bench/bench_embeds.py measures both.
STATIC_PREFIX = (
    f"/static/{STATIC_VERSION}/" if os.environ.get("BITMESH_STATIC_VERSIONS") != "0" else "/static/"
)
_STATIC_LINK = re.compile(r"""(\s(?:href|src)=["'])/static/""")
# an ES module's static relative imports: `import x from "./a.js"`, `import "./a.js"`,
# `export {x} from "../b.js"`, `import("./c.js")` (group 3 is the specifier)
IMPORT = re.compile(
    r"""(\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?|\bexport\s*(?:\*|\{[^}]*\})\s*from\s*|"""
    r"""\bimport\s*\(\s*)(["'])(\.{1,2}/[^"']+)\2"""
)
_MODULE_TAG = re.compile(r"""<script type="module" src="/static/([^"]+)"></script>""")


@lru_cache(maxsize=256)
def module_imports(rel: str) -> tuple[str, ...]:
    """Every module `static/<rel>` imports, directly or not, as paths relative to static/."""
    seen: dict[str, None] = {}
    todo = [rel]
    while todo:
        current = todo.pop()
        path = STATIC_DIR / current
        if current in seen or not path.is_file():
            continue
        seen[current] = None
        base = posixpath.dirname(current)
        todo.extend(
            posixpath.normpath(posixpath.join(base, m.group(3)))
            for m in IMPORT.finditer(path.read_text())
        )
    return tuple(k for k in seen if k != rel)


def _preloads(html: str) -> str:
    """`<link rel="modulepreload">` for every module the page's module scripts import, so the
    browser fetches the whole graph at once instead of one import level per round trip."""
    deps: dict[str, None] = {}
    for entry in _MODULE_TAG.findall(html):
        deps.update(dict.fromkeys(module_imports(entry)))
    links = "".join(f'<link rel="modulepreload" href="/static/{d}">\n' for d in deps)
    return html.replace("</head>", links + "</head>", 1) if links else html


def versioned(html: str) -> str:
    """`href="/static/x"` and `src="/static/x"` point at the content-versioned copy, and the
    page preloads its whole module graph."""
    return _STATIC_LINK.sub(lambda m: m.group(1) + STATIC_PREFIX, _preloads(html))


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Choices that templates list come from the core, so a page never drifts from the API.
templates.env.globals["memory_dtypes"] = picker_dtypes()
# narrowest, default and widest width (CSS px) an embed is made for; the copy-embed dialog
# reads them from the page (data-embed-widths), the export and oEmbed from here
EMBED_WIDTHS = (400, 720, 800)
templates.env.globals["embed_widths"] = ",".join(map(str, EMBED_WIDTHS))


def render_page(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    """A template rendered as a page, its static links content-versioned."""
    html = templates.get_template(name).render({"request": request, **context})
    return HTMLResponse(versioned(html))
