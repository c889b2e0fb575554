"""Files that appear whole or not at all: write to a temporary file beside the target, then
rename it over the target (atomic on POSIX), so a reader or an interrupted run never sees a
half-written result."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path in the target's folder; on success it is renamed to ``path``
    with the permissions of a normally created file (mkstemp's would be 0600), on error it
    is removed. The temporary file keeps the target's suffix, for writers that go by it."""
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    if not os.path.isdir(folder):  # say so with the user's name, not the temporary one
        raise FileNotFoundError(errno.ENOENT, "no such folder for the output file", os.fspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".wgmfem-", suffix=os.path.splitext(name)[1], dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
