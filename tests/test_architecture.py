"""House rules that a test can enforce."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"fastapi", "starlette", "pydantic", "jinja2", "uvicorn", "httpx"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_is_pure() -> None:
    files = sorted((ROOT / "app" / "core").rglob("*.py"))
    assert len(files) >= 3
    offenders = {str(f.relative_to(ROOT)): sorted(_imports(f) & FORBIDDEN) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_inline_script_or_handlers_in_templates() -> None:
    for tpl in (ROOT / "templates").rglob("*.html"):
        text = tpl.read_text()
        for line in text.splitlines():
            stripped = line.strip()
            if "<script" in stripped:
                assert "src=" in stripped, f"inline script in {tpl.name}: {stripped}"
        assert " onclick=" not in text and " onload=" not in text and " style=" not in text, tpl


def test_no_cdn_in_static_or_templates() -> None:
    for f in list((ROOT / "static").rglob("*.js")) + list((ROOT / "templates").rglob("*.html")):
        text = f.read_text()
        assert "cdn." not in text and "unpkg.com" not in text, f
