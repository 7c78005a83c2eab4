"""House rules that keep the code readable: short functions, thin routers.

A function over 80 lines (Python or JS) must say why in its docstring / leading comment with
the words "long because"; a router module stays under 250 lines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 80
MAX_ROUTER_LINES = 250
REASON = "long because"


def _python_long_functions() -> list[str]:
    out = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                doc = ast.get_docstring(node) or ""
                if length > MAX_FUNCTION_LINES and REASON not in doc:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {length}")
    return out


_JS_START = re.compile(
    r"^\s*(?:export\s+)?(?:async\s+)?function\*?\s+(\w+)\s*\(|"
    r"^\s*(?:export\s+)?(?:const|let)\s+(\w+)\s*=\s*(?:async\s*)?(?:function\b|\([^)]*\)\s*=>|\w+\s*=>)"
)


def _strip_js(line: str) -> str:
    """The line without string literals and // comments (enough to count braces)."""
    line = re.sub(r"\\.", "", line)
    line = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "", line)
    return re.sub(r"//.*$", "", line)


def _js_long_functions() -> list[str]:
    """Top-level and nested named functions whose braces span more than the limit."""
    out = []
    for path in sorted((ROOT / "static" / "js").rglob("*.js")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            m = _JS_START.match(line)
            if not m:
                continue
            depth, opened, end = 0, False, i
            for j in range(i, len(lines)):
                code = _strip_js(lines[j])
                depth += code.count("{") - code.count("}")
                opened = opened or "{" in code
                if opened and depth <= 0:
                    end = j
                    break
            if not opened:
                continue
            length = end - i + 1
            leading = "\n".join(lines[max(0, i - 6) : i])
            if length > MAX_FUNCTION_LINES and REASON not in leading:
                out.append(f"{path.relative_to(ROOT)}:{i + 1} {m.group(1) or m.group(2)} {length}")
    return out


def test_python_functions_are_short_or_say_why() -> None:
    assert _python_long_functions() == []


def test_js_functions_are_short_or_say_why() -> None:
    assert _js_long_functions() == []


def test_routers_are_thin() -> None:
    long = [
        f"{p.name}: {n}"
        for p in sorted((ROOT / "app" / "api").glob("*.py"))
        if (n := len(p.read_text().splitlines())) > MAX_ROUTER_LINES
    ]
    assert long == []
