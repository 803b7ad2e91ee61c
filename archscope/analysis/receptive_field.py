"""Receptive fields, exactly, through the network's real graph.

Each tensor the forward pass creates gets, per spatial axis, the receptive field of one of
its positions: its size r, its effective stride j and its effective padding P, relative to
the network's input (Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
Neural Networks", Distill 2019, equations 1-3 and section "Handling arbitrary graphs"):

    a window of kernel k, stride s, padding p, dilation d applied to (r, j, P) gives
    r' = r + d (k - 1) |j|,    j' = s j,    P' = P + p j  (minus (k - 1) d j when j < 0)

Output position x of a tensor then sees input positions [x j - P, x j - P + r - 1]. A flip
makes j negative (positions run backwards over the input); upsampling makes the field repeat
only every f positions, which ``Span`` keeps exactly, phase by phase.

The fields follow the data, not the module list: every ATen operator the forward runs is
seen (by the same dispatch mode that counts FLOPs), so residual additions, concatenations,
reused modules and functional calls are all handled, and the cost is one step per operator,
however many paths the graph has (CIFAR ResNet-1202 has 2^600).

Every tensor also carries an axis map (``analysis.rf_axes``): which of its dimensions hold
the batch, the channels and which spatial axis, so a permute to channels-last, a flatten of
the grid into tokens, a class token concatenated in front, or a linear layer run as a matrix
product over rows that merge batch and positions all keep the field. An operator that mixes
positions (global pooling, a linear layer over flattened positions, attention) makes every
output see the whole input; one that mixes them only within windows (Swin's window
attention) leaves a field that depends on where a position sits in its window, which is
reported as unknown with that reason.

A tensor is a list of channel ranges ("parts"), each with its own field, so a concatenation
keeps each branch's field: GoogLeNet's inception modules see several scales at once. A merge
(an addition, or a convolution over all parts) takes the union of its inputs' fields, the
largest when their centres are aligned; fields with different strides have no union that is
one window, and are reported, not guessed.

The values and their algebra are in ``analysis.rf_values``, the rule of each kind of operator
in ``analysis.rf_rules`` (helpers in ``analysis.rf_rule_helpers``, the reading of an operator
call in ``analysis.rf_call``); this module holds the tracker that follows tensors through the
forward pass.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from archscope.analysis import rf_axes as ax
from archscope.analysis.ops import OpRule
from archscope.analysis.rf_call import _Call, _tensors
from archscope.analysis.rf_rule_helpers import _located
from archscope.analysis.rf_rules import _RULES, FieldRules
from archscope.analysis.rf_values import Field, Part, Tracked, Unknown, describe

__all__ = ["FieldTracker", "describe"]  # describe is re-exported: a tracked tensor's record


# ---------------------------------------------------------------------------------------------
# The tracker


class FieldTracker(FieldRules):
    """Follows receptive fields through the operators of one forward pass."""

    def __init__(self) -> None:
        self._fields: dict[int, tuple[torch.Tensor, Tracked]] = {}
        self._issues: list[str] = []
        self.last_spatial: Tracked | None = None
        self._axes = 0
        self._lengths: tuple[int, ...] = ()  # the input's length along each spatial axis

    @property
    def issues(self) -> list[str]:
        """What could not be stated exactly: where a field was lost, and a last map whose
        positions see different windows (upsampling with no stride after it)."""
        value = self.last_spatial.value if self.last_spatial is not None else None
        if isinstance(value, Field) and not value.uniform and value.irregularity() not in self._issues:
            return [*self._issues, value.irregularity()]
        return list(self._issues)

    def seed(self, x: torch.Tensor) -> None:
        """The network's input: every position sees itself. Axes after batch and channel are spatial."""
        if x.dim() - 2 >= 1 and not self._axes:
            self._axes = x.dim() - 2
            self._lengths = tuple(x.shape[2:])
        if x.dim() - 2 >= 1 and x.dim() - 2 == self._axes:
            # Stored directly: the input itself is not a feature map (last_spatial stays None).
            parts = (Part(0, x.shape[1], Field.of_input(self._axes)),)
            self._fields[id(x)] = (x, Tracked(ax.seed_dims(x.shape), parts))

    def get(self, t: Any) -> Tracked | None:
        if not isinstance(t, torch.Tensor):
            return None
        entry = self._fields.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def _set(self, t: torch.Tensor, tracked: Tracked) -> None:
        self._fields[id(t)] = (t, tracked)  # the tensor is kept so its id is not reused
        # The last spatial map: a tensor with positions and a field, or with several positions
        # whatever they see (a ViT's tokens after attention), or any unknown (so that an
        # unaligned merge at the end is not hidden).
        value = tracked.value
        if value is None:
            return
        if isinstance(value, Unknown) or (
            _located(tracked.dims) and (isinstance(value, Field) or ax.positions(tracked.dims) > 1)
        ):
            self.last_spatial = tracked

    def _issue(self, reason: str) -> None:
        if reason not in self._issues:
            self._issues.append(reason)

    def record(self, func: Any, rule: OpRule | None, args: Sequence[Any], kwargs: dict, out: Any) -> None:
        """Give the outputs of one operator their fields, from its inputs' (its registry row's rule)."""
        kind = rule.field if rule is not None else "unknown"
        if kind == "creation":
            return
        inputs = [t for t in _tensors([*args, *kwargs.values()]) if self.get(t) is not None]
        if not inputs:
            return
        outputs = _tensors([out])
        if not outputs:
            return
        call = _Call(func, func.overloadpacket.__name__, args, kwargs, inputs, outputs)
        result = _RULES.get(kind, FieldTracker._unknown_op)(self, call)
        if not isinstance(result, list):  # one result for the first output and those shaped like it
            result = [result if tuple(t.shape) == tuple(call.out.shape) else None for t in outputs]
        for t, tracked in zip(outputs, result):
            if tracked is not None:
                self._set(t, tracked)
