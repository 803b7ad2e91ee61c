"""Models with odd names and odd outputs, and allocations that cannot succeed: each works, or is one line and exit 2.

Issue 19's last internal errors: module names that are not Python identifiers in the commands
that look layers up by name (profile, draw --weight time, summary --counter fvcore), a forward
that returns a dict or a generator under fvcore, and profile at a batch the machine cannot hold.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from archscope.cli import app

MODELS = '''
import torch
import torch.nn as nn

ODD = "<script>x\\u4e2d y"


class OddName(nn.Module):
    def __init__(self):
        super().__init__()
        self.add_module(ODD, nn.Conv2d(3, 8, 3))
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(getattr(self, ODD)(x).mean((2, 3)))


class DottedName(nn.Module):
    """A '.' in a module's own name: add_module refuses it, _modules does not."""

    def __init__(self):
        super().__init__()
        self._modules["a.b"] = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return self._modules["a.b"](x)


class DictOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        y = self.conv(x)
        return {"features": y, "pooled": y.mean((2, 3))}


class GeneratorOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return (t for t in [self.conv(x)])


class TooBigAbove4(nn.Module):
    """Raises what PyTorch's CPU allocator raises for a real batch above 4 (the meta analysis passes)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        if not x.is_meta and x.shape[0] > 4:
            raise RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 13153337344 bytes.")
        return self.conv(x)


INPUT_SIZE = (3, 16, 16)
'''

FAST = ["--min-time", "0.02", "--warmup", "1"]


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models.py").write_text(MODELS)
    return "models.py"


def run(*args):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120"})


def one_line(result, *words):
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert len(text.splitlines()) == 1 and text.startswith("error: ") and "internal error" not in text, text
    for word in words:
        assert word in text, text


@pytest.mark.parametrize(
    "args",
    [["profile", "models.py:OddName", *FAST], ["draw", "models.py:OddName", "--weight", "time", "-o", "net.svg"],
     ["summary", "models.py:OddName", "--counter", "fvcore"]],
    ids=["profile", "draw-weight-time", "fvcore"],
)  # fmt: skip
def test_a_name_that_is_no_python_identifier_is_looked_up_as_it_is(models, args):
    result = run(*args)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "args",
    [["profile", "models.py:DottedName", *FAST], ["draw", "models.py:DottedName", "--weight", "time", "-o", "net.svg"],
     ["summary", "models.py:DottedName", "--counter", "fvcore"]],
    ids=["profile", "draw-weight-time", "fvcore"],
)  # fmt: skip
def test_a_dot_in_a_modules_own_name_is_one_line_naming_it(models, args):
    one_line(run(*args), "'a.b'", "rename it")


def test_fvcore_takes_a_dict_output_and_refuses_a_generator_in_one_line(models):
    assert run("summary", "models.py:DictOut", "--counter", "fvcore").exit_code == 0
    one_line(run("summary", "models.py:GeneratorOut", "--counter", "fvcore"), "fvcore", "generator")


def test_profile_at_a_batch_the_machine_cannot_hold_says_how_much_and_what_may_fit(models):
    one_line(run("profile", "models.py:TooBigAbove4", "-b", "1024", *FAST),
             "out of memory at batch 1,024 on cpu", "an allocation of 12.2 GiB failed", "try batch")  # fmt: skip
