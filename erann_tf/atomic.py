"""Atomic file writes (write beside the target, then rename over it) and the
lock that keeps a folder to one writer."""

import contextlib
import glob
import json
import os
import shutil
import socket
import tempfile

from erann_tf import strict_json


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path in the target's folder; on success it replaces
    `path` in one rename, so readers never see a half-written file.

    Example:
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_path(target) as tmp:
    ...     _ = open(tmp, "w").write("done")
    >>> open(target).read()
    'done'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = os.path.splitext(path)[1]  # keep the extension: Keras and numpy check it
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    os.close(handle)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual mode
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class atomic_folder:
    """A context manager yielding a temporary folder beside `path`; on success
    it takes the place of `path` (replacing an older one) by renames.

    Example:
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "out")
    >>> with atomic_folder(target) as tmp:
    ...     _ = open(os.path.join(tmp, "a.txt"), "w").write("done")
    >>> os.listdir(target)
    ['a.txt']
    """

    def __init__(self, path):
        self.path = os.path.abspath(path)

    def __enter__(self):
        parent = os.path.dirname(self.path)
        os.makedirs(parent, exist_ok=True)
        self.tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp-")
        os.chmod(self.tmp, 0o777 & ~_umask())
        return self.tmp

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        old = None
        if os.path.exists(self.path):
            old = tempfile.mkdtemp(dir=os.path.dirname(self.path), prefix=".old-")
            os.replace(self.path, os.path.join(old, "x"))
        os.replace(self.tmp, self.path)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        return False


class FolderLock:
    """One writing process per folder: a `.lock` file holding the writer's pid
    and host, made atomically, removed by `release`. A lock whose process is gone
    (same host) is taken over, and the temporaries that writer left are removed.

    Example:
    >>> import tempfile
    >>> lock = FolderLock(tempfile.mkdtemp())
    >>> lock.acquire(); FolderLock(lock.folder).acquire()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    OSError: ... is being written by process ... on ...; wait for it to finish or stop it
    >>> lock.release()
    """

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        self.path = os.path.join(self.folder, ".lock")
        self.held = False

    def acquire(self):
        os.makedirs(self.folder, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": _started(os.getpid())}
        for _ in range(2):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read_holder(self.path)
                if holder is not None and _alive(holder, me["host"]):
                    raise OSError(
                        f"{self.folder} is being written by process {holder['pid']} on "
                        f"{holder['host']}; wait for it to finish or stop it"
                        + ("" if holder["host"] == me["host"] else f" (then delete {self.path})")
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path)  # its writer is gone: take over
                continue
            with os.fdopen(handle, "w") as file:
                json.dump(me, file)
            self.held = True
            remove_temporaries(self.folder)
            return
        raise OSError(f"{self.folder}: could not take {self.path}; another process races for it")

    def release(self):
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
            self.held = False


def _read_holder(path):
    try:
        holder = strict_json.load(path)
        started = holder.get("started")
        return {"pid": int(holder["pid"]), "host": str(holder["host"]), "started": started}
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or half-written by a writer killed at once: stale


def _alive(holder, host):
    if holder["host"] != host:
        return True  # another machine's process cannot be checked from here
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # A live pid may be another process now (pids are reused): compare start times.
    started = _started(holder["pid"])
    return holder["started"] is None or started is None or started == holder["started"]


def _started(pid):
    """When process `pid` started, in clock ticks since boot (Linux's
    /proc/PID/stat), or None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()  # after the command's name
        return int(fields[19])  # field 22: starttime
    except (OSError, IndexError, ValueError):
        return None


def remove_temporaries(folder):
    """Deletes what interrupted atomic writes left in `folder` (`.tmp-*`, `.old-*`);
    call it only while holding the folder's lock."""
    for path in glob.glob(os.path.join(glob.escape(folder), ".tmp-*")) + glob.glob(
        os.path.join(glob.escape(folder), ".old-*")
    ):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def check_not_an_input(flag, output, inputs):
    """A ValueError where the path an output flag names is also one of the
    command's inputs (`inputs`: flag -> path or None), symbolic links and
    relative paths resolved: a command never writes over what it reads.

    Example:
    >>> check_not_an_input("--predictions", "v.csv", {"--data": "./v.csv"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --predictions v.csv is also --data: the command would overwrite what it ...
    """
    if not output or "://" in str(output):
        return
    for flag_in, path in inputs.items():
        if path and "://" not in str(path) and _same_path(output, path):
            raise ValueError(
                f"{flag} {output} is also {flag_in}: the command would overwrite what it "
                "reads; give another path"
            )


def _same_path(a, b):
    return os.path.realpath(os.fspath(a)) == os.path.realpath(os.fspath(b))


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, payload):
    """Writes `payload` as indented JSON, atomically.

    Example:
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "m.json")
    >>> write_json(target, {"a": 1}); open(target).read()
    '{\\n  "a": 1\\n}\\n'
    """
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(strict_json.dumps(payload, indent=2) + "\n")
