"""Expressions that evaluate and print themselves: values exact, printing unambiguous."""

from __future__ import annotations

from fractions import Fraction

from app.core.symbolic import Quantity, define, explain, minimum, number

s, b, h, t, a = (
    Quantity(n, v) for n, v in (("s", 2048), ("b", 1), ("h", 12288), ("t", 8), ("a", 96))
)


def test_value_and_both_printings_of_34_sbh_over_t() -> None:
    e = 34 * s * b * h / t
    assert e.value == 34 * 2048 * 12288 // 8
    assert e.symbolic() == "34·s·b·h/t"
    assert e.substituted() == "34 × 2,048 × 1 × 12,288/8"
    assert str(e) == "34·s·b·h/t = 34 × 2,048 × 1 × 12,288/8"


def test_parentheses_only_where_precedence_needs_them() -> None:
    e = s * b * h * (10 + 24 / t + 5 * a * s / (h * t))
    assert e.symbolic() == "s·b·h·(10 + 24/t + 5·a·s/(h·t))"
    # Korthikanti Table 2, TP: 10 + 24/8 + 5·96·2048/(12288·8) = 10 + 3 + 10
    assert e.value == 2048 * 12288 * 23
    x, y, z = Quantity("x", 1), Quantity("y", 2), Quantity("z", 3)
    assert (x - (y - z)).symbolic() == "x − (y − z)" and (x - (y - z)).value == 2
    assert (x - y - z).symbolic() == "x − y − z" and (x - y - z).value == -4
    assert (x / (y / z)).symbolic() == "x/(y/z)" and (x / (y / z)).value == Fraction(3, 2)
    assert (x / y / z).symbolic() == "x/y/z" and (x / y / z).value == Fraction(1, 6)


def test_defined_quantities_print_by_name_and_are_explained_once() -> None:
    sbh = define("sbh", s * b * h)
    e = 2 * sbh + sbh / t
    assert e.symbolic() == "2·sbh + sbh/t"
    assert explain(e) == (
        "2·sbh + sbh/t = 2 × 25,165,824 + 25,165,824/8; "
        "sbh = s·b·h = 2,048 × 1 × 12,288 = 25,165,824"
    )


def test_minimum_and_notes() -> None:
    m = define("m", minimum(Quantity("p", 4) - Quantity("stage", 1), Quantity("M", 2)), "in flight")
    assert m.value == 2
    assert m.defined() == "m = min(p − stage, M) = min(4 − 1, 2) = 2 (in flight)"


def test_numbers_print_as_formulas_do() -> None:
    assert number(7_500_000_000) == "7,500,000,000"
    assert number(Fraction(17, 4)) == "4.25"
    assert number(Fraction(1, 3)) == "0.333333"
