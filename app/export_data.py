"""What each view fetches at its first draw, declared once per view (keyed by `View.key`), so a
standalone export can compute those API answers in process and bake them in.

A declaration is a function of the page (its path name and its query, with the site's keys and
the view's state keys already set aside) and of `ask`: `ask(url)` computes one GET answer of
this app in process (no socket), keeps it for the file, and returns its JSON (None when it is
not a 2xx), so a request that depends on an earlier answer (the format explorer decodes the
code that /encode returned) is declared as plainly as the page makes it. A request need not be
spelled exactly as the page spells it: the file's fetch shim (static/js/lib/offline.js) also
matches an answer whose explicit parameters the page sent and whose echoed `query` equals the
rest. A view added to app.pages.VIEWS needs an entry here (tests/api/test_export.py checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from app.core.numerics.rounding import SEEDED

Ask = Callable[[str], Any]
SITE_KEYS = ("theme", "controls")  # the site's own embed keys (static/js/lib/urlstate.js)
JS = Path(__file__).resolve().parent.parent / "static" / "js"


@cache
def js_const(path: str, name: str) -> str:
    """A page module's own constant, read from its source (one source: the page keeps it)."""
    text = (JS / path).read_text()
    m = re.search(rf"\bconst {name} = (?:\"([^\"]*)\"|(\d+));", text)
    if m is None:  # pragma: no cover - the page renamed it; the export tests say so
        raise LookupError(f"{name} not found in static/js/{path}")
    return m.group(1) if m.group(1) is not None else m.group(2)


def query_string(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs, safe=",:")


@dataclass(frozen=True)
class Page:
    """One export's page: `name` from its path (/formats/{name}), `q` the API keys of its query
    in order, `full` every key (a view whose own keys pick its requests reads them here)."""

    name: str
    q: tuple[tuple[str, str], ...]
    full: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str = "") -> str:
        return next((v for k, v in reversed(self.full) if k == key), default)

    def url(self, path: str, q: list[tuple[str, str]] | None = None, **extra: str) -> str:
        """`path?<query>` with `extra` set (replacing the same keys), as the pages build it."""
        pairs = [(k, v) for k, v in (list(self.q) if q is None else q) if k not in extra]
        pairs += list(extra.items())
        return f"{path}?{query_string(pairs)}" if pairs else path

    def only(self, keys: set[str]) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.q if k in keys and v != ""]

    def or_start(self, start: str | None) -> list[tuple[str, str]]:
        """The query, or a starting query when it names no API key (the page then loads one)."""
        return list(self.q) if self.q or not start else parse_qsl(start)


MODELS, GPUS, DTYPES = "/api/v1/presets/models", "/api/v1/presets/gpus", "/api/v1/dtypes"


def _formats(p: Page, ask: Ask) -> None:
    ask("/api/v1/formats")


def _format(p: Page, ask: Ask) -> None:
    """info and the dtype catalogue, the number line's codes (every code, or the window around
    the shown one), then /encode of a typed value and /decode of the shown code."""
    api = f"/api/v1/formats/{quote(p.name)}"
    info = ask(api)
    ask(DTYPES)
    if not info:
        return
    one = next((m["code"] for m in info["landmarks"] if m["label"] == "1"), 0)
    try:
        code = int(p.get("code", "x"))
    except ValueError:
        code = one
    if not info["min_code"] <= code <= info["max_code"]:
        code = one
    value = p.get("value").replace(" ", "+").strip()
    window = int(js_const("pages/format.js", "WINDOW"))
    shown = (-1, -1)
    if info["full_table"]:
        ask(f"{api}/values")
    else:
        shown = _window(ask, api, info, code, window, shown)
    if value:
        pairs = [("value", value)] + [(k, p.get(k)) for k in ("rounding", "overflow") if p.get(k)]
        if p.get("rounding") in SEEDED and p.get("seed"):
            pairs.append(("seed", p.get("seed")))
        encoded = ask(f"{api}/encode?{query_string(pairs)}")
        if not encoded:
            return
        code = encoded["code"]
        if not info["full_table"] and not shown[0] <= code < sum(shown):
            # the code grid draws the new code before the line moves: it asks for its page
            page = _grid_page()
            ask(f"{api}/values?start={code // page * page}&count={page}")
    if not info["full_table"]:  # the line follows the shown code to its window
        _window(ask, api, info, code, window, shown)
    ask(f"{api}/decode?code={code}")


@cache
def _grid_page() -> int:
    """Codes per page of the code grid for a wide format (views/codegrid.js gridShape)."""
    return int(re.findall(r"page: (\d+) \}", (JS / "views" / "codegrid.js").read_text())[-1])


