"""files.write_atomic: whole or not at all, through links, never onto a folder."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_mini.files import write_atomic


def test_writes_and_replaces_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    write_atomic(path, "one\n")
    write_atomic(str(path), "two\n")
    assert path.read_text() == "two\n"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path,
                                                              monkeypatch) -> None:
    path = tmp_path / "a.txt"
    write_atomic(path, "old\n")

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, "new\n")
    monkeypatch.undo()
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_atomic(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert sorted(os.listdir(tmp_path)) == ["link.txt", "target.txt"]


@pytest.mark.parametrize("name", ["folder", "folder/", "missing/"])
def test_a_folder_is_refused_before_writing(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder, not a file name"):
        write_atomic(f"{tmp_path}/{name}", "text\n")
    assert sorted(os.listdir(tmp_path)) == ["folder"]
    assert os.listdir(tmp_path / "folder") == []


def forbid_replacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make renaming fail loudly, so a test against a real device can never replace it."""
    def refuse(src: object, dst: object) -> None:
        raise AssertionError(f"renamed over {dst}")

    monkeypatch.setattr(os, "replace", refuse)
    monkeypatch.setattr(os, "rename", refuse)


def test_dev_null_is_written_into(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_replacing(monkeypatch)
    write_atomic("/dev/null", "gone\n")
    assert Path("/dev/null").is_char_device()


def test_dev_full_says_no_space(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_replacing(monkeypatch)
    with pytest.raises(OSError, match=r"No space left on device: '/dev/full'"):
        write_atomic("/dev/full", "text\n")
    assert Path("/dev/full").is_char_device()


def test_a_fifo_is_fed_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader is there: no waiting
    try:
        forbid_replacing(monkeypatch)
        write_atomic(fifo, "through the pipe\n")
        assert os.read(reader, 1000) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert fifo.is_fifo() and os.listdir(tmp_path) == ["pipe"]


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(OSError, match="is a socket; refusing to write onto it"):
            write_atomic(path, "text\n")
    assert path.is_socket() and os.listdir(tmp_path) == ["sock"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_replacing_keeps_the_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "private.json"
    path.write_text("old\n")
    path.chmod(mode)
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.txt", "text\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644


@pytest.mark.parametrize("mode", [0o444, 0o400])
def test_a_read_only_file_is_refused(tmp_path: Path, mode: int) -> None:
    # By its mode bits: the superuser could write it, but its owner said no.
    path = tmp_path / "keep.json"
    path.write_text("keep\n")
    path.chmod(mode)
    with pytest.raises(PermissionError, match=f"read-only, mode {mode:04o}"):
        write_atomic(path, "new\n")
    assert path.read_text() == "keep\n"
    assert os.listdir(tmp_path) == ["keep.json"]


@pytest.mark.parametrize("name", ["", "missing/m.json"])
def test_errors_name_the_users_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    name: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        write_atomic(name, "text\n")
    assert info.value.filename == name
    assert ".writing" not in str(info.value)
    assert os.listdir(tmp_path) == []


ENDED_MID_WRITE = """
import os, signal, sys
from autograd_mini import files

if sys.argv[2] == "handled":  # the program's own handler stays in charge
    def leave(signum, frame):
        sys.exit(3)
    signal.signal(signal.SIGTERM, leave)
real_fsync = os.fsync

def fsync_then_terminated(fd):  # the signal arrives with the temporary file complete
    real_fsync(fd)
    os.kill(os.getpid(), signal.SIGTERM)

os.fsync = fsync_then_terminated
files.write_atomic(sys.argv[1], "new\\n" * 100_000)
print("the write went on")
"""


@pytest.mark.parametrize(("how", "status"), [("default", -signal.SIGTERM), ("handled", 3)])
def test_sigterm_during_a_write_leaves_no_temporary(tmp_path: Path, how: str,
                                                     status: int) -> None:
    path = tmp_path / "model.json"
    path.write_text("old\n")
    result = subprocess.run([sys.executable, "-c", ENDED_MID_WRITE, str(path), how],
                            capture_output=True, encoding="utf-8", timeout=120)
    assert result.returncode == status, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["model.json"]


def test_signal_handlers_are_as_before_after_a_write(tmp_path: Path) -> None:
    before = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)]
    write_atomic(tmp_path / "a.txt", "text\n")
    assert [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)] == before
