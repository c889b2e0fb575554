"""Safe output files.

* Files that appear whole or not at all: write to a temporary file beside the target, then
  rename it over the target (atomic on POSIX), so a reader or an interrupted run never sees a
  half-written result. Errors name the target, never the temporary file.
* An exclusive lock on a lock file, so that two processes never write the same output.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]  # None marks a platform without fcntl
    import msvcrt


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _named(exc: OSError, tmp: str, path: str | os.PathLike) -> OSError:
    """``exc`` with the user's ``path`` in place of the temporary file's name."""
    if tmp not in (exc.filename, exc.filename2):
        return exc
    return type(exc)(exc.errno, exc.strerror, os.fspath(path))


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path in the target's folder; on success it is renamed to ``path``
    with the permissions of a normally created file (mkstemp's would be 0600), on error it
    is removed. The temporary file keeps the target's suffix, for writers that go by it.
    An OSError about the temporary file (target is a folder, disk full, ...) names ``path``."""
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    if not os.path.isdir(folder):  # say so with the user's name, not the temporary one
        raise FileNotFoundError(errno.ENOENT, "no such folder for the output file", os.fspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".wgmfem-", suffix=os.path.splitext(name)[1], dir=folder)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, os.fspath(path)) from None
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        raise _named(exc, tmp, path) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


# -- an exclusive lock ---------------------------------------------------------------------


class LockedError(OSError):
    """The lock is held by another process (``owner``: its process id, when it wrote one)."""

    def __init__(self, path: str, owner: int | None):
        super().__init__(errno.EAGAIN, "locked by another process", path)
        self.owner = owner


#: errno of a lock that the file system cannot take (not: that another process holds).
NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})
_HELD: set[str] = set()  # lock files held by this process (a POSIX lock does not exclude its own process)


def _try_lock(fd: int) -> bool:
    """Lock the open file ``fd`` without waiting; False when another process holds it."""
    try:
        if fcntl is not None:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN, errno.EDEADLK):
            return False
        raise
    return True


def _owner(path: str) -> int | None:
    """The process id the holder of the lock file wrote into it, if it can be read."""
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _open_locked(path: str) -> int:
    """Open and lock the lock file ``path``, creating it; raise LockedError when it is held."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            locked = _try_lock(fd)
        except OSError as exc:  # e.g. a file system without locks: errno in NO_LOCKS
            os.close(fd)
            raise type(exc)(exc.errno, exc.strerror, path) from None
        if not locked:
            os.close(fd)
            raise LockedError(path, _owner(path))
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder removed the file between our open and our lock: lock the new one


class ExclusiveLock:
    """An exclusive lock on the lock file ``path``, held from :meth:`acquire` (or ``with``) to
    :meth:`release`; acquiring raises :class:`LockedError` at once when another process (or
    this one) holds it.

    The lock file holds the holder's process id and is removed on release. The lock is the
    operating system's (``lockf`` on POSIX, ``msvcrt.locking`` on Windows): it ends with the
    process, so a killed holder leaves at most a stale file that the next holder reuses. A
    POSIX lock belongs to the process, so worker processes forked while it is held do not
    hold it and cannot keep it after the holder is gone."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.path.abspath(os.fspath(path))
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.path in _HELD:
            raise LockedError(self.path, os.getpid())
        fd = _open_locked(self.path)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        _HELD.add(self.path)

    def release(self) -> None:
        if self._fd is None:
            return
        _HELD.discard(self.path)
        try:
            if fcntl is None:
                os.lseek(self._fd, 0, os.SEEK_SET)
                msvcrt.locking(self._fd, msvcrt.LK_UNLCK, 1)
            os.unlink(self.path)  # on POSIX while still locked, so that no one locks a file about to disappear
        except OSError:
            pass  # already gone, or (Windows) still open: it stays, unlocked
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ExclusiveLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
