"""fvcore's count of the same network, for users who want its per-operator view.

fvcore traces a real forward pass (torch.jit.trace), so this allocates the weights and runs
the network on the CPU: it is the independent check on archscope's meta-device count, not
the default. fvcore's unit is one fused multiply-add, i.e. archscope's MACs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Sequence

import torch
import torch.nn as nn

from archscope.errors import ArchscopeError
from archscope.quiet import library_noise_silenced

# fvcore's operator names for convolutions, linear layers and matrix products: the part of
# its count that is comparable with archscope's MACs.
MAC_OPERATORS = frozenset({"conv", "linear", "addmm", "matmul", "mm", "bmm", "einsum"})


@dataclass
class FvcoreCount:
    by_operator: dict[str, int]
    unsupported: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_operator.values())

    @property
    def macs(self) -> int:
        """Convolution, linear and matmul multiply-adds: comparable with ``Totals.macs``."""
        return sum(n for op, n in self.by_operator.items() if op in MAC_OPERATORS)

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "macs": self.macs,
            "by_operator": dict(self.by_operator),
            "unsupported": dict(self.unsupported),
        }


def fvcore_count(model: nn.Module, input_shape: Sequence[int]) -> FvcoreCount:
    """Count ``model`` (real weights, on the CPU) with fvcore on a zero input of ``input_shape``."""
    with library_noise_silenced():
        from fvcore.nn import FlopCountAnalysis  # imported here: fvcore is slow to import

    was_training = model.training
    model.eval()
    try:
        x = torch.zeros(tuple(input_shape))
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        # jit tracing logs warnings about e.g. tensor-to-bool conversions; they are noise here.
        logging.getLogger("fvcore").setLevel(logging.ERROR)
        try:
            with torch.no_grad(), library_noise_silenced():
                by_operator = dict(analysis.by_operator())
                unsupported = dict(analysis.unsupported_ops())
        except RuntimeError as error:  # torch.jit.trace refused the model (a generator output, say)
            raise ArchscopeError(_trace_failure(error)) from error
    finally:
        model.train(was_training)
    return FvcoreCount(by_operator=by_operator, unsupported=unsupported)


def _trace_failure(error: BaseException) -> str:
    """One line for a model fvcore's tracer (torch.jit.trace) cannot follow."""
    text = str(error).strip()
    kind = re.search(r"received an? (?:input|output) of unsupported type: (\w+)", text)
    if kind:
        return (
            f"--counter fvcore cannot count this model: fvcore traces it with torch.jit.trace, which takes a forward "
            f"returning tensors, tuples, lists or dicts, and this one returned a {kind.group(1)}"
        )
    first = text.splitlines()[0] if text else type(error).__name__
    return f"--counter fvcore cannot count this model: torch.jit.trace, which fvcore uses, failed: {first}"
