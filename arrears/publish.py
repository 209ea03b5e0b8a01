"""Safe publishing of the warehouse: BI readers never block a build and never see a half-built state.

DuckDB lets one read-write process lock a database file against every other process, so the build never
writes the file that people open. The layout, for a published file `P` (`--db` / `ARREARS_DB`) and an output
folder `OUT` (`--out`):

    P                         the published database; readers open it read-only; replaced atomically
    P.work/<name of P>       the build file (same file name as P, so views keep resolving): dbt, validation and export work here
    P.work/state.json         where the build stands (building -> built -> publishing -> published)
    P.work/lock               flock()ed by the process running a step: a second build fails at once
    OUT/.staging/<build_id>/  exports of a build that is not published yet (lists/, then parquet/)
    OUT/.versions/<build_id>/ published Parquet + manifest, one folder per build (current and previous kept)
    OUT/current               symlink -> .versions/<build_id>, swapped atomically at publish
    OUT/parquet               symlink -> current/parquet (a stable path for tools)
    OUT/lists/<as-of>/        published strategy lists, one folder per as-of date (earlier dates stay)

A build starts from the published file (a fresh copy, or the build file itself when it is byte-for-byte what
was last published), so incremental history carries over and a killed build leaves nothing behind that the
next one uses. Publishing copies the validated build file to a temporary file beside `P`, fsyncs it and
`os.replace`s it onto `P`: a reader that has the old file open keeps reading the old inode; a reader that
opens `P` afterwards gets the new one; nobody sees anything in between. The Parquet files are switched in one
`rename` of the `OUT/current` symlink right after, and the day's lists folder is moved into `OUT/lists/`.

Validation and export read the build file before it is published; the publish step refuses a build file
that changed after it was validated or exported (size, mtime and inode are recorded), so the exports and
the Parquet files are exactly the data of the published database.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arrears.atomic import copy_file, fsync_path, fsync_tree, write_json
from arrears.sql import literal

KEEP_VERSIONS = 2  # the current published exports and the previous ones (a reader may still be on them)


class PublishError(RuntimeError):
    """Publishing cannot go on; the message says why and what to run."""


class BuildLocked(PublishError):
    """Another process is running a step of a build of the same published file."""


@dataclass(frozen=True)
class Layout:
    """Where the published file, the build file and the exports live (see the module docstring)."""

    db: Path
    out: Path

    @property
    def work_dir(self) -> Path:
        return self.db.parent / f"{self.db.name}.work"

    @property
    def build_db(self) -> Path:
        # the same file name as the published database: DuckDB names the catalog after the file, and dbt
        # writes that name into views (staging.stg_*), which must resolve in the published file too
        return self.work_dir / self.db.name

    @property
    def state_file(self) -> Path:
        return self.work_dir / "state.json"

    @property
    def lock_file(self) -> Path:
        return self.work_dir / "lock"

    @property
    def staging_root(self) -> Path:
        return self.out / ".staging"

    @property
    def versions_root(self) -> Path:
        return self.out / ".versions"

    @property
    def current_link(self) -> Path:
        return self.out / "current"

    @property
    def lists_dir(self) -> Path:
        return self.out / "lists"

    def staging_dir(self, build_id: str) -> Path:
        return self.staging_root / build_id

    def lists_staging_dir(self, build_id: str) -> Path:
        """Where the export step writes the strategy lists of a build that is not yet published."""
        return self.staging_dir(build_id) / "lists"

    def tmp_db_prefix(self) -> str:
        return f".{self.db.name}.tmp-"


def _log(message: str) -> None:
    print(f"[publish] {message}", flush=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------------------------- files

def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _copy_durably(src: Path, dst: Path) -> None:
    """Copy src to dst (dst must not be visible to readers yet) and flush it to disk. The publish step keeps
    this two-step form (copy, record the inode in the state file, then rename) so a killed publish can be
    recognised and finished by `recover`; everything else uses arrears.atomic.copy_file."""
    shutil.copyfile(src, dst)
    fsync_path(dst)


def _stat(path: Path) -> dict[str, int] | None:
    """What identifies one version of a file: any write changes mtime or size, a replace changes the inode."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return {"inode": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _wal(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def fingerprint(layout: Layout) -> dict[str, Any] | None:
    """The build file's identity; None when it is missing or has an unmerged write-ahead log."""
    if _wal(layout.build_db).exists():
        return None
    return _stat(layout.build_db)


# ----------------------------------------------------------------------------------------------- state

