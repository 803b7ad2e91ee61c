"""The package's surface: every public name imports, and importing it is light."""

import subprocess
import sys

import pytest

import archscope


def test_every_public_name_is_there():
    for name in archscope.__all__:
        assert getattr(archscope, name) is not None, name


def test_importing_archscope_and_its_cli_does_not_import_torch():
    """So `archscope --help` and `--version` answer at once (issue: 3.5 s when they imported torch)."""
    code = "import sys, archscope, archscope.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_help_and_version_run_without_torch():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from archscope.cli import app\n"
        "runner = CliRunner()\n"
        "assert runner.invoke(app, ['--help']).exit_code == 0\n"
        "assert runner.invoke(app, ['--version']).exit_code == 0\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: archscope.create_model("lenet5", device="tpu"), archscope.ArchscopeError, "unknown device 'tpu'"),
        (lambda: archscope.create_model("lenet5", device=3.5), TypeError, "device must be a string"),
        (lambda: archscope.create_model(5), TypeError, "takes a zoo name"),
        (lambda: archscope.list_models(5), TypeError, "takes a pattern"),
    ],
)
def test_the_package_functions_refuse_wrong_arguments_with_their_own_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_create_model_builds_on_the_devices_it_names():
    import torch

    assert next(archscope.create_model("lenet5", device="meta").parameters()).is_meta
    assert next(archscope.create_model("lenet5", device=torch.device("cpu")).parameters()).device.type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(archscope.ArchscopeError, match="CUDA is not available"):
            archscope.create_model("lenet5", device="cuda")
