"""Atomic file writes: write beside the target, then rename over it."""

import contextlib
import json
import os
import shutil
import tempfile


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
        json.dump(payload, handle, indent=2)
        handle.write("\n")
