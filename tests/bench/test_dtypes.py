"""One list of the dtypes bench and profile run in, read by the core and by --dtype; the input dtypes are another fact."""

import subprocess
import sys

import pytest
import torch

from archscope.analysis.input_size import INPUT_DTYPES
from archscope.bench.dtypes import RUN_DTYPES, run_dtype
from archscope.cli.options import DType
from archscope.errors import ArchscopeError


def test_the_command_lines_choices_are_the_cores_list():
    assert [d.value for d in DType] == list(RUN_DTYPES) == ["float32", "float16", "bfloat16"]


def test_each_name_is_torchs_dtype_and_any_other_is_one_clear_error():
    assert [run_dtype(name) for name in RUN_DTYPES] == [torch.float32, torch.float16, torch.bfloat16]
    with pytest.raises(ArchscopeError, match="unknown dtype 'float64'; choose one of float32, float16, bfloat16"):
        run_dtype("float64")


def test_input_dtypes_are_what_an_input_tensor_may_be_and_include_tokens():
    assert set(RUN_DTYPES) < set(INPUT_DTYPES) and "int64" in INPUT_DTYPES


def test_the_list_is_read_without_importing_torch():
    code = "import sys, archscope.bench.dtypes, archscope.cli.options; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
