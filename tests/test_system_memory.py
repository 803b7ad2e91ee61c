"""/proc's memory figures, read as bytes, and unknown (None) where the system does not say."""

import sys

import pytest

import archscope.system_memory as system_memory


def test_kilobyte_lines_become_bytes_and_other_lines_are_skipped(tmp_path):
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nVmSize:\t  123456 kB\nThreads:\t4\n")
    assert system_memory.proc_sizes(str(status)) == {"VmSize": 123456 * 1024, "Threads": 4}


def test_available_memory_is_memavailable_and_none_without_the_file(monkeypatch, tmp_path):
    info = tmp_path / "meminfo"
    info.write_text("MemTotal:       25165824 kB\nMemAvailable:    8388608 kB\n")
    monkeypatch.setattr(system_memory, "MEMINFO", str(info))
    assert system_memory.available_memory() == 8 * 2**30
    monkeypatch.setattr(system_memory, "MEMINFO", str(tmp_path / "missing"))
    assert system_memory.available_memory() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/status is Linux's")
def test_this_process_has_a_size_on_linux():
    assert system_memory.address_space() > 10 * 2**20  # a Python process maps tens of MiB at least
