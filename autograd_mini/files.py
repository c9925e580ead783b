"""Writing a file so that no reader ever sees half of it.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
>>> write_atomic(path, "hello\\n")
>>> open(path).read()
'hello\\n'
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path``: an existing file is replaced whole or left as it was.

    The text goes to a new file beside ``path``, is flushed to disk, then
    renamed over ``path`` in one step; on any failure (or Ctrl-C) the
    temporary file is removed and the error propagates. A symbolic link is
    written through (its target is replaced, the link kept); a folder is an
    IsADirectoryError before anything is written.
    """
    path = os.fspath(path)
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"{path!r} is a folder, not a file name")
    # Through a symbolic link to its target: the link stays a link.
    path = os.path.realpath(path)
    folder = os.path.dirname(path)
    # Mode "x" creates the file with the usual permissions (a mkstemp file
    # would be private) and never follows or reuses an existing name.
    tmp = os.path.join(folder, f".writing-{secrets.token_hex(8)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
