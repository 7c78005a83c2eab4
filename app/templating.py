"""The one Jinja2 environment (autoescaping on) shared by pages and error pages."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from app.core.parallel.memory_terms import picker_dtypes

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Choices that templates list come from the core, so a page never drifts from the API.
templates.env.globals["memory_dtypes"] = picker_dtypes()
