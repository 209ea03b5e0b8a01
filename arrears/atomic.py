"""Writing files and folders so that a reader never sees half of one: the one place that knows how.

Every file is written under a temporary name in the same folder, flushed to disk, given the permissions a
plain `open` would give it, and renamed onto its final name (a rename within a folder is atomic); the folder
is flushed too, so the rename survives a power cut. A failure leaves the old file as it was and no temporary
file behind. Folders are built beside their final place and renamed (or swapped) into it.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def fsync_path(path: Path) -> None:
    """Flush a file or a folder (its entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            fsync_path(Path(folder) / name)
        fsync_path(Path(folder))


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def set_default_mode(path: Path | str) -> None:
    """Give a file the permissions a plain `open` would (mkstemp makes it owner-only)."""
    os.chmod(path, 0o666 & ~_umask())


def temporary_name(path: Path) -> Path:
    """A fresh, unused name beside `path` (hidden, so globs on the folder do not pick it up)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    return Path(tmp)


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Run `write(tmp)` on a temporary file beside `path`, flush it, then rename it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        write(tmp)
        fsync_path(tmp)
        set_default_mode(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # some file systems cannot fsync a folder
        fsync_path(path.parent)
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding=encoding))


def write_json(path: Path, data: Any, *, sort_keys: bool = True, default: Callable | None = str,
               allow_nan: bool = True) -> Path:
    """JSON with a two-space indent and a final newline."""
    text = json.dumps(data, indent=2, sort_keys=sort_keys, default=default, allow_nan=allow_nan) + "\n"
    return write_text(path, text)


def copy_file(src: Path, dst: Path) -> Path:
    """Copy `src` onto `dst` atomically (readers of `dst` see the old file or the whole new one)."""
    return atomic_write(dst, lambda tmp: shutil.copyfile(src, tmp))


# ------------------------------------------------------------------------------------------ folders

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False when not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def move_folder_into_place(tmp: Path, final: Path, replace: bool) -> None:
    """Rename the finished folder `tmp` to `final`. An existing `final` is swapped out in one step where the
    kernel offers it (else removed between two renames) when `replace`; FileExistsError otherwise, also when
    another process created `final` meanwhile."""
    if not final.exists():
        try:
            os.rename(tmp, final)  # fails if another run created `final` meanwhile
            return
        except OSError as exc:
            if not final.exists():
                raise
            if not replace:
                raise FileExistsError(f"{final} was created by another run meanwhile") from exc
    if not replace:
        raise FileExistsError(f"{final} already exists")
    if exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # `tmp` now holds the old folder
        return
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    os.rename(final, old)  # readers see no folder for the instant between these two renames
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
