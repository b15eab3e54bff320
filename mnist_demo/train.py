"""Train an architecture on MNIST and write everything a served model needs.

Writes under `out`: model.keras (atomically: temp name, then rename), model.json
(how it was trained and what it scored), confusion.png and samples.png; and
TensorBoard logs under logs/fit/<timestamp>/.

Two recipes, named by architecture:
- seed:    the blog's: raw MNIST / 255, no augmentation, Adam 1e-3, batch 32.
- default: ours: every image through the app's preprocessing (so training sees
           what serving sees), augmented (rotation, shear, zoom, shift, pen width),
           cosine-decayed Adam.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from . import data as data_mod
from .pictures import confusion_matrix, confusion_picture, sample_grid
from .preprocess import CONFIG_PATH, preprocess

RECIPES = {
    "seed": dict(epochs=10, batch_size=32, learning_rate=1e-3, preprocessing="blog", augment=False),
    "default": dict(epochs=20, batch_size=128, learning_rate=2e-3, preprocessing="mnist_demo", augment=True),
}


def prepare(x: np.ndarray, preprocessing: str, progress: Callable[[str], None] = print) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1), as the recipe's serving path sees digits.

    The app's preprocessing costs about half a millisecond a digit, so the
    result is cached on disk by content (data + preprocessing code and constants).
    """
    if preprocessing == "blog":
        return (x.astype(np.float32) / 255.0)[..., None]
    key = hashlib.sha256(
        data_mod.fingerprint(x).encode()
        + CONFIG_PATH.read_bytes()
        + Path(__file__).with_name("preprocess.py").read_bytes()
    ).hexdigest()[:20]
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mnist_demo"
    cache = cache_dir / f"prep-{key}.npy"
    if cache.is_file():
        return np.load(cache)
    progress(f"preprocessing {len(x)} digits as the app does (cached for next time)...")
    out = np.empty((len(x), 28, 28, 1), np.float32)
    for i, img in enumerate(x):
        out[i, ..., 0] = preprocess(img).array
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, out)
    os.replace(tmp, cache)
    return out


def augmenter(seed: int):
    """Random shape changes that real handwriting has and MNIST under-represents."""
    import tensorflow as tf
    from keras import layers

    geometric = keras.Sequential(
        [
            layers.RandomRotation(0.035, fill_mode="constant", seed=seed),  # about +-12 degrees
            layers.RandomShear(x_factor=0.2, fill_mode="constant", seed=seed + 1),
            layers.RandomZoom((-0.12, 0.08), fill_mode="constant", seed=seed + 2),
            layers.RandomTranslation(0.06, 0.06, fill_mode="constant", seed=seed + 3),
        ]
    )

    def augment(x, y):
        x = geometric(x, training=True)
        # Pen width: blend towards a 3x3 dilation (thicker) or erosion (thinner).
        thick = tf.nn.max_pool2d(x, 3, 1, "SAME")
        thin = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
        a = tf.random.uniform([tf.shape(x)[0], 1, 1, 1], -0.5, 0.6, seed=seed + 4)
        x = tf.where(a > 0, x + a * (thick - x), x + a * (x - thin))
        return tf.clip_by_value(x, 0.0, 1.0), y

    return augment


