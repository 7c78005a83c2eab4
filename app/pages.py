"""HTML pages and their `/embed/*` twins.

A page and its embed render the same view template; only the layout differs (site chrome and
navigation for pages, none for embeds, which report their height to the parent frame). All
view state is in the query string and read by the page's ES module, never templated into HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.core.numerics.block_format import BlockQuery, page_name
from app.core.numerics.codec import EncodeQuery
from app.core.numerics.rounding import OVERFLOW_MODES, ROUNDING_MODES
from app.core.numerics.tensors import DISTRIBUTION_NOTES, TENSOR_DISTRIBUTIONS
from app.core.params import effective
from app.templating import templates

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class View:
    key: str
    path: str
    title: str
    blurb: str
    section: str
    embeddable: bool = True
    in_nav: bool = True


VIEWS: tuple[View, ...] = (
    View("formats", "/formats", "Formats", "Every low-precision format, bit by bit.", "Numerics"),
    View(
        "format",
        "/formats/{name}",
        "Format explorer",
        "Click bits, round any real, see every value.",
        "Numerics",
        in_nav=False,
    ),
    View(
        "format_block",
        "/formats/{name}",
        "Block format",
        "One MX or NVFP4 block: the shared scale's bits, every element's code.",
        "Numerics",
        in_nav=False,
    ),
    View("compare", "/compare", "Compare", "Formats side by side on one log axis.", "Numerics"),
    View(
        "quantize",
        "/quantize",
        "Quantize",
        "MXFP4, NVFP4, FP8: what a scheme costs on a tensor, block by block.",
        "Numerics",
    ),
    View(
        "arithmetic",
        "/arithmetic",
        "Arithmetic",
        "Where a low-precision sum stops growing, and how dot-product error grows.",
        "Numerics",
    ),
    View(
        "pipeline",
        "/pipeline",
        "Pipeline",
        "GPipe to DualPipeV as animated timelines with your own costs.",
        "Parallelism",
    ),
    View("mesh", "/mesh", "Mesh", "Which GPU sits where in a device mesh.", "Parallelism"),
    View("sharding", "/sharding", "Sharding", "Which device holds which block.", "Parallelism"),
    View(
        "memory", "/memory", "Memory", "Where every byte of a model lives, per GPU.", "Parallelism"
    ),
    # issue 10: collectives and the communication bill
    View(
        "collectives",
        "/collectives",
        "Collectives",
        "Ring all-reduce step by step, and what it costs on real links.",
        "Parallelism",
    ),
    View(
        "communication",
        "/communication",
        "Communication",
        "What each parallelism axis sends per training step, and how long it takes.",
        "Parallelism",
    ),
    # issue 11: expert and context parallelism
    View(
        "moe",
        "/moe",
        "Experts",
        "Tokens routed to experts on other GPUs: load, capacity, drops and all-to-alls.",
        "Parallelism",
    ),
    View(
        "context",
        "/context",
        "Context",
        "Ring attention tile by tile: K/V blocks around the ring, zig-zag vs contiguous.",
        "Parallelism",
    ),
    # issue 12: serving. Out of the header and the home gallery for now: the header has no
    # room for another link in one row at 1280 px, and a fourth gallery row falls below the
    # fold where its preview never loads (tests/browser/test_shell.py). Each links the other;
    # set in_nav=True (both have gallery previews) once the header groups links by section.
    View(
        "inference",
        "/inference",
        "Inference",
        "Prefill and decode on the roofline, op by op, for a sharded model.",
        "Parallelism",
        in_nav=False,
    ),
    View(
        "serving",
        "/serving",
        "Serving",
        "KV capacity per engine, and a paged KV pool filling under continuous batching.",
        "Parallelism",
        in_nav=False,
    ),
)
VIEW_BY_KEY = {v.key: v for v in VIEWS}


def available(view: View) -> bool:
    """A view is listed only once its template exists (no placeholders)."""
    try:
        templates.get_template(f"views/{view.key}.html")
    except Exception:
        return False
    return True


def _nav() -> list[View]:
    return [v for v in VIEWS if v.in_nav and available(v)]


def _render(request: Request, key: str, embed: bool, **context: object) -> Response:
    view = VIEW_BY_KEY[key]
    if not available(view):
        return HTMLResponse("Not found", status_code=404)
    return templates.TemplateResponse(
        request,
        f"views/{key}.html",
        {
            "layout": "embed_base.html" if embed else "base.html",
            "embed": embed,
            "view": view,
            "nav": _nav(),
            **context,
        },
    )


def _format_page(request: Request, name: str, embed: bool) -> Response:
    """The explorer of one format, element or block (mxfp4, nvfp4, ...); any other spelling
    (bf16, BF16, Float8-E4M3FN, MXFP8) is sent to the canonical URL with its query string
    (308), so a link names one page."""
    kind, canonical = page_name(name)  # an unknown name is a 404 page with "did you mean"
    if canonical != name:
        prefix = "/embed" if embed else ""
        query = request.scope.get("query_string", b"").decode("latin-1")
        target = f"{prefix}/formats/{canonical}" + (f"?{query}" if query else "")
        return RedirectResponse(target, status_code=308)
    if kind == "block":
        return _render(
            request,
            "format_block",
            embed,
            format_name=canonical,
            block_defaults=effective(BlockQuery()),
            distributions=[(d, DISTRIBUTION_NOTES[d]) for d in TENSOR_DISTRIBUTIONS],
        )
    defaults = {k: v for k, v in effective(EncodeQuery(value="")).items() if k != "value"}
    return _render(
        request,
        "format",
        embed,
        format_name=canonical,
        rounding_modes=ROUNDING_MODES,
        overflow_modes=OVERFLOW_MODES,
        encode_defaults=defaults,
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "home.html", {"layout": "base.html", "nav": _nav(), "views": _nav()}
    )


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "docs.html", {"layout": "base.html", "nav": _nav(), "embed": False}
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/formats/{name}", response_class=HTMLResponse)
def format_page(request: Request, name: str) -> Response:
    return _format_page(request, name, False)


@router.get("/embed/formats/{name}", response_class=HTMLResponse)
def format_embed(request: Request, name: str) -> Response:
    return _format_page(request, name, True)


def _add_simple(view: View) -> None:
    def page(request: Request) -> Response:
        return _render(request, view.key, False)

    def embed(request: Request) -> Response:
        return _render(request, view.key, True)

    router.add_api_route(view.path, page, methods=["GET", "HEAD"], response_class=HTMLResponse)
    if view.embeddable:
        router.add_api_route(
            "/embed" + view.path, embed, methods=["GET", "HEAD"], response_class=HTMLResponse
        )


for _view in VIEWS:
    if "{" not in _view.path:
        _add_simple(_view)
