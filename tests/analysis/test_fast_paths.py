"""The two shortcuts the meta-device analysis takes, each held to what PyTorch itself does."""

import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

from archscope.analysis.compat import batch_norm_on_meta


class Capture(TorchDispatchMode):
    """Records what PyTorch's own meta kernel returns for native_batch_norm."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.ops.aten.native_batch_norm.default:
            self.calls.append((args, out))
        return out


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_outputs_match_pytorchs_meta_kernel(training, dtype, channels_last, affine):
    bn = nn.BatchNorm2d(6, affine=affine, device="meta", dtype=dtype).train(training)
    x = torch.empty(2, 6, 5, 7, device="meta", dtype=dtype)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    capture = Capture()
    with capture:
        bn(x)
    (args, theirs), = capture.calls
    ours = batch_norm_on_meta(*args)
    assert [(t.shape, t.dtype, t.stride()) for t in ours] == [(t.shape, t.dtype, t.stride()) for t in theirs]


def test_batch_norm_with_the_wrong_channel_count_still_fails():
    with pytest.raises(RuntimeError, match="expected 6 channels"):
        batch_norm_on_meta(torch.empty(2, 4, 3, 3, device="meta"), torch.empty(6, device="meta"), None, None)


@pytest.mark.slow  # torch.compile in a fresh process: half a minute
def test_an_analysis_leaves_torch_compile_working_in_the_same_process():
    """Analysing without importing torch._dynamo must not change what torch.compile does next."""
    script = textwrap.dedent(
        """
        import sys, torch, archscope
        archscope.summarize("resnet18")
        assert "torch._dynamo" not in sys.modules, "the analysis imported torch._dynamo"
        report = archscope.benchmark("lenet5", compile=True, min_time=0.05, warmup=1, calibrate=False)
        assert report.results[0].error is None, report.results[0].error
        assert type(sys.modules["torch._dynamo"]).__name__ == "module"
        x = torch.empty(2, 3, device="meta")
        assert (x + x).shape == (2, 3)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


@pytest.mark.slow  # three test files again, in a subprocess
def test_the_core_checks_pass_with_every_fast_path_switched_off(tmp_path):
    """ARCHSCOPE_NO_FAST_PATHS=1 runs PyTorch's plain paths only: the counts must not change."""
    import os
    from pathlib import Path

    here = Path(__file__).parent
    env = {**os.environ, "ARCHSCOPE_NO_FAST_PATHS": "1"}
    checks = [str(here / name) for name in ("test_counting.py", "test_any_model.py", "test_summary.py")]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *checks],
        capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_switch_turns_each_fast_path_off(monkeypatch):
    from archscope.analysis import compat

    monkeypatch.setenv(compat.FAST_PATHS_ENV, "1")
    assert not compat.fast_paths_enabled()
    x = torch.empty(2, 6, 5, 5, device="meta")
    calls = []
    monkeypatch.setattr(compat, "batch_norm_on_meta", lambda *a: calls.append(a))
    compat.run_operator(compat.NATIVE_BATCH_NORM, (x, None, None, torch.empty(6, device="meta"), torch.empty(6, device="meta"), False, 0.1, 1e-5), {})
    assert calls == []  # PyTorch's own kernel ran
