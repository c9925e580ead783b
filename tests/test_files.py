"""files.write_atomic: whole or not at all, through links, never onto a folder."""

from __future__ import annotations

import os
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
