"""Formulas written once: expressions of named quantities that evaluate and print themselves.

A number shown next to its formula is only trustworthy if both come from the same place. An
`Expr` is a small tree of constants, named quantities and the four operations (plus `min`);
its `value` is exact (an int or a `Fraction`) and it prints itself in symbols and with the numbers
substituted, so a value and its printed formula cannot drift apart. For example::

    s, b, h, t = Quantity("s", 2048), Quantity("b", 1), Quantity("h", 12288), Quantity("t", 8)
    e = 34 * s * b * h / t
    e.value == 106_954_752
    e.symbolic() == "34·s·b·h/t"
    e.substituted() == "34 × 2,048 × 1 × 12,288/8"

A quantity may be defined by an expression (``sbh = define("sbh", s * b * h)``): formulas
using it print ``sbh`` and its value, and `explain` lists the definition once, after the
formula that uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

Number = int | Fraction

# Binding strength, loosest first: a child binding looser than its parent gets parentheses.
_SUM, _PRODUCT, _ATOM = 1, 2, 3


def number(x: Number | float) -> str:
    """A number as formulas print it: 7500000000 -> '7,500,000,000', 17/4 -> '4.25'."""
    if isinstance(x, Fraction):
        x = int(x) if x.denominator == 1 else float(x)
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.6g}"


class Expr:
    """A formula: its exact `value` and its `symbolic()` and `substituted()` renderings."""

    __slots__ = ("precedence", "value")
    value: Number  # exact: an int, or a Fraction when not whole

    def __init__(self, value: Number, precedence: int) -> None:
        self.value = _exact(value)
        self.precedence = precedence

    def symbolic(self) -> str:
        raise NotImplementedError

    def substituted(self) -> str:
        raise NotImplementedError

    def definitions(self) -> Iterator[Quantity]:
        """Defined quantities this formula uses, outermost first."""
        return iter(())

    def __add__(self, other: Expr | Number) -> Expr:
        return _Op("+", self, lift(other))

    def __radd__(self, other: Number) -> Expr:
        return _Op("+", lift(other), self)

    def __sub__(self, other: Expr | Number) -> Expr:
        return _Op("−", self, lift(other))

    def __rsub__(self, other: Number) -> Expr:
        return _Op("−", lift(other), self)

    def __mul__(self, other: Expr | Number) -> Expr:
        return _Op("·", self, lift(other))

    def __rmul__(self, other: Number) -> Expr:
        return _Op("·", lift(other), self)

    def __truediv__(self, other: Expr | Number) -> Expr:
        return _Op("/", self, lift(other))

    def __rtruediv__(self, other: Number) -> Expr:
        return _Op("/", lift(other), self)

    def __str__(self) -> str:
        """``symbols = numbers`` (the numbers alone when the formula has no names)."""
        sym, sub = self.symbolic(), self.substituted()
        return sym if sym == sub else f"{sym} = {sub}"


def lift(x: Expr | Number) -> Expr:
    """`x` as an expression: numbers become constants."""
    return x if isinstance(x, Expr) else Const(x)


class Const(Expr):
    """A number that is part of the formula itself (the 34 of 34·sbh/t)."""

    __slots__ = ()

    def __init__(self, value: Number) -> None:
        super().__init__(value, _ATOM)

    def symbolic(self) -> str:
        return number(self.value)

    def substituted(self) -> str:
        return number(self.value)


class Quantity(Expr):
    """A named quantity: printed as its name in symbols and as its value when substituted.

    With a `definition` (see `define`) the quantity stands for that expression; `note` says
    in words what it is ("bytes per layer per microbatch").
    """

    __slots__ = ("definition", "name", "note")

    def __init__(
        self, name: str, value: Number, definition: Expr | None = None, note: str = ""
    ) -> None:
        super().__init__(value, _ATOM)
        self.name = name
        self.definition = definition
        self.note = note

    def symbolic(self) -> str:
        return self.name

    def substituted(self) -> str:
        return number(self.value)

    def definitions(self) -> Iterator[Quantity]:
        if self.definition is not None:
            yield self
            yield from self.definition.definitions()

    def defined(self) -> str:
        """``name = symbols = numbers = value (note)``, e.g. ``sbh = s·b·h = 2 × 1 × 3 = 6``."""
        parts = [self.name]
        if self.definition is not None:
            parts.append(self.definition.symbolic())
            if self.definition.substituted() != parts[-1]:
                parts.append(self.definition.substituted())
        if number(self.value) != parts[-1]:
            parts.append(number(self.value))
        return " = ".join(parts) + (f" ({self.note})" if self.note else "")


def define(name: str, expr: Expr, note: str = "") -> Quantity:
    """A quantity named `name` whose value is `expr`'s, remembering `expr` as its definition."""
    return Quantity(name, expr.value, expr, note)


_PRECEDENCE = {"+": _SUM, "−": _SUM, "·": _PRODUCT, "/": _PRODUCT, "min": _ATOM}


def _exact(x: Number) -> Number:
    """`x` as an int when whole (fast arithmetic), else as a Fraction: never a float."""
    if isinstance(x, int):
        return x
    if not isinstance(x, Fraction):
        x = Fraction(x)
    return x.numerator if x.denominator == 1 else x


def _apply(op: str, a: Number, b: Number) -> Number:
    if op == "+":
        return a + b
    if op == "−":
        return a - b
    if op == "·":
        return a * b
    if op == "/":
        if isinstance(a, int) and isinstance(b, int):
            return a // b if a % b == 0 else Fraction(a, b)
        return Fraction(a) / b
    return min(a, b)


class _Op(Expr):
    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        super().__init__(_apply(op, left.value, right.value), _PRECEDENCE[op])
        self.op, self.left, self.right = op, left, right

    def _render(self, symbols: bool) -> str:
        def show(x: Expr, at_least: int) -> str:
            text = x.symbolic() if symbols else x.substituted()
            return f"({text})" if x.precedence < at_least else text

        left, right = self.left, self.right
        if self.op == "min":
            return f"min({show(left, _SUM)}, {show(right, _SUM)})"
        if self.op == "+":
            return f"{show(left, _SUM)} + {show(right, _SUM)}"
        if self.op == "−":
            return f"{show(left, _SUM)} − {show(right, _PRODUCT)}"
        if self.op == "·":
            return f"{show(left, _PRODUCT)}{'·' if symbols else ' × '}{show(right, _PRODUCT)}"
        return f"{show(left, _PRODUCT)}/{show(right, _ATOM)}"

    def symbolic(self) -> str:
        return self._render(True)

    def substituted(self) -> str:
        return self._render(False)

    def definitions(self) -> Iterator[Quantity]:
        yield from self.left.definitions()
        yield from self.right.definitions()


def minimum(a: Expr | Number, b: Expr | Number) -> Expr:
    """The smaller of two expressions, printed ``min(a, b)``."""
    return _Op("min", lift(a), lift(b))


def explain(expr: Expr) -> str:
    """The formula in symbols and numbers, then every quantity it defines along the way.

    For example, with ``sbh = define("sbh", s * b * h)``, ``explain(2 * sbh)`` is
    ``"2·sbh = 2 × 6; sbh = s·b·h = 2 × 1 × 3 = 6"``.
    """
    seen: list[Quantity] = []
    for q in expr.definitions():
        if all(q is not x for x in seen):
            seen.append(q)
    return "; ".join([str(expr), *(q.defined() for q in seen)])
