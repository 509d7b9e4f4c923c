import os

import pytest

from erann_tf.atomic import atomic_path, write_json


def test_atomic_writes_replace_whole_files_with_the_usual_mode(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"a": 1})
    assert oct(os.stat(target).st_mode & 0o777) == oct(0o666 & ~_umask())
    try:
        with atomic_path(target) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("killed while writing")
    except RuntimeError:
        pass
    assert target.read_text().startswith("{") and os.listdir(tmp_path) == ["metrics.json"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_lock_whose_pid_now_names_another_process_is_taken_over(tmp_path):
    """pid 1 is alive, but a lock that recorded another start time for it was
    left by a process that is gone: its pid has been reused."""
    import json
    import socket

    from erann_tf.atomic import FolderLock, _started

    host, lock = socket.gethostname(), tmp_path / ".lock"
    lock.write_text(json.dumps({"pid": 1, "host": host, "started": _started(1) + 1}))
    taken = FolderLock(tmp_path)
    taken.acquire()  # stale: taken over
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    taken.release()
    lock.write_text(json.dumps({"pid": 1, "host": host, "started": _started(1)}))
    with pytest.raises(OSError, match="is being written by process 1 on"):
        FolderLock(tmp_path).acquire()


@pytest.mark.tf_only  # export runs on TensorFlow
def test_two_exports_to_one_folder_leave_one_writer(tiny_model_dir, tmp_path):
    """Started together without --force: one writes, the other is refused
    (while the first writes, or after it, the folder being no longer empty)."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "erann_tf.cli", "export", str(tiny_model_dir), "-o",
            str(tmp_path / "out"), "--format", "savedmodel"]  # fmt: skip
    runs = [subprocess.Popen(argv, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = sorted(run.wait(timeout=600) for run in runs)
    errors = " ".join(run.stderr.read() for run in runs)
    assert codes == [0, 2], errors
    assert "is being written by process" in errors or "exists and is not empty" in errors
    assert not (tmp_path / "out" / ".lock").exists()
