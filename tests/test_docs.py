"""The repository explains itself: no file points outside it, and the docs' links resolve."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

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
