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
import signal
import stat
import threading
from collections.abc import Iterator

__all__ = ["check_target", "write_atomic"]

# Signals that end a process by default and that a save turns into an exception
# for as long as it writes, so its temporary file is removed as on Ctrl-C.
_ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                        if hasattr(signal, name))


def check_target(path: str | os.PathLike[str]) -> os.stat_result | None:
    """What ``path`` names now, if it can be written: its status, or None if it does not exist.

    An OSError naming ``path`` for what cannot be: an empty name, a folder,
    a block device or a socket, a read-only file. Read-only means no write
    permission for this user, or none for anybody: the superuser may write
    anything, but a file marked read-only by its owner is not replaced
    behind the owner's back.

    >>> check_target("") is None
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: ''
    """
    path = os.fspath(path)
    if not path:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    if path.endswith(tuple(filter(None, (os.sep, os.altsep)))) or os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"{path!r} is a folder, not a file name")
    try:
        st = os.stat(path)  # through links, /dev/stdout's too
    except (FileNotFoundError, NotADirectoryError):
        return None  # a new file; creating it says what is wrong on the way
    mode = st.st_mode
    if stat.S_ISREG(mode):
        if not os.access(path, os.W_OK) or not mode & 0o222:
            raise PermissionError(errno.EACCES, f"{os.strerror(errno.EACCES)} (the file is "
                                  f"read-only, mode {stat.S_IMODE(mode):04o})", path)
    elif stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        if not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    else:
        kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) \
            else "not a regular file"
        raise OSError(errno.EINVAL, f"{path!r} is {kind}; refusing to write onto it", path)
    return st


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path``: an existing file is replaced whole or left as it was.

    The text goes to a new file beside ``path``, is flushed to disk, then
    renamed over ``path`` in one step; on any failure (or Ctrl-C, or SIGTERM)
    the temporary file is removed and the error propagates, naming ``path``.
    The new file keeps the old one's permissions; a read-only file is a
    PermissionError (see ``check_target``). A symbolic link is written through
    (its target is replaced, the link kept); a folder is an IsADirectoryError
    before anything is written.

    A character device or a pipe (``/dev/null``, ``/dev/stdout``, a FIFO) is
    written into, not replaced (see ``_write_into``).
    """
    path = os.fspath(path)
    st = check_target(path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        if _write_into(path, text):
            return
        st = check_target(path)  # it became a regular file meanwhile
    # Through a symbolic link to its target: the link stays a link.
    real = os.path.realpath(path)
    tmp = os.path.join(os.path.dirname(real), f".writing-{secrets.token_hex(8)}.tmp")
    with _ending_signals_raise():
        try:
            # Mode "x" creates the file with the usual permissions (a mkstemp
            # file would be private) and never follows or reuses an existing name.
            with open(tmp, "x", encoding="utf-8") as f:
                if st is not None:
                    _copy_owner_and_mode(f.fileno(), st)
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, real)
        except BaseException as e:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(e, OSError) and e.errno is not None:
                # The user's name for the file, not the temporary one's.
                raise type(e)(e.errno, e.strerror, path) from None
            raise


def _write_into(path: str, text: str) -> bool:
    """Write ``text`` into the device or pipe at ``path``; False if it is a regular file now.

    Renaming a file over ``/dev/null`` would replace the device for every
    program on the machine, and over a FIFO would cut off its reader. Writing
    into them is what a user who names them means, as with any program:
    ``/dev/null`` discards, ``/dev/stdout`` prints, a FIFO feeds its reader (and
    waits for one), ``/dev/full`` fails with "No space left on device". Such a
    stream cannot be replaced whole, so it is written in one pass.
    """
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise type(e)(e.errno, e.strerror, path) from None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # replaced by a file since it was looked at
            return False
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data):]
        with contextlib.suppress(OSError):  # a pipe or a terminal cannot be synced
            os.fsync(fd)
    except OSError as e:
        raise type(e)(e.errno, e.strerror, path) from None
    finally:
        os.close(fd)
    return True


def _copy_owner_and_mode(fd: int, old: os.stat_result) -> None:
    """Give the new file the permissions of the one it replaces (a 0600 file stays private)."""
    if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):  # only the superuser may give a file away
            os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after chown, which may clear setuid bits


class _Ended(BaseException):
    """A signal that would have ended the process arrived during a write."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


class _Signals:
    """What the handler below needs to know: is a write going on, has a signal come."""

    writing = False
    pending: int | None = None


def _raise_ended(signum: int, frame: object) -> None:
    if not _Signals.writing:  # the write just ended: end the process the default way
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    elif _Signals.pending is None:  # a second signal must not interrupt the cleanup
        _Signals.pending = signum
        raise _Ended(signum)


@contextlib.contextmanager
def _ending_signals_raise() -> Iterator[None]:
    """Inside: SIGTERM and SIGHUP raise, so cleanup runs; after: the process ends as it would have.

    Only signals left at their default action are taken over (a program's own
    handler stays in charge), and only in the main thread, where Python runs
    signal handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    taken = [s for s in _ENDING_SIGNALS if signal.getsignal(s) is signal.SIG_DFL]
    _Signals.writing, _Signals.pending = True, None
    for s in taken:
        signal.signal(s, _raise_ended)
    try:
        yield
        _Signals.writing = False
    except _Ended as e:
        _Signals.writing = False
        for s in taken:
            signal.signal(s, signal.SIG_DFL)
        os.kill(os.getpid(), e.signum)  # ends the process by that signal, status and all
        raise  # only if the signal is blocked
    finally:
        _Signals.writing = False
        for s in taken:
            signal.signal(s, signal.SIG_DFL)
