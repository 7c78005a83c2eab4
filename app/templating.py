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
import re
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


def versioned(html: str) -> str:
    """`href="/static/x"` and `src="/static/x"` point at the content-versioned copy."""
    return _STATIC_LINK.sub(lambda m: m.group(1) + STATIC_PREFIX, html)


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Choices that templates list come from the core, so a page never drifts from the API.
templates.env.globals["memory_dtypes"] = picker_dtypes()


def render_page(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    """A template rendered as a page, its static links content-versioned."""
    html = templates.get_template(name).render({"request": request, **context})
    return HTMLResponse(versioned(html))
