"""Names as people type them: one matching rule for every registry (formats, models, GPUs,
schedules, ...).

A name matches a registry key when both agree after folding case and dropping the separators
people use interchangeably (``-``, ``_``, space, ``.``): ``ZB-H1``, ``zb_h1`` and ``zbh1`` all
name the schedule ``zb_h1``; ``Llama3-70B`` names ``llama3-70b``. A registry may add aliases
(``bf16`` for ``bfloat16``). A miss raises `UnknownName` with the valid names and, when one is
close, a "did you mean".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.core.errors import UnknownName

_SEPARATORS = re.compile(r"[\s._-]+")


def fold(name: str) -> str:
    """The matching key of a name: ``fold("ZB-H1") == fold("zb_h1") == "zbh1"``."""
    return _SEPARATORS.sub("", name.strip().lower())


def closest(name: str, valid: Iterable[str]) -> str | None:
    """The valid name nearest to `name` by edit similarity, if any is close.

    For example ``closest("stage", ["stages", "schedule"]) == "stages"``.
    """
    valid = list(valid)
    initials = [v for v in valid if "_" in v and fold(name) == "".join(w[:1] for w in v.split("_"))]
    if len(initials) == 1:  # "sp" for sequence_parallel, "mb" for micro_batch
        return initials[0]
    by_fold = {fold(v): v for v in valid}
    hits = difflib.get_close_matches(fold(name), list(by_fold), n=1, cutoff=0.6)
    if hits:
        return by_fold[hits[0]]
    hits = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return hits[0] if hits else None


@dataclass(frozen=True)
class Registry:
    """Folded names (and aliases) of one kind of thing, e.g. the model presets.

    ``Registry("schedule", ["1f1b", "zb_h1"]).resolve("ZB-H1") == "zb_h1"``.
    """

    kind: str
    names: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    _index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __init__(
        self, kind: str, names: Iterable[str], aliases: Mapping[str, str] | None = None
    ) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "aliases", dict(aliases or {}))
        index: dict[str, str] = {}
        for key, target in [(n, n) for n in self.names] + list(self.aliases.items()):
            if target not in self.names:
                raise ValueError(f"alias {key!r} names no {kind} ({target!r})")
            folded = fold(key)
            if index.setdefault(folded, target) != target:
                raise ValueError(f"{kind} names {key!r} and {index[folded]!r} fold alike")
        object.__setattr__(self, "_index", index)

    def resolve(self, name: str, field: str = "name") -> str:
        """The registry's own spelling of `name`; `UnknownName` (with a suggestion) if none."""
        if name in self.names:
            return name
        hit = self._index.get(fold(name))
        if hit is not None:
            return hit
        raise UnknownName(
            self.kind, name, self.names, field, suggestion=closest(name, self.spellings())
        )

    def spellings(self) -> list[str]:
        """Every accepted spelling: the names, then the aliases."""
        return list(self.names) + [a for a in self.aliases if a not in self.names]
