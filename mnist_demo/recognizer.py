"""The one place that loads a model and runs it.

A model is loaded once per process (`served()`), warmed up, and called through
a compiled tf.function: `model.predict` builds a dataset and a progress loop on
every call (~30 ms), a compiled call costs well under a millisecond.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .preprocess import ImageError, Preprocessed, preprocess

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
DEFAULT_MODEL = CHECKPOINT_DIR / "model.keras"
MODEL_ENV = "MNIST_DEMO_MODEL"
BATCH = 512


class Prediction(NamedTuple):
    label: int
    probabilities: np.ndarray  # (10,) float, sums to 1
    processed: Preprocessed  # what the model saw


class Recognizer:
    def __init__(self, model, info: dict | None = None, path: str | None = None):
        import tensorflow as tf

        self.model = model
        self.info = info or {}
        self.path = path
        # Traced once, now, not on the first request. Calling the concrete function skips
        # tf.function's argument binding on every call (~0.1 ms of the ~0.7 ms a digit costs).
        self._call = tf.function(
            lambda x: self.model(x, training=False),
            input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)],
            autograph=False,
        ).get_concrete_function()
        self.probabilities(np.zeros((1, 28, 28), np.float32))  # warm up

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(N, 28, 28) or (N, 28, 28, 1) floats in [0, 1] -> (N, 10) probabilities."""
        import tensorflow as tf  # loaded by __init__ already; not at the top, so the module stays cheap to import

        x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
        batches = [x] if len(x) <= BATCH else [x[i:i + BATCH] for i in range(0, len(x), BATCH)]
        return np.concatenate([self._call(tf.constant(b)).numpy() for b in batches])

    def predict(self, image) -> Prediction:
        """Any image the preprocessing takes -> Prediction. Raises ImageError on bad input."""
        processed = preprocess(image)
        p = self.probabilities(processed.array[None])[0]
        return Prediction(int(p.argmax()), p, processed)

    def predict_many(self, images) -> list[Prediction | ImageError]:
        """Many images, one batched model call; a bad image yields its ImageError in its place."""
        results: list[Prediction | ImageError | Preprocessed] = []
        for image in images:
            try:
                results.append(preprocess(image))
            except ImageError as exc:
                results.append(exc)
        good = [i for i, r in enumerate(results) if isinstance(r, Preprocessed)]
        if good:
            probs = self.probabilities(np.stack([results[i].array for i in good]))
            for i, p in zip(good, probs):
                results[i] = Prediction(int(p.argmax()), p, results[i])
        return results


def resolve(path: str | os.PathLike | None = None) -> Path:
    """--model PATH (or hf://OWNER/NAME), else MNIST_DEMO_MODEL, else the committed checkpoint."""
    spec = str(path or os.environ.get(MODEL_ENV) or DEFAULT_MODEL)
    if spec.startswith("hf://"):
        from .hub import pull  # through huggingface_hub's cache; raises HubError with a clear message

        return pull(spec)
    path = Path(spec)
    if path.is_dir():
        path = path / "model.keras"
    if not path.is_file():
        raise FileNotFoundError(
            f"no model at {path}: train one with `python -m mnist_demo train` or pass --model PATH"
        )
    return path


def load(path: str | os.PathLike | None = None) -> Recognizer:
    import keras

    path = resolve(path)
    model = keras.models.load_model(path, safe_mode=True)  # weights and config only, no code
    return Recognizer(model, read_info(path), str(path))


def read_info(model_path: str | os.PathLike) -> dict:
    """The JSON beside a model (how it was trained, what it scored), or {} if there is none."""
    info_path = Path(model_path).with_suffix(".json")
    return json.loads(info_path.read_text()) if info_path.is_file() else {}


@functools.lru_cache(maxsize=4)
def served(path: str | None = None) -> Recognizer:
    """The process-wide recognizer for a path: loaded and warmed up once, shared by all callers."""
    return load(path)
