"""Errors the pure core raises for bad input.

The core knows nothing of HTTP; the app maps `InvalidInput` to a 422 whose `detail` names the
field, and `UnknownName` to a 404 whose `detail` lists the valid names.
"""

from __future__ import annotations

from collections.abc import Iterable


class InvalidInput(ValueError):
    """A value the caller passed cannot be used.

    For example ``InvalidInput("microbatches", "must be at least 2·stages (8) for dualpipev")``.
    `field` is the request parameter's name, exactly as the API spells it.
    """

    def __init__(self, field: str, msg: str) -> None:
        super().__init__(f"{field}: {msg}")
        self.field = field
        self.msg = msg


class UnknownName(KeyError):
    """A name (format, preset, schedule...) that is not in a registry."""

    def __init__(
        self,
        kind: str,
        name: str,
        valid: Iterable[str],
        field: str = "name",
        suggestion: str | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        self.field = field
        self.suggestion = suggestion
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        super().__init__(f"unknown {kind} {name!r}{hint}; valid: {', '.join(self.valid)}")

    def __str__(self) -> str:
        return str(self.args[0])
