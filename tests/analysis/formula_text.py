"""An evaluator of explain's formula text, written apart from archscope.analysis.formula.

It reads the notation a student reads (``·``, ``+``, ``−``, ``(a/b)``, ``⌊a/b⌋``, ``⌈a/b⌉``,
``max(a, b)``, ``|y|`` for a tensor's elements, ``2,904,000`` with separators) and evaluates
it with the bindings given, so a test can hold the printed text, not the expression tree
that made it, to the figure the summary counted.
"""

from __future__ import annotations

import math
import re
from typing import Any

_TOKEN = re.compile(r"\s*(?:(\d{1,3}(?:,\d{3})+(?!\d)|\d+)|(\|[^|]+\|)|(max)(?=\()|((?:[A-Za-z_σ][A-Za-z0-9_σ.:]*|\[[^\]]+\])(?: \(call \d+\))?)|(.))")


def evaluate(text: str, bindings: dict[str, Any] | None = None) -> int:
    """The integer value of ``text`` with its symbols bound to ``bindings``."""
    tokens = []
    for number, elements, maximum, name, other in _TOKEN.findall(text):
        if number:
            tokens.append(("num", int(number.replace(",", ""))))
        elif elements:
            tokens.append(("elements", elements[1:-1]))
        elif maximum:
            tokens.append(("max", None))
        elif name:
            tokens.append(("name", name))
        elif other.strip():
            tokens.append(("op", other))
    parser = _Parser(tokens, bindings or {})
    value = parser.sum()
    if parser.at < len(tokens):
        raise ValueError(f"unparsed rest of {text!r}: {tokens[parser.at:]}")
    return value


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], bindings: dict[str, Any]) -> None:
        self.tokens, self.bindings, self.at = tokens, bindings, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, Any]:
        token = self.tokens[self.at]
        if expected is not None and token != ("op", expected):
            raise ValueError(f"expected {expected!r}, found {token}")
        self.at += 1
        return token

    def sum(self) -> int:
        sign = 1
        if self.peek() == ("op", "−"):
            self.take()
            sign = -1
        value = sign * self.product()
        while self.peek() in (("op", "+"), ("op", "−")):
            op = self.take()[1]
            value = value + self.product() if op == "+" else value - self.product()
        return value

    def product(self) -> int:
        value = self.atom()
        while self.peek() == ("op", "·"):
            self.take()
            value *= self.atom()
        return value

    def atom(self) -> int:
        kind, value = self.take()
        if kind == "num":
            return value
        if kind == "elements":
            shape = self.bindings[value]
            return math.prod(shape)
        if kind == "name":
            return int(self.bindings[value])
        if kind == "max":
            self.take("(")
            items = [self.sum()]
            while self.peek() == ("op", ","):
                self.take()
                items.append(self.sum())
            self.take(")")
            return max(items)
        if value in ("(", "⌊", "⌈"):
            inner = self.sum()
            if self.peek() == ("op", "/"):
                self.take()
                den = self.sum()
                close = {"(": ")", "⌊": "⌋", "⌈": "⌉"}[value]
                self.take(close)
                if value == "(":
                    if inner % den:
                        raise ValueError(f"{inner}/{den} printed as exact")
                    return inner // den
                return inner // den if value == "⌊" else -(-inner // den)
            self.take(")")
            return inner
        if value == "(" or value == "−":
            raise ValueError("unexpected")
        raise ValueError(f"unexpected token {value!r}")
