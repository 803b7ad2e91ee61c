"""archscope.output: what every writer does with the path it is given.

Nothing the user has is lost: a regular file is replaced atomically or not at all, streams
are written to, links are followed, and read-only files, directories and the model's own
source are refused. The device node lives in a temporary directory, never in the machine's /dev.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archscope.output as output
from archscope.errors import ArchscopeError
from archscope.output import check_output, partial_path, write_output

OLD = "the user's precious content\n"


def leftovers(directory: Path) -> list[str]:
    """Temporary files a write left behind."""
    return sorted(p.name for p in directory.rglob(".as-*"))


def make_null_device(path: Path) -> bool:
    """A character device like /dev/null (1, 3) at ``path``; False where this user may not make one."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        return True
    except (PermissionError, AttributeError, OSError):
        return False


def test_a_new_file_gets_the_data_and_the_usual_mode(tmp_path):
    target = tmp_path / "out.json"
    write_output(target, '{"a": 1}\n')
    assert target.read_text() == '{"a": 1}\n'
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert leftovers(tmp_path) == []


def test_an_existing_file_is_replaced_and_keeps_its_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text(OLD)
    target.chmod(0o640)
    write_output(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_the_old_owner_and_group_are_kept(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    target = tmp_path / "theirs.txt"
    target.write_text(OLD)
    os.chown(target, 12345, 23456)
    write_output(target, "new")
    assert (target.stat().st_uid, target.stat().st_gid) == (12345, 23456) and target.read_text() == "new"


def test_the_data_is_flushed_to_disk_before_the_rename(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("rename"), real_replace(a, b))[1])
    target = tmp_path / "out.txt"
    target.write_text(OLD)
    write_output(target, "new")
    assert events[:2] == ["fsync", "rename"]


@pytest.mark.parametrize("failing", ["_write_all", "fsync", "replace"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_an_interrupted_or_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, failing, error):
    target = tmp_path / "full.json"
    target.write_text(OLD)

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(output if failing == "_write_all" else os, failing, broken)
    with pytest.raises((KeyboardInterrupt, ArchscopeError)):
        write_output(target, "partial")
    assert target.read_text() == OLD
    assert leftovers(tmp_path) == []


def test_a_long_name_is_written_because_the_temporary_name_is_short(tmp_path):
    target = tmp_path / ("x" * 254)
    write_output(target, "data")
    assert target.read_text() == "data" and leftovers(tmp_path) == []


def test_a_name_longer_than_the_file_system_allows_is_one_clear_error(tmp_path):
    with pytest.raises(ArchscopeError, match="File name too long|bytes long"):
        write_output(tmp_path / ("x" * 256), "data")


def test_dash_is_standard_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    target = write_output("-", "to stdout\n")
    assert target.kind == "stdout" and capsys.readouterr().out == "to stdout\n"
    assert list(tmp_path.iterdir()) == [], "no file named '-'"


@pytest.mark.parametrize("name", ["newdir/", "newdir"])
def test_a_directory_is_refused(tmp_path, name):
    (tmp_path / "newdir").mkdir()
    with pytest.raises(ArchscopeError, match="directory"):
        write_output(f"{tmp_path}/{name}", "data")
    assert list((tmp_path / "newdir").iterdir()) == []


def test_a_trailing_slash_is_refused_even_where_no_directory_exists(tmp_path):
    with pytest.raises(ArchscopeError, match="ends in '/'"):
        write_output(f"{tmp_path}/newdir/", "data")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(ArchscopeError, match="there is no directory"):
        write_output(tmp_path / "no" / "such" / "out.txt", "data")


def test_a_read_only_file_is_refused_as_the_shell_refuses_it(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text(OLD)
    target.chmod(0o444)
    with pytest.raises(ArchscopeError, match="read-only"):
        write_output(target, "new")
    assert target.read_text() == OLD and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_a_symbolic_link_is_written_through_to_its_target(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text(OLD)
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    write_output(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_device_node_is_written_to_not_replaced(tmp_path):
    device = tmp_path / "null"
    if not make_null_device(device):
        pytest.skip("this user may not create device nodes")
    target = write_output(device, "into the void")
    assert target.kind == "stream" and stat.S_ISCHR(device.stat().st_mode)
    assert leftovers(tmp_path) == []


def test_a_fifo_is_written_to_and_its_reader_gets_everything(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    ready = threading.Event()

    def reader() -> None:
        with open(fifo, "rb") as stream:  # opening blocks until archscope opens the other end
            ready.set()
            received.append(stream.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    # The reader blocks in open(); writing succeeds once it is there, and is refused before.
    for _ in range(200):
        try:
            write_output(fifo, "x" * 200_000)
            break
        except ArchscopeError as error:
            assert "nothing is reading it" in str(error)
            ready.wait(0.01)
    thread.join(10)
    assert received == [b"x" * 200_000] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_fifo_nobody_reads_is_refused_instead_of_waiting_forever(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ArchscopeError, match="nothing is reading it"):
        write_output(fifo, "data")


def test_the_models_own_file_is_never_an_output(tmp_path, monkeypatch):
    model = tmp_path / "net.py"
    model.write_text("import torch\n")
    (tmp_path / "alias.py").symlink_to("net.py")
    monkeypatch.chdir(tmp_path)
    for path in ("net.py", "./net.py", str(model), "alias.py", f"{tmp_path}/sub/../net.py"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(ArchscopeError, match="the file the model was loaded from"):
            write_output(path, "table", protect=[Path("net.py")])
    assert model.read_text() == "import torch\n"


def test_no_existing_python_source_or_notebook_is_ever_overwritten(tmp_path):
    """Not the model's file, not imported: still the user's code, and no output is Python."""
    for name in ("train.py", "Tool.PY", "stubs.pyi", "run.pyw", "analysis.ipynb"):
        source = tmp_path / name
        source.write_text("print('mine')\n")
        with pytest.raises(ArchscopeError, match="it is Python source"):
            write_output(source, "table")
        assert source.read_text() == "print('mine')\n"
    (tmp_path / "out.txt").symlink_to("train.py")  # a link is followed: its target is what would be written
    with pytest.raises(ArchscopeError, match="it is Python source"):
        write_output(tmp_path / "out.txt", "table")
    write_output(tmp_path / "new.py", "table")  # a new file of that name loses nothing
    assert (tmp_path / "new.py").read_text() == "table"


def test_a_picture_must_be_named_for_its_format(tmp_path):
    with pytest.raises(ArchscopeError, match=r"must be named \*\.png"):
        write_output(tmp_path / "net.py", b"\x89PNG", suffixes=(".png",), what="the --plot picture")
    write_output(tmp_path / "chart.PNG", b"\x89PNG", suffixes=(".png",))
    assert (tmp_path / "chart.PNG").read_bytes() == b"\x89PNG"


def test_check_output_writes_nothing(tmp_path):
    target = tmp_path / "out.txt"
    assert check_output(target).kind == "new" and not target.exists()


def test_partial_results_get_a_name_no_file_has(tmp_path):
    (tmp_path / "bench.json").write_text(OLD)
    (tmp_path / "bench.partial.json").write_text(OLD)
    assert partial_path(tmp_path / "bench.json") == tmp_path / "bench.partial-2.json"
    assert partial_path(tmp_path / "bench") == tmp_path / "bench.partial"


# ---------------------------------------------------------------- random paths of every kind

KINDS = [
    "regular", "read-only", "link-to-regular", "link-to-read-only", "dangling-link", "fifo", "device",
    "directory", "directory/", "missing-parent/out", "new.txt", "long-254", "long-256", "model", "link-to-model",
    "hard-link", "-", "new.png", "new.html",
]  # fmt: skip


def sandbox(root: Path) -> dict[str, str]:
    """A directory with one file of every kind; returns the path to write for each kind."""
    (root / "regular").write_text("regular\n")
    (root / "read-only").write_text("read-only\n")
    (root / "read-only").chmod(0o444)
    (root / "link-to-regular").symlink_to("regular")
    (root / "link-to-read-only").symlink_to("read-only")
    (root / "dangling-link").symlink_to("nowhere")
    os.mkfifo(root / "fifo")
    make_null_device(root / "device")
    (root / "directory").mkdir()
    (root / "net.py").write_text("import torch\n")
    (root / "link-to-model").symlink_to("net.py")
    (root / "hard-link").write_text("shared\n")
    os.link(root / "hard-link", root / "other-name")
    paths = {kind: str(root / kind) for kind in KINDS}
    paths.update({"directory/": f"{root}/directory/", "long-254": str(root / ("y" * 254)),
                  "long-256": str(root / ("z" * 256)), "model": str(root / "net.py"), "-": "-"})  # fmt: skip
    return paths


def snapshot(root: Path) -> dict[str, tuple[str, bytes | None]]:
    """Every entry's kind and, for regular files, content."""
    state = {}
    for path in root.rglob("*"):
        mode = path.lstat().st_mode
        kind = "link" if stat.S_ISLNK(mode) else "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else oct(stat.S_IFMT(mode))
        state[str(path.relative_to(root))] = (kind, path.read_bytes() if kind == "file" else None)
    return state


def check_nothing_was_lost(
    root: Path, before: dict, written: str | None, data: bytes, kept: tuple[str, ...] = ("read-only", "net.py")
) -> None:
    """No entry changed kind, none disappeared, no temporary is left; only ``written`` got ``data``;
    the ``kept`` files (read-only, the model's own) are refused whatever path leads to them."""
    after = snapshot(root)
    assert leftovers(root) == []
    for name in kept:
        assert after[name] == before[name], f"{name} was written"
    for name, (kind, content) in before.items():
        assert name in after, f"{name} disappeared"
        assert after[name][0] == kind, f"{name} was a {kind}, is now a {after[name][0]}"
        if content is not None and after[name][1] != content:
            assert written is not None and Path(root / name).resolve() == Path(written).resolve(), f"{name} changed"
            assert after[name][1] == data
    for name in set(after) - set(before):
        assert written is not None and (root / name).resolve() == Path(written).resolve(), f"unexpected {name}"


@settings(
    max_examples=int(os.environ.get("ARCHSCOPE_MAX_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(KINDS),
    data=st.one_of(st.text(max_size=50), st.binary(max_size=50)),
    picture=st.booleans(),
    interrupt=st.sampled_from([None, "_write_all", "fsync", "replace"]),
)
def test_random_paths_never_lose_a_file_or_leave_a_temporary(tmp_path_factory, kind, data, picture, interrupt):
    root = tmp_path_factory.mktemp("paths")
    paths = sandbox(root)
    before = snapshot(root)
    payload = data.encode() if isinstance(data, str) else data
    saved = {"_write_all": output._write_all, "fsync": os.fsync, "replace": os.replace}

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    if interrupt:
        setattr(output if interrupt == "_write_all" else os, interrupt, broken)
    try:
        target = write_output(paths[kind], data, protect=[root / "net.py"], suffixes=(".png",) if picture else ())
        written = str(target.path) if target.path is not None and target.kind != "stream" else None
    except (ArchscopeError, KeyboardInterrupt):
        written = None
    finally:
        output._write_all, os.fsync, os.replace = saved["_write_all"], saved["fsync"], saved["replace"]
    check_nothing_was_lost(root, before, written, payload)


# ---------------------------------------------------------------- real file systems (issue 18)

from tests.filesystems import fill, immutable, read_only_bind, small_tmpfs  # noqa: E402


def test_a_file_on_a_full_file_system_is_refused_whole_never_truncated():
    with small_tmpfs(64) as disk:
        target = disk / "f.json"
        target.write_text(OLD)
        fill(disk)
        with pytest.raises(ArchscopeError, match="file system is full.*cannot be replaced whole"):
            check_output(target)  # before any work
        with pytest.raises(ArchscopeError, match="file system is full"):
            write_output(target, "{}" * 4000)
        assert target.read_text() == OLD and leftovers(disk) == []


def test_a_disk_that_fills_during_the_write_keeps_the_old_file_and_no_temporary():
    with small_tmpfs(64) as disk:
        target = disk / "f.json"
        target.write_text(OLD)
        fill(disk, leave_bytes=8192)  # room for the check's byte, not for the data
        with pytest.raises(ArchscopeError, match="No space left on device"):
            write_output(target, "x" * 200_000)
        assert target.read_text() == OLD and leftovers(disk) == []


def test_a_new_file_on_a_full_file_system_is_refused_before_any_work():
    with small_tmpfs(64) as disk:
        fill(disk)
        with pytest.raises(ArchscopeError, match=r"file system is full \(No space left on device\), so no file can be made there"):
            check_output(disk / "bench.json")


def test_a_writable_file_in_an_immutable_directory_is_refused_not_written_in_place(tmp_path):
    target = tmp_path / "f.json"
    target.write_text(OLD)
    with immutable(tmp_path):
        with pytest.raises(ArchscopeError, match=r"directory is immutable \(chattr \+i\).*writing it in place could lose it"):
            write_output(target, "new")
        assert target.read_text() == OLD
    assert leftovers(tmp_path) == []


def test_an_immutable_file_is_called_immutable_not_read_only(tmp_path):
    target = tmp_path / "f.json"
    target.write_text(OLD)
    target.chmod(0o644)
    with immutable(target):
        with pytest.raises(ArchscopeError) as refused:
            write_output(target, "new")
        assert "immutable (chattr +i)" in str(refused.value) and "read-only" not in str(refused.value)
        assert target.read_text() == OLD


def test_a_read_only_file_system_is_named(tmp_path):
    (tmp_path / "old.json").write_text(OLD)
    with read_only_bind(tmp_path):
        with pytest.raises(ArchscopeError, match="on a read-only file system"):
            write_output(tmp_path / "old.json", "new")
        with pytest.raises(ArchscopeError, match="read-only file system, so no file can be made there"):
            write_output(tmp_path / "new.json", "new")
    assert (tmp_path / "old.json").read_text() == OLD and not (tmp_path / "new.json").exists()


def test_somebody_elses_file_is_refused_rather_than_made_ours_or_written_in_place():
    """As an ordinary user (nobody) writing a file of another user's that the mode lets anyone write."""
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("needs root to make a file of another user and to act as nobody")
    folder = Path(tempfile.mkdtemp(prefix="archscope-shared-"))
    try:
        folder.chmod(0o1777)
        target = folder / "shared.json"
        target.write_text(OLD)
        target.chmod(0o666)
        os.chown(target, 4321, 4321)
        os.setegid(65534)
        os.seteuid(65534)
        try:
            with pytest.raises(ArchscopeError, match=r"belongs to another user \(uid 4321"):
                write_output(target, "new")
        finally:
            os.seteuid(0)
            os.setegid(0)
        assert target.read_text() == OLD and target.stat().st_uid == 4321 and leftovers(folder) == []
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_during_the_write_leaves_no_temporary_and_the_old_file(tmp_path, signal_name):
    """The signal arrives in the middle of writing the temporary; the process still ends by it."""
    import signal as signals
    import subprocess
    import sys

    target = tmp_path / "f.json"
    target.write_text(OLD)
    script = (
        "import os, signal, sys\n"
        "import archscope.output as output\n"
        "real = output._write_all\n"
        "def write_then_signal(fd, payload):\n"
        "    real(fd, payload[:10])\n"
        f"    os.kill(os.getpid(), signal.{signal_name})\n"
        "    real(fd, payload[10:])\n"
        "output._write_all = write_then_signal\n"
        "output.write_output(sys.argv[1], 'new content ' * 1000)\n"
        "print('not ended')\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(output.__file__).parents[1])})  # fmt: skip
    assert done.returncode == -getattr(signals, signal_name), (done.returncode, done.stdout, done.stderr)
    assert "not ended" not in done.stdout
    assert target.read_text() == OLD and leftovers(tmp_path) == []


def test_a_fifo_whose_reader_stops_reading_is_given_up_on(tmp_path, monkeypatch):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, never read
    monkeypatch.setattr(output, "STREAM_TIMEOUT_S", 0.2)
    try:
        with pytest.raises(ArchscopeError, match=r"its reader has taken nothing for 0.2 s \(65,536 of 1,000,000 bytes"):
            write_output(fifo, b"x" * 1_000_000)
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_fifo_whose_reader_reads_slowly_gets_everything(tmp_path, monkeypatch):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = bytearray()
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)

    def read_all():
        import select
        import time

        while True:
            select.select([reader], [], [], 1.0)
            try:
                chunk = os.read(reader, 4096)
            except BlockingIOError:
                continue
            if not chunk:
                return
            got.extend(chunk)
            time.sleep(0.001)

    thread = threading.Thread(target=read_all)
    thread.start()
    write_output(fifo, b"y" * 300_000)
    thread.join(10)
    os.close(reader)
    assert bytes(got) == b"y" * 300_000


def test_standard_output_by_its_other_names_is_standard_output(capsys):
    for name in output.STDOUT_ALIASES:
        assert check_output(name).kind == "stdout"
        write_output(name, f"to {name}\n")
    assert capsys.readouterr().out == "".join(f"to {n}\n" for n in output.STDOUT_ALIASES)


def test_the_source_of_any_imported_module_is_never_an_output(tmp_path, monkeypatch):
    (tmp_path / "helper_mod.py").write_text("X = 1\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("Y = 2\n")
    (tmp_path / "link.json").symlink_to("helper_mod.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    importlib.import_module("helper_mod")
    importlib.import_module("pkg")
    try:
        for name, module in (("helper_mod.py", "helper_mod"), ("pkg/__init__.py", "pkg"), ("link.json", "helper_mod")):
            with pytest.raises(ArchscopeError, match=f"source of the Python module '{module}'"):
                write_output(tmp_path / name, "overwritten")
        assert (tmp_path / "helper_mod.py").read_text() == "X = 1\n"
        assert (tmp_path / "pkg" / "__init__.py").read_text() == "Y = 2\n"
    finally:
        import sys

        sys.modules.pop("helper_mod", None)
        sys.modules.pop("pkg", None)