def read_state(layout: Layout) -> dict[str, Any]:
    try:
        return json.loads(layout.state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError:
        # The state file is only ever replaced atomically; a broken one means someone edited it.
        _log(f"ignoring unreadable {layout.state_file}; the next build starts from the published file")
        return {}


def write_state(layout: Layout, state: dict[str, Any]) -> None:
    state = dict(state, updated_at=_now())
    write_json(layout.state_file, state)


# ------------------------------------------------------------------------------------------------ lock

@contextlib.contextmanager
def build_lock(layout: Layout) -> Iterator[None]:
    """Hold the build lock of `layout.db` for the duration of the block.

    flock() is released by the kernel when its process ends, however it ends, so a killed build never
    leaves a stale lock behind. The file holds the pid and start time of the holder for the error message.
    """
    layout.work_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(layout.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown process"
            raise BuildLocked(
                f"another build of {layout.db} is running ({holder}); "
                f"wait for it to finish (lock file {layout.lock_file})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {_now()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock


# -------------------------------------------------------------------------------------------- recovery

def recover(layout: Layout) -> None:
    """Finish or undo what a killed run left behind, and remove its temporary files. Call under the lock."""
    state = read_state(layout)
    if state.get("status") == "publishing":
        _finish_interrupted_publish(layout, state)
        state = read_state(layout)

    # Temporary copies of the published file that a killed publish left beside it.
    if layout.db.parent.is_dir():
        for tmp in layout.db.parent.glob(layout.tmp_db_prefix() + "*"):
            _log(f"removing stale temporary file {tmp}")
            _remove(tmp)
    for tmp in layout.work_dir.glob(".*.tmp-*"):
        _remove(tmp)
    if layout.out.is_dir():
        for tmp in [*layout.out.glob(".*.tmp-*"), *layout.lists_dir.glob(".*.old-*")]:
            _remove(tmp)
        _remove(layout.out / ".trash")
    # Staging folders of builds that are no longer the one in progress.
    active = state.get("build_id") if state.get("status") in {"building", "built"} else None
    if layout.staging_root.is_dir():
        for folder in layout.staging_root.iterdir():
            if folder.name != active:
                _remove(folder)
        with contextlib.suppress(OSError):
            layout.staging_root.rmdir()  # when empty
    _prune_versions(layout)


def _finish_interrupted_publish(layout: Layout, state: dict[str, Any]) -> None:
    pending = state.get("publishing") or {}
    if _stat(layout.db) is not None and _stat(layout.db)["inode"] == pending.get("tmp_inode"):
        # The database was already swapped in: roll forward (switch the exports, record the publish).
        _log(f"completing the interrupted publish of build {state.get('build_id')}")
        try:
            _switch_exports(layout, state["build_id"])
        except PublishError as exc:  # someone removed the exports folder: the database stays published
            _log(f"warning: {exc}; the Parquet files and lists of this build are not published")
        _record_published(layout, state)
    else:
        # The swap never happened: the published file is the previous version. Back to "built".
        _log(f"the interrupted publish of build {state.get('build_id')} had not swapped the database; "
             "the previous version stays published")
        state = dict(state, status="built")
        state.pop("publishing", None)
        write_state(layout, state)


def _prune_versions(layout: Layout) -> None:
    if not layout.versions_root.is_dir():
        return
    current = os.readlink(layout.current_link) if layout.current_link.is_symlink() else None
    current_id = Path(current).name if current else None
    # Build ids start with their UTC start time, so the name order is the age order.
    versions = sorted((p for p in layout.versions_root.iterdir() if p.is_dir()), key=lambda p: p.name,
                      reverse=True)
    keep = {current_id}
    for folder in versions:
        if len(keep - {None}) >= KEEP_VERSIONS:
            break
        keep.add(folder.name)
    for folder in versions:
        if folder.name not in keep:
            _remove(folder)


# -------------------------------------------------------------------------------------------- the build

def prepare_build(layout: Layout, full_refresh: bool = False) -> str:
    """Make the build file ready for dbt and return the new build's id. Call under the lock.

    The build starts from what is published: the build file is reused only when it is exactly the file last
    published (same fingerprint) and the published file has not been replaced since; otherwise it is a fresh
    copy of the published file (or, with no published file or on a full refresh, an empty start).
    """
    layout.work_dir.mkdir(parents=True, exist_ok=True)
    state = read_state(layout)
    published = state.get("published") or {}
    reusable = (
        not full_refresh
        and state.get("status") == "published"
        and published.get("db_stat") is not None
        and published.get("db_stat") == _stat(layout.db)
        and published.get("work_fingerprint") == fingerprint(layout)
    )
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S_%fZ") + "-" + uuid.uuid4().hex[:6]
    # From here on the build file is being changed: record that before touching it, so that a kill at any
    # later point makes the next build start again from the published file.
    write_state(layout, {"build_id": build_id, "status": "building", "started_at": _now(),
                         "full_refresh": full_refresh})
    if layout.staging_root.is_dir():  # exports of earlier unpublished builds are void now
        for folder in layout.staging_root.iterdir():
            _remove(folder)
    if reusable:
        _log(f"build {build_id}: continuing from the build file of the published version")
        return build_id
    for path in (layout.build_db, _wal(layout.build_db)):
        path.unlink(missing_ok=True)
    if layout.db.exists() and not full_refresh:
        _log(f"build {build_id}: starting from a copy of {layout.db}")
        copy_file(layout.db, layout.build_db)
    else:
        _log(f"build {build_id}: starting from an empty database"
             + (" (full refresh)" if full_refresh else f" ({layout.db} does not exist yet)"))
    return build_id


def mark_built(layout: Layout, as_of: dt.date | None) -> dict[str, Any]:
    """Record a successful dbt build: merge the write-ahead log into the file and take its fingerprint."""
    import duckdb

    state = _require(layout, {"building"}, "run the build step first")
    # the storage settings of the build (profiles.yml), should the checkpoint compress anything dbt left in the log
    with duckdb.connect(str(layout.build_db), config={"disabled_compression_methods": "bitpacking"}) as con:
        con.execute("checkpoint")
    fp = fingerprint(layout)
    if fp is None:
        raise PublishError(f"{layout.build_db} still has a write-ahead log after a checkpoint")
    state.update(status="built", built_at=_now(), fingerprint=fp, validated=None, exported=None,
                 as_of=as_of.isoformat() if as_of else None)
    write_state(layout, state)
    return state


def current_build(layout: Layout) -> dict[str, Any]:
    """The state of the build that is built but not yet published (for validation and export)."""
    state = _require(layout, {"built"}, "run the build step first")
    _require_unchanged(layout, state, "built")
    return state


def mark_checked(layout: Layout, what: str) -> None:
    """Record that `what` ("validated" or "exported") succeeded on the build file as it is now."""
    state = current_build(layout)
    state[what] = state["fingerprint"]
    write_state(layout, state)


def _require(layout: Layout, statuses: set[str], hint: str) -> dict[str, Any]:
    state = read_state(layout)
    if state.get("status") not in statuses:
        where = state.get("status") or "no build"
        raise PublishError(f"no finished build of {layout.db} is waiting ({where}); {hint}")
    return state


def _require_unchanged(layout: Layout, state: dict[str, Any], since: str) -> None:
    if fingerprint(layout) != state.get("fingerprint"):
        raise PublishError(
            f"{layout.build_db} changed after it was {since} (another process wrote it); "
            "run the build again")


# ------------------------------------------------------------------------------------------- publishing

def publish(layout: Layout, *, require_validated: bool = True, require_exported: bool = True) -> Path:
    """Publish the current build: Parquet of every marts relation, the database file, then the exports.

    Returns the published version folder. Call under the lock.
    """
    state = current_build(layout)
    build_id = state["build_id"]
    fp = state["fingerprint"]
    if require_validated and state.get("validated") != fp:
        raise PublishError(f"build {build_id} has not passed mart validation; run the validate_marts step")
    if require_exported and state.get("exported") != fp:
        raise PublishError(f"build {build_id} has no strategy-list export; run the export step")

    staging = layout.staging_dir(build_id)
    staging.mkdir(parents=True, exist_ok=True)
    tables = _export_parquet(layout.build_db, staging / "parquet")
    manifest = {
        "build_id": build_id,
        "as_of": state.get("as_of"),
        "built_at": state.get("built_at"),
        "published_at": _now(),
        "database": str(layout.db),
        "database_size": fp["size"],
        "marts": tables,
        "lists": sorted(p.name for p in (staging / "lists").glob("*")) if (staging / "lists").is_dir() else [],
    }
    write_json(staging / "manifest.json", manifest)
    fsync_tree(staging)
    _require_unchanged(layout, state, "validated")  # nothing wrote it while the Parquet files were made

    layout.db.parent.mkdir(parents=True, exist_ok=True)
    tmp = layout.db.parent / f"{layout.tmp_db_prefix()}{build_id}"
    _copy_durably(layout.build_db, tmp)
    state.update(status="publishing", publishing={"tmp_inode": tmp.stat().st_ino, "started_at": _now()})
    write_state(layout, state)
    # A write-ahead log beside the published file belongs to its old version (someone opened it
    # read-write); DuckDB would replay it onto the new file, so it goes first.
    stale_wal = _wal(layout.db)
    if stale_wal.exists():
        _log(f"removing {stale_wal}: the published file is read-only for everyone but the publisher")
        stale_wal.unlink()
    os.replace(tmp, layout.db)  # the moment the new version becomes visible
    fsync_path(layout.db.parent)
    _log(f"published {layout.db} (build {build_id}, as of {state.get('as_of')}, {len(tables)} marts)")

    version = _switch_exports(layout, build_id)
    _record_published(layout, state)
    _prune_versions(layout)
    return version


def _export_parquet(build_db: Path, folder: Path) -> dict[str, int]:
    """Write every table and view of schema `marts` to `<folder>/<name>.parquet`; return row counts."""
    import duckdb

    _remove(folder)
    folder.mkdir(parents=True)
    counts: dict[str, int] = {}
    with duckdb.connect(str(build_db), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()]
        for name in names:
            target = folder / f"{name}.parquet"
            quoted = '"' + name.replace('"', '""') + '"'
            con.execute(f"copy (select * from marts.{quoted}) to {literal(target.as_posix())} "
                        "(format parquet, compression zstd)")
            counts[name] = con.execute(f"select count(*) from marts.{quoted}").fetchone()[0]
    return counts


def _switch_exports(layout: Layout, build_id: str) -> Path:
    """Make the staged exports of `build_id` the published ones. Idempotent (recovery re-runs it).

    Parquet and the manifest: the staging folder becomes .versions/<build_id> and OUT/current points at it
    (one atomic rename of a symlink). Strategy lists: every dated folder the export wrote is moved into
    OUT/lists/, replacing the folder of the same date (lists of other dates, published earlier, stay).
    """
    staging = layout.staging_dir(build_id)
    version = layout.versions_root / build_id
    layout.versions_root.mkdir(parents=True, exist_ok=True)
    if staging.is_dir() and not version.exists():
        os.replace(staging, version)
    with contextlib.suppress(OSError):
        layout.staging_root.rmdir()  # when no other build is staged
    if not version.is_dir():
        raise PublishError(f"the exports of build {build_id} are missing ({staging}); run the build again")
    _install_lists(version / "lists", layout.lists_dir)
    _atomic_symlink(layout.current_link, f"{layout.versions_root.name}/{build_id}")
    parquet_link = layout.out / "parquet"
    if not (parquet_link.is_symlink() and os.readlink(parquet_link) == "current/parquet"):
        _atomic_symlink(parquet_link, "current/parquet")
    fsync_path(layout.out)
    return version


def _install_lists(staged: Path, lists: Path) -> None:
    """Move each entry of `staged` into `lists`, replacing the entry of the same name."""
    if lists.is_symlink():
        lists.unlink()
    lists.mkdir(parents=True, exist_ok=True)
    if not staged.is_dir():
        return
    for entry in sorted(staged.iterdir()):
        target = lists / entry.name
        old = lists / f".{entry.name}.old-{uuid.uuid4().hex[:8]}"
        if target.exists() or target.is_symlink():
            os.replace(target, old)  # two renames: the date's folder is missing for microseconds only
        os.replace(entry, target)
        _remove(old)
    fsync_path(lists)
    with contextlib.suppress(OSError):
        staged.rmdir()  # now empty


def _atomic_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` with one rename; a real folder in the way is moved to OUT/.trash first."""
    if link.exists() and not link.is_symlink():
        trash = link.parent / ".trash"
        trash.mkdir(exist_ok=True)
        os.replace(link, trash / f"{link.name}-{uuid.uuid4().hex[:8]}")
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _record_published(layout: Layout, state: dict[str, Any]) -> None:
    state = dict(state, status="published", published={
        "build_id": state["build_id"],
        "as_of": state.get("as_of"),
        "at": _now(),
        "db_stat": _stat(layout.db),
        "work_fingerprint": state.get("fingerprint"),
    })
    state.pop("publishing", None)
    write_state(layout, state)


def published_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of the currently published exports (None before the first publish)."""
    try:
        return json.loads((out / "current" / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
