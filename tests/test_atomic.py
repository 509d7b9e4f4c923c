import os

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
