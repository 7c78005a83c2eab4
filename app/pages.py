"""HTML pages and their `/embed/*` twins.

A page and its embed render the same view template; only the layout differs (site chrome and
navigation for pages, none for embeds, which report their height to the parent frame). All
view state is in the query string and read by the page's ES module, never templated into HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.core.numerics.block_format import BlockQuery, page_name
from app.core.numerics.codec import EncodeQuery
from app.core.numerics.rounding import OVERFLOW_MODES, ROUNDING_MODES
from app.core.numerics.tensors import DISTRIBUTION_NOTES, TENSOR_DISTRIBUTIONS
from app.core.params import effective
from app.templating import render_page, templates

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class View:
    key: str
    path: str
    title: str
    blurb: str
    section: str  # the header's menu and the home gallery's heading it is listed under
    embeddable: bool = True
    in_nav: bool = True  # a link in the header's menu of its section
    in_home: bool | None = None  # a card in the home gallery (None: as in_nav)
    # a typical height of the embed at 720 px wide, for oEmbed answers (the copy-embed step
    # measures the real one)
    embed_height: int = 900
    # URL keys that are the reader's view of the figure (playhead, zoom, selection, hovered
    # mark), not inputs of a computation: kept in the page's and embed's URL so a link or an
    # embed shows exactly that frame, and never sent to an API (the body's data-state-keys
    # tells api.js; the export strips them before it computes).
    state: tuple[str, ...] = ()


VIEWS: tuple[View, ...] = (
    View("formats", "/formats", "Formats", "Every low-precision format, bit by bit.", "Numerics"),
    View(
        "format",
        "/formats/{name}",
        "Format explorer",
        "Click bits, round any real, see every value.",
        "Numerics",
        in_nav=False,
        state=("scale", "view"),  # the number line's axis and its zoomed window
    ),
    View(
        "format_block",
        "/formats/{name}",
        "Block format",
        "One MX or NVFP4 block: the shared scale's bits, every element's code.",
        "Numerics",
        in_nav=False,
    ),
    View(
        "compare",
        "/compare",
        "Compare",
        "Formats side by side on one log axis.",
        "Numerics",
        state=("range",),  # the zoomed log2 window
    ),
    View(
        "quantize",
        "/quantize",
        "Quantize",
        "MXFP4, NVFP4, FP8: what a scheme costs on a tensor, block by block.",
        "Numerics",
        state=("sort", "t"),  # the presets table's order; the histogram morph's playhead
    ),
    View(
        "arithmetic",
        "/arithmetic",
        "Arithmetic",
        "Where a low-precision sum stops growing, and how dot-product error grows.",
        "Numerics",
        state=("step",),  # the running sum's pinned term
    ),
    View(
        "pipeline",
        "/pipeline",
        "Pipeline",
        "GPipe to DualPipeV as animated timelines with your own costs.",
        "Parallelism",
        # the raced schedule, playback speed, playhead, visible time window, pinned op
        state=("race", "speed", "t", "from", "to", "op"),
    ),
    View(
        "mesh",
        "/mesh",
        "Mesh",
        "Which GPU sits where in a device mesh.",
        "Parallelism",
        state=("color", "by", "rank"),
    ),
    View(
        "sharding",
        "/sharding",
        "Sharding",
        "Which device holds which block.",
        "Parallelism",
        state=("device", "block"),
    ),
    View(
        "memory",
        "/memory",
        "Memory",
        "Where every byte of a model lives, per GPU.",
        "Parallelism",
        state=("stage", "segment"),
    ),
    # issue 10: collectives and the communication bill
    View(
        "collectives",
        "/collectives",
        "Collectives",
        "Ring all-reduce step by step, and what it costs on real links.",
        "Parallelism",
        state=("step", "measure", "rank"),
    ),
    View(
        "communication",
        "/communication",
        "Communication",
        "What each parallelism axis sends per training step, and how long it takes.",
        "Parallelism",
        state=("axis",),
    ),
    # issue 13: throughput decoder and layout planner
    View(
        "throughput",
        "/throughput",
        "MFU",
        "What a tokens/s claim means per GPU, under every FLOPs convention.",
        "Planning",
        state=("convention",),
    ),
    View(
        "plan",
        "/plan",
        "Plan",
        "Every layout of a model on a cluster, ranked by step time and checked by memory.",
        "Planning",
        state=("sort", "pick"),
    ),
    # issue 11: expert and context parallelism
    View(
        "moe",
        "/moe",
        "Experts",
        "Tokens routed to experts on other GPUs: load, capacity, drops and all-to-alls.",
        "Parallelism",
        state=("t", "expert"),
    ),
    View(
        "context",
        "/context",
        "Context",
        "Ring attention tile by tile: K/V blocks around the ring, zig-zag vs contiguous.",
        "Parallelism",
        state=("step", "tile"),
    ),
    # issue 12: serving
    View(
        "inference",
        "/inference",
        "Inference",
        "Prefill and decode on the roofline, op by op, for a sharded model.",
        "Inference",
        state=("op",),
    ),
    View(
        "serving",
        "/serving",
        "Serving",
        "KV capacity per engine, and a paged KV pool filling under continuous batching.",
        "Inference",
        state=("t", "request"),
    ),
)
VIEW_BY_KEY = {v.key: v for v in VIEWS}


@dataclass(frozen=True)
class Featured:
    """A famous configuration on the home page: a page URL whose query is its API query."""

    title: str
    sentence: str
    url: str
    api: str  # the endpoint that page asks with the same query (tests check it answers 200)


FEATURED: tuple[Featured, ...] = (
    Featured(
        "Llama 3 405B's 4D layout",
        "8,192 H100s as DP 64 × PP 16 × CP 1 × TP 8 (arXiv 2407.21783 Table 4).",
        "/mesh?axes=dp:64,pp:16,cp:1,tp:8&gpus_per_node=8",
        "/api/v1/mesh",
    ),
    Featured(
        "DeepSeek-V3: DualPipe",
        "The bidirectional schedule on 16 pipeline ranks (arXiv 2412.19437 §3.2.1).",
        "/pipeline?schedule=dualpipev&stages=16&microbatches=32",
        "/api/v1/pipeline",
    ),
    Featured(
        "DeepSeek-V3: EP 64",
        "PP 16, experts over 64 GPUs, ZeRO-1 DP, no TP: the bytes per GPU.",
        "/memory?model=deepseek-v3&gpu=h100-sxm&dp=128&tp=1&pp=16&cp=1&ep=64&zero=1"
        "&seq_len=4096&micro_batch=1",
        "/api/v1/memory",
    ),
    Featured(
        "MXFP4 on heavy tails",
        "Student-t data (df 3) in 32-value blocks with power-of-two scales.",
        "/quantize?scheme=mxfp4&distribution=student_t&df=3",
        "/api/v1/quantize",
    ),
    Featured(
        "NVFP4 on heavy tails",
        "The same data in 16-value blocks with FP8 scales: compare the error.",
        "/quantize?scheme=nvfp4&distribution=student_t&df=3",
        "/api/v1/quantize",
    ),
    Featured(
        "The bf16 summation stall",
        "Adding 1s in bfloat16 stops at 256: every later 1 is under half an ulp.",
        "/arithmetic?format=bfloat16&distribution=ones&n=4096",
        "/api/v1/accumulate",
    ),
)


def available(view: View) -> bool:
    """A view is listed only once its template exists (no placeholders)."""
    try:
        templates.get_template(f"views/{view.key}.html")
    except Exception:
        return False
    return True


def sections(views: list[View]) -> list[tuple[str, list[View]]]:
    """`views` grouped by section, sections in order of first appearance and views in their
    order within each: the header's menus and the home gallery's headings.

    For example, views of sections A, B, A give [("A", [1st, 3rd]), ("B", [2nd])].
    """
    grouped: dict[str, list[View]] = {}
    for v in views:
        grouped.setdefault(v.section, []).append(v)
    return list(grouped.items())


def _nav() -> list[tuple[str, list[View]]]:
    return sections([v for v in VIEWS if v.in_nav and available(v)])


def _gallery() -> list[tuple[str, list[View]]]:
    return sections(
        [v for v in VIEWS if (v.in_nav if v.in_home is None else v.in_home) and available(v)]
    )


# Keys the site's chrome reads in any view's URL (never sent to the API): the embed's theme
# and how much of its control panel it shows (static/js/lib/urlstate.js lists the same).
CONTROLS = ("1", "compact", "0")


def page_path(path: str) -> str:
    """The full page's path of a page or embed path (`/embed/pipeline` -> `/pipeline`)."""
    return path.removeprefix("/embed") or "/"


