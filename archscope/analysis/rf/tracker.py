"""The tracker: follows receptive fields through the operators of one forward pass.

The summary's dispatch mode (``analysis.summary``) hands it every operator call with the
operator's registry row; the tracker applies the field rule the row names (``rf.rules``) and
keeps each output tensor's field (``values.Tracked``), so a module's output can be described
(``values.describe``) and the last spatial map found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import torch

from archscope.analysis.rf import axes as ax
from archscope.analysis.rf.call import Call, tensors
from archscope.analysis.rf.rules import FIELD_RULES
from archscope.analysis.rf.rules.common import located, unknown
from archscope.analysis.rf.values import Field, Part, Tracked, Unknown

if TYPE_CHECKING:
    from archscope.analysis.ops import OpRule


class FieldTracker:
    """Follows receptive fields through the operators of one forward pass.

    What the rules read and write: ``get`` (a tensor's tracked field), ``reasons`` and
    ``issue`` (what could not be stated exactly, in the order found), ``axes`` and ``lengths``
    (the input's spatial axes and their lengths).
    """

    def __init__(self) -> None:
        self._fields: dict[int, tuple[torch.Tensor, Tracked]] = {}
        self.reasons: list[str] = []
        self.last_spatial: Tracked | None = None
        self.last_spatial_tensor: torch.Tensor | None = None  # the last spatial map itself
        self.last_spatial_op = ""  # the operator that made it ("aten::convolution")
        self.axes = 0
        self.lengths: tuple[int, ...] = ()  # the input's length along each spatial axis

    @property
    def issues(self) -> list[str]:
        """What could not be stated exactly: where a field was lost, and why."""
        return list(self.reasons)

    def seed(self, x: torch.Tensor) -> None:
        """The network's input: every position sees itself. Axes after batch and channel are spatial."""
        if x.dim() - 2 >= 1 and not self.axes:
            self.axes = x.dim() - 2
            self.lengths = tuple(x.shape[2:])
        if x.dim() - 2 >= 1 and x.dim() - 2 == self.axes:
            # Stored directly: the input itself is not a feature map (last_spatial stays None).
            parts = (Part(0, x.shape[1], Field.of_input(self.axes)),)
            self._fields[id(x)] = (x, Tracked(ax.seed_dims(x.shape), parts))

    def get(self, t: Any) -> Tracked | None:
        """What is known about tensor ``t``'s field, or None (not a tensor, or no field)."""
        if not isinstance(t, torch.Tensor):
            return None
        entry = self._fields.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def issue(self, reason: str) -> None:
        """Note what could not be stated exactly (once)."""
        if reason not in self.reasons:
            self.reasons.append(reason)

    def put(self, t: torch.Tensor, tracked: Tracked, op: str) -> None:
        """Give ``t`` its field: an operator's output, or a tensor an operator wrote into (``rules.elementwise.copy``)."""
        self._fields[id(t)] = (t, tracked)  # the tensor is kept so its id is not reused
        # The last spatial map: a tensor with positions and a field, or with several positions
        # whatever they see (a ViT's tokens after attention), or any unknown (so that an
        # unaligned merge at the end is not hidden).
        value = tracked.value
        if value is None:
            return
        if isinstance(value, Unknown) or (
            located(tracked.dims) and (isinstance(value, Field) or ax.positions(tracked.dims) > 1)
        ):
            self.last_spatial, self.last_spatial_tensor, self.last_spatial_op = tracked, t, op

    def record(self, func: Any, rule: OpRule | None, args: Sequence[Any], kwargs: dict, out: Any) -> None:
        """Give the outputs of one operator their fields, from its inputs' (its registry row's rule)."""
        inputs = [t for t in tensors([*args, *kwargs.values()]) if self.get(t) is not None]
        if not inputs:
            return
        outputs = tensors([out])
        if not outputs:
            return
        call = Call(func, func.overloadpacket.__name__, args, kwargs, inputs, outputs)
        apply = FIELD_RULES.get(rule.field, unknown) if rule is not None else unknown
        result = apply(self, call)
        if not isinstance(result, list):  # one result for the first output and those shaped like it
            result = [result if tuple(t.shape) == tuple(call.out.shape) else None for t in outputs]
        op = f"{getattr(func, 'namespace', 'aten')}::{call.name}"
        for t, tracked in zip(outputs, result):
            if tracked is not None:
                self.put(t, tracked, op)
