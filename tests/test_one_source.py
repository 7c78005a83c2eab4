"""One source of truth: what the core owns is not written again in static/js.

Pages read names, defaults, limits and modes from the API (or a template global). A literal
copy in JS drifts: `/memory` once computed at seq_len 8192 while the API said 4096. This test
greps the front end (comments stripped) for every name the core's registries hold and for
every limit used as a bound.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.limits import LIMITS
from app.core.numerics.formats import FORMATS
from app.core.parallel import presets
from app.core.parallel.pipeline import SCHEDULES

JS = Path(__file__).resolve().parents[1] / "static" / "js"
ROUNDING_MODES = ("nearest_even", "toward_zero", "stochastic")


def _code(text: str) -> str:
    """JS source without // line comments and /* block comments */ (strings kept)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(re.sub(r"(^|\s)//.*$", "", line) for line in text.splitlines())


SOURCES = {p.relative_to(JS).as_posix(): _code(p.read_text()) for p in sorted(JS.rglob("*.js"))}


def _hits(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [
        f"{name}:{i}: {line.strip()[:90]}"
        for name, text in SOURCES.items()
        for i, line in enumerate(text.splitlines(), 1)
        if rx.search(line)
    ]


OWNED_NAMES = sorted(
    {*FORMATS, *SCHEDULES, *presets.MODELS, *presets.GPUS, *presets.PARALLEL_PRESETS}
    | set(ROUNDING_MODES)
)


@pytest.mark.parametrize("name", OWNED_NAMES)
def test_no_registry_name_is_a_js_literal(name: str) -> None:
    assert _hits(rf"""["'`]{re.escape(name)}["'`]""") == []


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_no_limit_is_a_js_bound(limit: str) -> None:
    value = LIMITS[limit].value
    number = rf"(?:{value}|{value:_}|1\s*<<\s*{value.bit_length() - 1})"
    if value & (value - 1):  # not a power of two: no shift spelling
        number = rf"(?:{value}|{value:_})"
    declared = rf"(?:max|min|limit|MAX\w*|LIMIT\w*)\s*[:=]\s*{number}(?![\w.])"
    # a comparison of a limited quantity with the limit (display thresholds such as "label
    # counts from 1024 as 2^k" compare other things and are not core facts)
    quantity = (
        r"\w*(?:stage|microbatch|rank|world|device|gpu|chunk|layer|degree|seq|batch|axes|node)\w*"
    )
    compared = rf"(?i:{quantity})\s*[<>]=?\s*{number}(?![\w.])"
    # small numbers (4, 8, 16) also shape layouts; only the declared form is checked for them
    bound = f"{declared}|{compared}" if value >= 64 else declared
    assert _hits(bound) == []


def test_every_view_has_a_browser_test_that_its_numbers_are_the_apis() -> None:
    """Each page (and embed) is checked against its endpoint for the same query string.

    A view is covered when a browser test file names the view's path and holds a test whose
    name says it compares with the API.
    """
    from app.pages import VIEWS, available

    browser = Path(__file__).resolve().parent / "browser"
    texts = [p.read_text() for p in sorted(browser.glob("test_*.py"))]
    compares = re.compile(r"def (test_\w*(?:api|apis)\w*)\(")
    missing = [
        v.path
        for v in VIEWS
        if available(v) and not any(v.path.split("{")[0] in t and compares.search(t) for t in texts)
    ]
    assert missing == []
