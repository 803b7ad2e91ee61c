"""Formulas that count and say themselves: one function, run with numbers or with symbols.

A cost rule in the operator registry (``analysis.ops``) is written once, against a *maker*
``f`` of its quantities: ``f("C_out", 96)`` names a value, ``f.elements("y", tensor)`` counts
a tensor's elements, ``f.exact(a, b)``, ``f.floor(a, b)`` and ``f.ceil(a, b)`` divide, and
``f.named("MACs", macs)`` lets a later formula refer to an earlier one. Run with ``COUNT``
the makers return plain integers, and the rule is the counter the summary uses (no cost
beyond the arithmetic); run with ``EXPLAIN`` they return expressions, and the same rule
says its formula, the values bound to each symbol and the value, which ``archscope explain``
prints. The two cannot drift: they are the same lines of code.

Text uses the notation of the papers and course notes: ``·`` for a product, ``−`` for a
difference, ``⌊⌋`` and ``⌈⌉`` for rounding, ``|y|`` for the number of elements of a tensor.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

MINUS = "−"
TIMES = "·"


def number_text(value: int | float) -> str:
    """An integer as a formula shows it: thousands separated from 10,000 on (55, 1234, 34,944)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    value = int(value)
    text = f"{abs(value):,}" if abs(value) >= 10_000 else str(abs(value))
    return f"({MINUS}{text})" if value < 0 else text


class FormulaError(ValueError):
    """A formula that cannot be stated: one symbol bound to two values, or an inexact division."""


# Precedence of an expression's outermost operation, for parentheses.
_SUM, _PRODUCT, _ATOM = 1, 2, 3


