"""Write a static site that reads digits in the browser with TensorFlow.js, no server behind it.

    python -m mnist_demo export-web OUTDIR [--model PATH]

The site: index.html, app.js, preprocess.js, style.css, preprocess.json (the
same constants the Python preprocessing reads), the served model in
TensorFlow.js's layers-model format (model/model.json + one weight shard), and
tf.min.js and the WebAssembly backend copied from the npm packages @tensorflow/tfjs
and @tensorflow/tfjs-backend-wasm (package.json pins them; `npm install` fetches
them), so the page works offline and from any static host.

Conversion route: the `tensorflowjs` pip converter needs tf-keras, JAX, Flax and
TensorFlow Decision Forests, which do not install beside TensorFlow 2.21 and
Keras 3, so this module writes TensorFlow.js's documented layers-model format
itself: a Keras-2-style topology for the chain of layers our architectures
use, and the weights as little-endian float32 in one shard.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TFJS_NPM = ROOT / "node_modules" / "@tensorflow" / "tfjs"
WASM_NPM = ROOT / "node_modules" / "@tensorflow" / "tfjs-backend-wasm" / "dist"
WASM_FILES = ("tf-backend-wasm.min.js", "tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm",
              "tfjs-backend-wasm-threaded-simd.wasm")
PAGE_FILES = ("index.html", "app.js", "preprocess.js", "style.css")


class ExportError(RuntimeError):
    """The export cannot be written; the message says what is missing."""


def _layer_config(layer, first: bool) -> dict:
    """One Keras 3 layer -> the Keras-2-style {class_name, config} that tfjs-layers deserializes."""
    kind = type(layer).__name__
    cfg = layer.get_config()
    out: dict = {"name": layer.name, "trainable": True, "dtype": "float32"}
    if first:
        out["batch_input_shape"] = [None, 28, 28, 1]
    if kind == "Conv2D":
        out.update(filters=cfg["filters"], kernel_size=list(cfg["kernel_size"]), strides=list(cfg["strides"]),
                   padding=cfg["padding"], data_format="channels_last", dilation_rate=list(cfg["dilation_rate"]),
                   activation=cfg["activation"], use_bias=cfg["use_bias"])
    elif kind == "BatchNormalization":
        axis = cfg["axis"][0] if isinstance(cfg["axis"], (list, tuple)) else cfg["axis"]
        out.update(axis=axis, momentum=cfg["momentum"], epsilon=cfg["epsilon"], center=cfg["center"],
                   scale=cfg["scale"])
    elif kind == "ReLU":
        out.update(max_value=cfg.get("max_value"))
    elif kind == "MaxPooling2D":
        out.update(pool_size=list(cfg["pool_size"]), strides=list(cfg["strides"]), padding=cfg["padding"],
                   data_format="channels_last")
    elif kind == "Flatten":
        out.update(data_format="channels_last")
    elif kind == "Dropout":
        out.update(rate=cfg["rate"])
    elif kind == "Dense":
        out.update(units=cfg["units"], activation=cfg["activation"], use_bias=cfg["use_bias"])
    else:
        raise ExportError(f"layer {layer.name} ({kind}) has no TensorFlow.js mapping here")
    return {"class_name": kind, "config": out}


def model_to_tfjs(model, out: Path) -> Path:
    """Write model.json (layers-model topology + weights manifest) and one .bin shard."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    # Our architectures are chains: each layer feeds the next, so a Sequential topology describes them.
    topology = {
        "class_name": "Sequential",
        "config": {"name": model.name, "layers": [_layer_config(layer, i == 0) for i, layer in enumerate(layers)]},
        "keras_version": "2.15.0",
        "backend": "tensorflow",
    }
    specs, blobs = [], []
    for layer in layers:
        for weight in layer.weights:
            value = np.asarray(weight.numpy(), dtype="<f4")
            specs.append({"name": f"{layer.name}/{weight.name.split('/')[-1]}", "shape": list(value.shape),
                          "dtype": "float32"})
            blobs.append(value.tobytes())
    out.mkdir(parents=True, exist_ok=True)
    shard = "group1-shard1of1.bin"
    (out / shard).write_bytes(b"".join(blobs))
    manifest = {
        "format": "layers-model",
        "generatedBy": f"keras {keras.__version__}",
        "convertedBy": "mnist_demo export-web",
        "modelTopology": topology,
        "weightsManifest": [{"paths": [shard], "weights": specs}],
    }
    (out / "model.json").write_text(json.dumps(manifest))
    return out / "model.json"


def tfjs_library(tfjs: str | Path | None = None) -> Path | None:
    path = Path(tfjs) if tfjs else TFJS_NPM / "dist" / "tf.min.js"
    return path if path.is_file() else None


def export(outdir: str | Path, model: str | Path | None = None, tfjs: str | Path | None = None,
           recognizer=None) -> Path:
    """Write the site to outdir; `recognizer` (already loaded) saves loading the model again."""
    from ..preprocess import CONFIG_PATH
    from ..recognizer import load

    tf_min = tfjs_library(tfjs)
    if tf_min is None:
        raise ExportError(f"TensorFlow.js not found: run `npm install` in {ROOT} (package.json pins it), or pass --tfjs")
    recognizer = recognizer or load(model)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name in PAGE_FILES:
        shutil.copyfile(HERE / name, out / name)
    shutil.copyfile(CONFIG_PATH, out / "preprocess.json")
    shutil.copyfile(tf_min, out / "tf.min.js")
    # The WebAssembly backend (SIMD) runs this small CNN several times faster than WebGL or plain JS.
    for name in WASM_FILES:
        if not (WASM_NPM / name).is_file():
            raise ExportError(f"{WASM_NPM / name} is missing: run `npm install` in {ROOT}")
        shutil.copyfile(WASM_NPM / name, out / name)
    model_to_tfjs(recognizer.model, out / "model")
    info = {k: recognizer.info.get(k) for k in ("architecture", "parameters", "test_accuracy")}
    (out / "model" / "info.json").write_text(json.dumps(info) + "\n")
    return out
