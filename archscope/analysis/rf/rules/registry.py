"""The receptive-field rules by name: what an operator's registry row (``analysis.ops``) names.

A rule is a plain function ``rule(tracker, call)`` registered with ``@field_rule("name")``:
it reads its inputs' fields from the tracker (``tracker.get``) and returns its output's
``Tracked`` (for the first output and any shaped like it), a list with one entry per output
(``None`` for an output it says nothing about), or ``None``. ``register_op`` refuses a row
whose field rule is not registered here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Union

if TYPE_CHECKING:
    from archscope.analysis.rf.call import Call
    from archscope.analysis.rf.tracker import FieldTracker
    from archscope.analysis.rf.values import Tracked

RuleResult = Union["Tracked", "list[Tracked | None]", None]
FieldRuleFunction = Callable[["FieldTracker", "Call"], RuleResult]

FIELD_RULES: dict[str, FieldRuleFunction] = {}


def field_rule(*names: str) -> Callable[[FieldRuleFunction], FieldRuleFunction]:
    """Register the decorated function as the field rule of each of ``names``.

    Its docstring says what it does; a name registered twice is an error, so two rules
    cannot silently disagree.
    """

    def register(rule: FieldRuleFunction) -> FieldRuleFunction:
        for name in names:
            if name in FIELD_RULES:
                raise ValueError(f"the field rule {name!r} is already registered")
            FIELD_RULES[name] = rule
        return rule

    return register


def field_rule_names() -> list[str]:
    """Every registered rule's name, sorted (for messages and documentation)."""
    return sorted(FIELD_RULES)