class Expr:
    """A formula: its text in symbols, the same text with the numbers, the bindings, the value."""

    __slots__ = ("value",)
    precedence = _ATOM
    value: int

    def text(self) -> str:
        raise NotImplementedError

    def numbers(self) -> str:
        raise NotImplementedError

    def bind(self, into: dict[str, Any]) -> None:
        """Add this formula's symbols and their values to ``into``; one symbol, one value."""

    def bindings(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        self.bind(found)
        return found

    def __int__(self) -> int:
        return int(self.value)

    def __add__(self, other: Any) -> Expr:
        return Sum.of([(1, self), (1, lift(other))])

    def __radd__(self, other: Any) -> Expr:
        return Sum.of([(1, lift(other)), (1, self)])

    def __sub__(self, other: Any) -> Expr:
        return Sum.of([(1, self), (-1, lift(other))])

    def __rsub__(self, other: Any) -> Expr:
        return Sum.of([(1, lift(other)), (-1, self)])

    def __mul__(self, other: Any) -> Expr:
        return Product.of([self, lift(other)])

    def __rmul__(self, other: Any) -> Expr:
        return Product.of([lift(other), self])

    def __repr__(self) -> str:
        return f"<{self.text()} = {self.numbers()} = {self.value}>"


def _bind(into: dict[str, Any], name: str, value: Any) -> None:
    if name in into and into[name] != value:
        raise FormulaError(f"symbol {name} is bound to both {into[name]} and {value}")
    into[name] = value


class Num(Expr):
    """A constant of the rule (the 2 in 2·MACs)."""

    __slots__ = ()

    def __init__(self, value: int) -> None:
        self.value = value

    def text(self) -> str:
        return number_text(self.value)

    numbers = text


class Sym(Expr):
    """A named value of the call: a channel count, a kernel size, a stride."""

    __slots__ = ("name",)

    def __init__(self, name: str, value: int) -> None:
        self.name, self.value = name, value

    def text(self) -> str:
        return self.name

    def numbers(self) -> str:
        return number_text(self.value)

    def bind(self, into: dict[str, Any]) -> None:
        _bind(into, self.name, self.value)


class Named(Sym):
    """An earlier result referred to by name (MACs inside FLOPs); its own formula is shown apart."""

    __slots__ = ()


class Elements(Expr):
    """The number of elements of a tensor, |y|, bound to the tensor's shape."""

    __slots__ = ("name", "shape")
    precedence = _PRODUCT

    def __init__(self, name: str, shape: Sequence[int]) -> None:
        self.name, self.shape = name, [int(d) for d in shape]
        self.value = math.prod(self.shape)

    def text(self) -> str:
        return f"|{self.name}|"

    def numbers(self) -> str:
        return TIMES.join(number_text(d) for d in self.shape) if self.shape else "1"

    def bind(self, into: dict[str, Any]) -> None:
        _bind(into, self.name, self.shape)


class Sum(Expr):
    __slots__ = ("terms",)
    precedence = _SUM

    def __init__(self, terms: list[tuple[int, Expr]]) -> None:
        self.terms = terms
        self.value = sum(sign * t.value for sign, t in terms)

    @staticmethod
    def of(terms: Iterable[tuple[int, Expr]]) -> Expr:
        flat: list[tuple[int, Expr]] = []
        for sign, t in terms:
            if isinstance(t, Sum):
                flat += [(sign * s, u) for s, u in t.terms]
            else:
                flat.append((sign, t))
        return Sum(flat)

    def _render(self, part: str) -> str:
        out = []
        for i, (sign, t) in enumerate(self.terms):
            text = getattr(t, part)()
            if t.precedence <= _SUM:
                text = f"({text})"
            out.append((f"{MINUS}" if sign < 0 else "") + text if i == 0 else f" {MINUS if sign < 0 else '+'} {text}")
        return "".join(out)

    def text(self) -> str:
        return self._render("text")

    def numbers(self) -> str:
        return self._render("numbers")

    def bind(self, into: dict[str, Any]) -> None:
        for _, t in self.terms:
            t.bind(into)


class Product(Expr):
    __slots__ = ("factors",)
    precedence = _PRODUCT

    def __init__(self, factors: list[Expr]) -> None:
        self.factors = factors
        self.value = math.prod(f.value for f in factors)

    @staticmethod
    def of(factors: Iterable[Expr]) -> Expr:
        flat: list[Expr] = []
        for f in factors:
            flat += f.factors if isinstance(f, Product) else [f]
        if len(flat) > 1:  # a written 1 says nothing in a product of other factors
            flat = [f for f in flat if not (isinstance(f, Num) and f.value == 1)] or flat[:1]
        return flat[0] if len(flat) == 1 else Product(flat)

    def _render(self, part: str) -> str:
        out = []
        for f in self.factors:
            text = getattr(f, part)()
            # |y| in numbers is itself a product: parenthesised, so the tensor's shape stays visible
            if f.precedence < _PRODUCT or (part == "numbers" and isinstance(f, Elements) and len(self.factors) > 1):
                text = f"({text})"
            out.append(text)
        return TIMES.join(out)

    def text(self) -> str:
        return self._render("text")

    def numbers(self) -> str:
        return self._render("numbers")

    def bind(self, into: dict[str, Any]) -> None:
        for f in self.factors:
            f.bind(into)


class Ratio(Expr):
    """a/b, exact (C_in/g), or rounded down ⌊a/b⌋ or up ⌈a/b⌉ (an output length)."""

    __slots__ = ("a", "b", "rounding")

    def __init__(self, a: Expr, b: Expr, rounding: str) -> None:
        self.a, self.b, self.rounding = a, b, rounding
        if rounding == "exact":
            if b.value == 0 or a.value % b.value:
                raise FormulaError(f"{a.numbers()}/{b.numbers()} is not a whole number")
            self.value = a.value // b.value
        elif rounding == "floor":
            self.value = a.value // b.value
        else:
            self.value = -(-a.value // b.value)

    def _render(self, part: str) -> str:
        a, b = getattr(self.a, part)(), getattr(self.b, part)()
        a = f"({a})" if self.a.precedence < _ATOM else a
        b = f"({b})" if self.b.precedence < _ATOM else b
        inner = f"{a}/{b}"
        return {"exact": f"({inner})", "floor": f"⌊{inner}⌋", "ceil": f"⌈{inner}⌉"}[self.rounding]

    def text(self) -> str:
        return self._render("text")

    def numbers(self) -> str:
        return self._render("numbers")

    def bind(self, into: dict[str, Any]) -> None:
        self.a.bind(into)
        self.b.bind(into)


class Group(Expr):
    """A term kept whole in parentheses: the 3·(3·3·C·C) of three equal layers."""

    __slots__ = ("inner",)

    def __init__(self, inner: Expr) -> None:
        self.inner, self.value = inner, inner.value

    def text(self) -> str:
        return f"({self.inner.text()})"

    def numbers(self) -> str:
        return f"({self.inner.numbers()})"

    def bind(self, into: dict[str, Any]) -> None:
        self.inner.bind(into)


class Max(Expr):
    """The larger of several terms: max(a, b)."""

    __slots__ = ("terms",)

    def __init__(self, terms: Sequence[Expr]) -> None:
        self.terms = list(terms)
        self.value = max(t.value for t in self.terms)

    def text(self) -> str:
        return "max(" + ", ".join(t.text() for t in self.terms) + ")"

    def numbers(self) -> str:
        return "max(" + ", ".join(t.numbers() for t in self.terms) + ")"

    def bind(self, into: dict[str, Any]) -> None:
        for t in self.terms:
            t.bind(into)


def lift(value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormulaError(f"a formula holds integers, not {value!r}")
    return Num(value)


def _shape(tensor_or_shape: Any) -> list[int]:
    shape = getattr(tensor_or_shape, "shape", tensor_or_shape)
    return [int(d) for d in shape]


class Counting:
    """The makers as plain arithmetic: a rule run with these is the summary's counter."""

    explaining = False

    def __call__(self, name: str, value: int) -> int:
        return int(value)

    def elements(self, name: str, tensor_or_shape: Any) -> int:
        """A tensor's elements (a shape's product); 0 for anything that is neither."""
        numel = getattr(tensor_or_shape, "numel", None)
        if numel is not None:
            return numel()
        return math.prod(_shape(tensor_or_shape)) if isinstance(tensor_or_shape, (list, tuple)) else 0

    def exact(self, a: int, b: int) -> int:
        return a // b

    def floor(self, a: int, b: int) -> int:
        return a // b

    def ceil(self, a: int, b: int) -> int:
        return -(-a // b)

    def named(self, name: str, value: int) -> int:
        return value

    def product(self, values: Iterable[int]) -> int:
        return math.prod(values)

    def total(self, values: Iterable[int]) -> int:
        return sum(values)

    def zero(self) -> int:
        return 0

    def cost(self, macs: int, flops: int) -> Any:
        return macs, flops


class Explaining(Counting):
    """The makers as expressions: a rule run with these says its formula."""

    explaining = True

    def __call__(self, name: str, value: int) -> Expr:  # type: ignore[override]
        return Sym(name, int(value))

    def elements(self, name: str, tensor_or_shape: Any) -> Expr:  # type: ignore[override]
        if not hasattr(tensor_or_shape, "shape") and not isinstance(tensor_or_shape, (list, tuple)):
            return Num(0)
        return Elements(name, _shape(tensor_or_shape))

    def exact(self, a: Any, b: Any) -> Expr:  # type: ignore[override]
        return Ratio(lift(a), lift(b), "exact")

    def floor(self, a: Any, b: Any) -> Expr:  # type: ignore[override]
        return Ratio(lift(a), lift(b), "floor")

    def ceil(self, a: Any, b: Any) -> Expr:  # type: ignore[override]
        return Ratio(lift(a), lift(b), "ceil")

    def named(self, name: str, value: Any) -> Expr:  # type: ignore[override]
        return Named(name, int(lift(value).value))

    def product(self, values: Iterable[Any]) -> Expr:  # type: ignore[override]
        return Product.of([lift(v) for v in values])

    def total(self, values: Iterable[Any]) -> Expr:  # type: ignore[override]
        terms = [lift(v) for v in values]
        return Sum.of([(1, t) for t in terms]) if len(terms) > 1 else (terms[0] if terms else Num(0))

    def zero(self) -> Expr:  # type: ignore[override]
        return Num(0)

    def cost(self, macs: Any, flops: Any) -> Any:
        return CostFormula(lift(macs), lift(flops))


class CostFormula:
    """What an explained cost rule returns: its MACs and its FLOPs, each a formula."""

    __slots__ = ("macs", "flops")

    def __init__(self, macs: Expr, flops: Expr) -> None:
        self.macs, self.flops = macs, flops


COUNT = Counting()
EXPLAIN = Explaining()
