import json

import numpy as np
from PIL import Image

from mnist_demo.recognizer import load


def test_short_training_learns_and_writes_everything(small_run):
    out, info = small_run
    model_dir = out / "model"
    assert info["test_accuracy"] >= 0.90, info["test_accuracy"]
    assert info["train_samples"] == 3000 and info["test_samples"] == 1000

    saved = json.loads((model_dir / "model.json").read_text())
    for key in ("architecture", "parameters", "epochs", "batch_size", "test_accuracy", "test_loss",
                "training_seconds", "versions", "per_class_accuracy"):
        assert key in saved, key
    assert saved["test_accuracy"] == info["test_accuracy"]
    assert len(saved["data"]["sha256"]) == 64
    assert set(saved["versions"]) >= {"tensorflow", "keras", "numpy"}
    assert len(saved["per_class_accuracy"]) == 10

    assert Image.open(model_dir / "samples.png").size[0] > 280
    assert Image.open(model_dir / "confusion.png").size[0] > 200
    assert (model_dir / "model.keras").stat().st_size > 100_000
    assert not list(model_dir.glob(".model.tmp*")), "temporary files left behind"

    runs = list((out / "logs").iterdir())
    assert len(runs) == 1
    assert list(runs[0].rglob("events.out.tfevents.*")), "no TensorBoard events written"


def test_saved_model_reloads_safely_and_predicts_the_same(small_run, mnist):
    import keras

    out, _ = small_run
    (_, _), (x_test, _) = mnist
    x = (x_test[:64].astype("float32") / 255.0)[..., None]
    model = keras.models.load_model(out / "model" / "model.keras", safe_mode=True)
    again = load(out / "model" / "model.keras")
    np.testing.assert_allclose(again.probabilities(x), np.asarray(model(x, training=False)), atol=1e-5)
    assert again.info["architecture"] == "default"


def test_epoch_hook_and_stop(tmp_path, mnist_path):
    """The UI's hooks: each epoch is reported, and setting the stop event ends training cleanly."""
    import threading

    from mnist_demo.train import train

    stop = threading.Event()
    seen = []

    def on_epoch(epoch, logs):
        seen.append((epoch, logs))
        stop.set()

    info = train(architecture="seed", epochs=3, data=str(mnist_path), subset=600, test_subset=200,
                 out=tmp_path / "m", logdir=tmp_path / "logs", on_epoch=on_epoch, stop=stop, verbose=0,
                 progress=lambda m: None)
    assert [e for e, _ in seen] == [1]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(seen[0][1])
    assert info["epochs_completed"] == 1 and info["epochs"] == 3