def _window(
    ask: Ask, api: str, info: dict[str, Any], code: int, window: int, shown: tuple[int, int]
) -> tuple[int, int]:
    start = max(0, code // window * window - window)
    span = (start, min(3 * window, info["max_code"] + 1 - start))
    if span != shown:
        ask(f"{api}/values?start={span[0]}&count={span[1]}")
    return span


def _format_block(p: Page, ask: Ask) -> None:
    keys = {"values", "distribution", "seed", "blocks", "block"}
    ask(p.url(f"/api/v1/formats/{quote(p.name)}/block", p.only(keys)))


def _compare(p: Page, ask: Ask) -> None:
    ask(DTYPES)
    formats = p.get("formats")
    if not formats or ask(p.url("/api/v1/compare", [("formats", formats)])) is None:
        ask("/api/v1/compare")


def _quantize(p: Page, ask: Ask) -> None:
    ask("/api/v1/quantize/schemes")
    ask(p.url("/api/v1/quantize"))


def _arithmetic(p: Page, ask: Ask) -> None:
    """Three panels on one query: `dot_*` keys go to the dot product, `attn_*` to attention
    (prefix removed), the rest to the running sum."""
    ask("/api/v1/quantize/schemes")
    prefixes = {"dot_": "/api/v1/accumulate/dot", "attn_": "/api/v1/attention"}
    rest = [(k, v) for k, v in p.q if not any(k.startswith(x) for x in prefixes)]
    ask(p.url("/api/v1/accumulate", rest))
    for prefix, path in prefixes.items():
        ask(p.url(path, [(k.removeprefix(prefix), v) for k, v in p.q if k.startswith(prefix)]))


def _catalogues(*urls: str) -> Callable[[Ask], None]:
    def run(ask: Ask) -> None:
        for u in urls:
            ask(u)

    return run


def _pipeline(p: Page, ask: Ask) -> None:
    _catalogues("/api/v1/pipeline/schedules", MODELS, GPUS)(ask)
    ask(p.url("/api/v1/pipeline", format="columns"))


def _mesh(p: Page, ask: Ask) -> None:
    _catalogues("/api/v1/presets/meshes", "/api/v1/limits")(ask)
    ask(p.url("/api/v1/mesh", format="columns", include="ranks"))


def _sharding(p: Page, ask: Ask) -> None:
    """Tensor mode asks /sharding with its tensor keys; model mode /sharding/model with the
    model keys, and the model catalogue."""
    _catalogues("/api/v1/presets/sharding", "/api/v1/limits")(ask)
    if p.get("mode") == "model":
        keys = {"model", "tp", "dp", "ep", "pp", "zero", "dtype"}
        ask(p.url("/api/v1/sharding/model", p.only(keys)))
        ask(MODELS)
    else:
        ask(p.url("/api/v1/sharding", p.only({"axes", "shape", "spec"})))


def _memory(p: Page, ask: Ask) -> None:
    _catalogues("/api/v1/presets/parallel", MODELS, GPUS, "/api/v1/memory/options")(ask)
    landing = js_const("views/memory-model.js", "LANDING_QUERY")
    ask(p.url("/api/v1/memory", p.or_start(landing)))


def _collectives(p: Page, ask: Ask) -> None:
    ask(p.url("/api/v1/collectives", view="true", format="columns"))
    ask(GPUS)


def _starts_from(path: str, catalogue: str, first: Callable[[Any], str]) -> Callable[..., None]:
    """A view that starts from the first entry of a catalogue when its URL names no API key."""

    def run(p: Page, ask: Ask) -> None:
        cat = ask(catalogue)
        ask(MODELS)
        ask(GPUS)
        ask(p.url(path, p.or_start(first(cat) if cat else None)))

    return run


def _moe(p: Page, ask: Ask) -> None:
    ask(p.url("/api/v1/moe", routes="true"))
    _catalogues("/api/v1/openapi.json", MODELS, GPUS)(ask)


def _context(p: Page, ask: Ask) -> None:
    """The asked placement, then every other placement the API declares, side by side."""
    doc = ask("/api/v1/openapi.json")
    _catalogues(MODELS, GPUS)(ask)
    d = ask(p.url("/api/v1/context"))
    if not d or not doc:
        return
    params = doc["paths"]["/api/v1/context"]["get"]["parameters"]
    names = next(x["schema"]["enum"] for x in params if x["name"] == "placement")
    for name in names:
        if name != d["placement"]:
            ask(p.url("/api/v1/context", placement=name))


def _serving_like(path: str) -> Callable[[Page, Ask], None]:
    def run(p: Page, ask: Ask) -> None:
        _catalogues(MODELS, GPUS, DTYPES)(ask)
        ask(p.url(path))

    return run


def _first(catalogue: dict[str, Any], key: str) -> str:
    """The query of a catalogue's first entry (`query`, or a run's `throughput_query`)."""
    first = catalogue[key][0]
    return str(first.get("query") or first["throughput_query"])


NEEDS: dict[str, Callable[[Page, Ask], None]] = {
    "formats": _formats,
    "format": _format,
    "format_block": _format_block,
    "compare": _compare,
    "quantize": _quantize,
    "arithmetic": _arithmetic,
    "pipeline": _pipeline,
    "mesh": _mesh,
    "sharding": _sharding,
    "memory": _memory,
    "collectives": _collectives,
    "communication": _starts_from(
        "/api/v1/communication", "/api/v1/communication/examples", lambda c: _first(c, "examples")
    ),
    "throughput": _starts_from(
        "/api/v1/throughput", "/api/v1/throughput/gallery", lambda c: _first(c, "runs")
    ),
    "plan": _starts_from("/api/v1/plan", "/api/v1/plan/examples", lambda c: _first(c, "examples")),
    "moe": _moe,
    "context": _context,
    "inference": _serving_like("/api/v1/inference"),
    "serving": _serving_like("/api/v1/inference/batching"),
}
