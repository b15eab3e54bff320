import gzip
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from mnist_demo.data import IDX_FILES, DataError, fingerprint, load_mnist


def write_idx(path, array, gz):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def test_npz_layout(mnist):
    (xtr, ytr), (xte, yte) = mnist
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.uint8
    assert np.bincount(yte).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder(tmp_path, mnist, gz):
    (xtr, ytr), (xte, yte) = mnist
    arrays = {"x_train": xtr[:500], "y_train": ytr[:500], "x_test": xte[:200], "y_test": yte[:200]}
    for key, stem in IDX_FILES.items():
        write_idx(tmp_path / stem, arrays[key], gz)
    (a, b), (c, d) = load_mnist(tmp_path)
    assert fingerprint(a, b, c, d) == fingerprint(*arrays.values())


def test_missing_path_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="MNIST_DEMO_DATA") as err:
        load_mnist(tmp_path / "nothing-here.npz")
    assert "--data" in str(err.value)


def test_idx_folder_missing_file(tmp_path):
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_offline_without_copy_is_one_clear_message(tmp_path):
    """No variable, no flag, empty Keras cache, no network: one message naming both, no traceback.

    The network is cut by a proxy on a closed loopback port, so the test means the
    same on a machine that does have the internet.
    """
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KERAS_HOME": str(tmp_path / "keras"),
        "PYTHONPATH": str(ROOT),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mnist_demo", "train", "--subset", "100", "--epochs", "1", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "MNIST_DEMO_DATA" in proc.stderr and "--data" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o" / "model.keras").exists()