def train(
    architecture: str = "default",
    epochs: int | None = None,
    batch_size: int | None = None,
    data: str | None = None,
    subset: int | None = None,
    test_subset: int | None = None,
    out: str | os.PathLike = "runs/latest",
    logdir: str | os.PathLike = "logs/fit",
    seed: int = 0,
    on_epoch: Callable[[int, dict], None] | None = None,
    stop: threading.Event | None = None,
    verbose: int | None = None,
    progress: Callable[[str], None] = print,
    command: str | None = None,
) -> dict:
    """Train and save; return the model's JSON record (also written to out/model.json)."""
    import tensorflow as tf

    from .models import build

    recipe = dict(RECIPES[architecture])
    epochs = epochs or recipe["epochs"]
    batch_size = batch_size or recipe["batch_size"]
    keras.utils.set_random_seed(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    (x_train, y_train), (x_test, y_test) = data_mod.load_mnist(data)
    data_sha = data_mod.fingerprint(x_train, y_train, x_test, y_test)
    if subset:
        idx = np.random.default_rng(seed).permutation(len(x_train))[:subset]
        x_train, y_train = x_train[np.sort(idx)], y_train[np.sort(idx)]
    if test_subset:
        x_test, y_test = x_test[:test_subset], y_test[:test_subset]
    sample_grid(x_train[:100], y_train[:100]).save(out / "samples.png")

    xtr = prepare(x_train, recipe["preprocessing"], progress)
    xte = prepare(x_test, recipe["preprocessing"], progress)

    train_ds = tf.data.Dataset.from_tensor_slices((xtr, y_train.astype(np.int32)))
    train_ds = train_ds.shuffle(len(xtr), seed=seed).batch(batch_size)
    if recipe["augment"]:
        train_ds = train_ds.map(augmenter(seed), num_parallel_calls=tf.data.AUTOTUNE)
    train_ds = train_ds.prefetch(tf.data.AUTOTUNE)

    model = build(architecture)
    steps = epochs * -(-len(xtr) // batch_size)
    lr = recipe["learning_rate"]
    if architecture != "seed":
        lr = keras.optimizers.schedules.CosineDecay(lr * 0.1, steps, warmup_target=lr, warmup_steps=steps // 20)
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(),  # softmax output: probabilities, not logits
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )

    run_log = Path(logdir) / datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    hooks = _Hooks(on_epoch, stop)
    callbacks = [keras.callbacks.TensorBoard(log_dir=str(run_log), histogram_freq=1), hooks]

    start = time.perf_counter()
    history = model.fit(
        train_ds,
        epochs=epochs,
        validation_data=(xte, y_test),
        shuffle=False,  # the dataset is shuffled above
        callbacks=callbacks,
        verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
    )
    seconds = time.perf_counter() - start

    test_loss, test_acc = model.evaluate(xte, y_test, batch_size=512, verbose=0)
    pred = np.argmax(model.predict(xte, batch_size=512, verbose=0), axis=1)
    matrix = confusion_matrix(y_test, pred)
    per_class = {str(d): round(float(matrix[d, d] / max(matrix[d].sum(), 1)), 4) for d in range(10)}

    info = {
        "architecture": architecture,
        "parameters": int(model.count_params()),
        "preprocessing": recipe["preprocessing"],
        "augmentation": recipe["augment"],
        "epochs": epochs,
        "epochs_completed": hooks.completed,
        "batch_size": batch_size,
        "learning_rate": recipe["learning_rate"],
        "seed": seed,
        "train_samples": int(len(xtr)),
        "test_samples": int(len(xte)),
        "test_accuracy": round(float(test_acc), 5),
        "test_loss": round(float(test_loss), 5),
        "per_class_accuracy": per_class,
        "confusion_matrix": matrix.tolist(),
        "training_seconds": round(seconds, 1),
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.history.items()},
        "data": {"source": str(data or os.environ.get(data_mod.DATA_ENV) or "keras download"), "sha256": data_sha},
        "versions": _versions(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "command": command,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tensorboard_logs": str(run_log),
    }
    confusion_picture(matrix, f"{architecture}: MNIST test set").save(out / "confusion.png")
    save_model(model, info, out)
    return info


def save_model(model, info: dict, out: Path) -> None:
    """model.keras and model.json, each written to a temporary name and renamed into place."""
    tmp = out / f".model.tmp{os.getpid()}.keras"
    model.save(tmp)
    os.replace(tmp, out / "model.keras")
    tmp_json = out / f".model.tmp{os.getpid()}.json"
    tmp_json.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp_json, out / "model.json")


def _versions() -> dict:
    import PIL
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
    }


class _Hooks(keras.callbacks.Callback):
    """Report each finished epoch to a listener (the UI) and stop cleanly when asked."""

    def __init__(self, on_epoch, stop):
        super().__init__()
        self.on_epoch, self.stop = on_epoch, stop
        self.completed = 0
        self.interrupted = False  # stopped inside an epoch: that epoch does not count

    def on_train_batch_end(self, batch, logs=None):
        if self.stop is not None and self.stop.is_set():
            self.model.stop_training = True
            self.interrupted = True

    def on_epoch_end(self, epoch, logs=None):
        if self.interrupted:
            return
        self.completed = epoch + 1
        if self.on_epoch:
            self.on_epoch(epoch + 1, {k: float(v) for k, v in (logs or {}).items()})
        if self.stop is not None and self.stop.is_set():
            self.model.stop_training = True
