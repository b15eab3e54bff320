"""MNIST as (x_train, y_train), (x_test, y_test) uint8 arrays.

Default: Keras's own download (cached under ~/.keras/datasets). With a path
(--data PATH or MNIST_DEMO_DATA): a local .npz in Keras's layout, or a folder
holding the four original IDX files, gzipped or not.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np

DATA_ENV = "MNIST_DEMO_DATA"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
HOW_TO_POINT = (
    f"pass --data PATH or set {DATA_ENV}=PATH, where PATH is a Keras-layout "
    "mnist.npz or a folder with the four MNIST IDX files"
)


class DataError(RuntimeError):
    """MNIST could not be loaded; the message says what to do."""


def load_mnist(path: str | os.PathLike | None = None):
    """Return (x_train, y_train), (x_test, y_test) as uint8 arrays."""
    path = path or os.environ.get(DATA_ENV) or None
    if path is not None:
        return _load_local(Path(path))
    try:
        import keras

        (xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data()
    except Exception as exc:  # no network, blocked host, bad cache
        raise DataError(
            f"could not download MNIST ({type(exc).__name__}: {exc}). "
            f"If this machine is offline, {HOW_TO_POINT}."
        ) from None
    return (xtr, ytr), (xte, yte)


def _load_local(path: Path):
    if path.is_dir():
        arrays = {key: _read_idx(_find_idx(path, stem)) for key, stem in IDX_FILES.items()}
    elif path.is_file():
        try:
            with np.load(path) as f:
                arrays = {key: f[key] for key in IDX_FILES}
        except (KeyError, ValueError, OSError) as exc:
            raise DataError(f"{path}: not a Keras-layout mnist.npz ({exc})") from None
    else:
        raise DataError(f"{path}: no such file or folder; {HOW_TO_POINT}")
    for key in ("x_train", "x_test"):
        if arrays[key].ndim != 3 or arrays[key].shape[1:] != (28, 28):
            raise DataError(f"{path}: {key} has shape {arrays[key].shape}, expected (N, 28, 28)")
    return (
        (arrays["x_train"].astype(np.uint8), arrays["y_train"].astype(np.uint8)),
        (arrays["x_test"].astype(np.uint8), arrays["y_test"].astype(np.uint8)),
    )


def _find_idx(folder: Path, stem: str) -> Path:
    # The original names, also as served by mirrors that use "." instead of "-" before "idx".
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder}: missing {stem}[.gz]; {HOW_TO_POINT}")


def _read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (the MNIST distribution format): big-endian header, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path}: truncated ({data.size} values, header says {shape})")
    return data.reshape(shape)


def fingerprint(*arrays: np.ndarray) -> str:
    """sha256 over the arrays' bytes: names the exact data a model was trained on."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()
