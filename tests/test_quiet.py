"""On success stderr carries archscope's own lines only: fvcore's, matplotlib's and timm's housekeeping is silenced where they are called."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from archscope.quiet import library_noise_silenced

ODD_NAMES = '''
import torch.nn as nn

class Net(nn.Module):
    """A layer named in CJK and emoji: matplotlib's default font has no glyph for them."""

    def __init__(self):
        super().__init__()
        self.add_module("conv\\u4e2d\\U0001F600", nn.Conv2d(3, 8, 3))
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(getattr(self, "conv\\u4e2d\\U0001F600")(x).mean((2, 3)))

INPUT_SIZE = (3, 16, 16)
'''


def test_the_libraries_housekeeping_is_silenced_and_every_other_warning_still_shows():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with library_noise_silenced():
            warnings.warn("`torch.jit.script` is deprecated. Please switch to `torch.compile`", FutureWarning)
            warnings.warn("Glyph 20013 (\\N{CJK UNIFIED IDEOGRAPH-4E2D}) missing from font(s) DejaVu Sans.", UserWarning)
            warnings.warn("Mapping deprecated model name vit_base_resnet50_384 to current vit_base_r50", UserWarning)
            warnings.warn("your model's own warning", UserWarning)
            warnings.warn("torch.jit.script is going away in a way nobody listed", FutureWarning)
        warnings.warn("Glyph 20013 missing from font(s) DejaVu Sans.", UserWarning)  # the filter ended with the call
    assert [str(w.message) for w in seen] == [
        "your model's own warning", "torch.jit.script is going away in a way nobody listed", "Glyph 20013 missing from font(s) DejaVu Sans.",
    ]  # fmt: skip


def _stderr_of(args: list[str], cwd: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}  # Python's default filters, as a user has
    run = subprocess.run([sys.executable, "-m", "archscope", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return [line for line in run.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "args",
    [
        ["summary", "lenet5", "--counter", "fvcore"],
        ["summary", "odd.py:Net", "--plot", "layers.png"],
        ["draw", "odd.py:Net", "-o", "net.png"],
        ["summary", "timm:vit_base_resnet50_384", "-i", "3x384x384", "--depth", "1"],
    ],
    ids=["fvcore", "plot-glyphs", "draw-glyphs", "timm-deprecated-name"],
)
def test_a_successful_command_writes_only_archscopes_own_lines_to_stderr(args, tmp_path):
    if args[1].startswith("timm:"):
        pytest.importorskip("timm")
    (tmp_path / "odd.py").write_text(ODD_NAMES)
    lines = _stderr_of(args, tmp_path)
    assert all(line.startswith("wrote ") for line in lines), lines