def chrome(request: Request, embed: bool) -> dict[str, object]:
    """What base.html and embed_base.html need besides the view: the page's own path, the
    embed's controls setting and the oEmbed discovery URL."""
    controls = request.query_params.get("controls", "1")
    path = page_path(request.url.path)
    query = request.url.query
    page_url = str(request.base_url).rstrip("/") + path + (f"?{query}" if query else "")
    return {
        "embed": embed,
        "page_path": path,
        "controls": controls if controls in CONTROLS else "1",
        "oembed_href": "/oembed?" + urlencode({"url": page_url, "format": "json"}),
        "nav": _nav(),
    }


def render_view(request: Request, key: str, embed: bool, **context: object) -> Response:
    view = VIEW_BY_KEY[key]
    if not available(view):
        return HTMLResponse("Not found", status_code=404)
    return render_page(
        request,
        f"views/{key}.html",
        {
            "layout": "embed_base.html" if embed else "base.html",
            "view": view,
            "state_keys": ",".join(view.state),
            **chrome(request, embed),
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
        return render_view(
            request,
            "format_block",
            embed,
            format_name=canonical,
            block_defaults=effective(BlockQuery()),
            distributions=[(d, DISTRIBUTION_NOTES[d]) for d in TENSOR_DISTRIBUTIONS],
        )
    defaults = {k: v for k, v in effective(EncodeQuery(value="")).items() if k != "value"}
    return render_view(
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
    context = {"layout": "base.html", "sections": _gallery(), "featured": FEATURED}
    return render_page(request, "home.html", {**context, **chrome(request, False)})


@router.get("/tour", response_class=HTMLResponse)
def tour(request: Request) -> Response:
    return render_page(request, "tour.html", {"layout": "base.html", **chrome(request, False)})


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    return render_page(request, "docs.html", {"layout": "base.html", **chrome(request, False)})


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
        return render_view(request, view.key, False)

    def embed(request: Request) -> Response:
        return render_view(request, view.key, True)

    router.add_api_route(view.path, page, methods=["GET", "HEAD"], response_class=HTMLResponse)
    if view.embeddable:
        router.add_api_route(
            "/embed" + view.path, embed, methods=["GET", "HEAD"], response_class=HTMLResponse
        )


for _view in VIEWS:
    if "{" not in _view.path:
        _add_simple(_view)
