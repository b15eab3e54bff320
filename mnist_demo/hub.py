"""The model on the Hugging Face Hub: a model card, push, and pull through huggingface_hub's cache.

    python -m mnist_demo hub push OWNER/NAME [--private] [--dry-run]
    python -m mnist_demo hub pull OWNER/NAME            # or --model hf://OWNER/NAME anywhere
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from .recognizer import DEFAULT_MODEL

HF_PREFIX = "hf://"
FILES = ("model.keras", "model.json", "confusion.png")  # what a pull needs; samples.png is optional


class HubError(RuntimeError):
    """The Hub could not do what was asked; the message says why and what to do."""


def parse(spec: str) -> tuple[str, str | None]:
    """'hf://OWNER/NAME[@REVISION]' or 'OWNER/NAME' -> (repo_id, revision)."""
    spec = spec[len(HF_PREFIX):] if spec.startswith(HF_PREFIX) else spec
    repo_id, _, revision = spec.partition("@")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise HubError(f"{spec!r} is not a model repository id: use OWNER/NAME")
    return repo_id, revision or None


def model_card(info: dict, repo_id: str) -> str:
    """README.md for the Hub: metadata (library, tags, dataset, model-index from the JSON) and usage."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    data = ModelCardData(
        library_name="keras",
        license="mit",
        tags=["keras", "tensorflow", "image-classification", "mnist", "handwritten-digits"],
        datasets=["mnist"],
        metrics=["accuracy"],
        pipeline_tag="image-classification",
        model_name=repo_id.split("/")[1],
        eval_results=[
            EvalResult(
                task_type="image-classification",
                task_name="Handwritten digit classification",
                dataset_type="mnist",
                dataset_name="MNIST",
                dataset_split="test",
                metric_type="accuracy",
                metric_name="Test accuracy",
                metric_value=info["test_accuracy"],
            )
        ],
    )
    per_class = ", ".join(f"{d}: {a:.2%}" for d, a in info.get("per_class_accuracy", {}).items())
    content = f"""---
{data.to_yaml()}
---

# {repo_id.split("/")[1]}: a small CNN that reads handwritten digits

A Keras model ({info['architecture']} architecture, {info['parameters']:,} parameters) trained on MNIST
for the "Draw a digit" demo. It reads **{info['test_accuracy']:.2%}** of MNIST's {info['test_samples']:,}
test digits (after the demo's preprocessing), and real pen-drawn digits drawn on a canvas as well:
crop, 20 px box, MNIST-like stroke width, centre of mass in 28x28 (`preprocess.py` and its constants
`preprocess.json` are included).

Per-class accuracy: {per_class}.

![confusion matrix](confusion.png)

![the first 100 training digits](samples.png)

## Use

```python
import keras, numpy as np
from huggingface_hub import hf_hub_download

model = keras.models.load_model(hf_hub_download("{repo_id}", "model.keras"))
x = np.zeros((1, 28, 28, 1), "float32")  # white ink on black, values in [0, 1], as MNIST
print(model(x, training=False).numpy().argmax())
```

For arbitrary pictures (any size, dark or light ink, transparent canvases) put them through
`preprocess.py` first, or use the demo's CLI: `python -m mnist_demo predict --model hf://{repo_id} digit.png`.

## Training

{info['epochs_completed']} epochs, batch {info['batch_size']}, on {info['train_samples']:,} MNIST training digits
passed through the same preprocessing, with augmentation: {'yes' if info.get('augmentation') else 'no'};
{info['training_seconds'] / 60:.1f} minutes on {info.get('machine', 'a CPU')}.
Command: `{info.get('command') or 'n/a'}`. Libraries: {json.dumps(info.get('versions', {}))}.
Data sha256: `{info.get('data', {}).get('sha256', '?')}`.
"""
    ModelCard(content)  # validates that the front matter parses
    return content


def build_folder(model: str | Path | None, out: Path, repo_id: str) -> Path:
    """Everything a push uploads, in one folder: model, JSON, pictures, preprocessing, card."""
    model = Path(model or DEFAULT_MODEL)
    info_path = model.with_suffix(".json")
    if not model.is_file() or not info_path.is_file():
        raise HubError(f"{model} and its .json are needed to build the model card")
    info = json.loads(info_path.read_text())
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, out / "model.keras")
    shutil.copyfile(info_path, out / "model.json")
    for picture in ("confusion.png", "samples.png"):
        if (model.parent / picture).is_file():
            shutil.copyfile(model.parent / picture, out / picture)
    if not (out / "samples.png").is_file():  # not committed (dataset images): drawn from MNIST when at hand
        try:
            from .data import load_mnist
            from .pictures import sample_grid

            (x_train, y_train), _ = load_mnist()
            sample_grid(x_train[:100], y_train[:100]).save(out / "samples.png")
        except Exception:  # offline without a local copy: the card goes without it
            pass
    here = Path(__file__).parent
    shutil.copyfile(here / "preprocess.py", out / "preprocess.py")
    shutil.copyfile(here / "preprocess.json", out / "preprocess.json")
    (out / "README.md").write_text(model_card(info, repo_id))
    return out


def push(repo_id: str, model=None, private: bool = False, dry_run: bool = False, token: str | None = None) -> str:
    """Upload the served checkpoint with its card. Returns the repository URL (or the folder, dry run)."""
    from huggingface_hub import HfApi, get_token

    repo_id, _ = parse(repo_id)
    folder = build_folder(model, Path(tempfile.mkdtemp(prefix="mnist_demo_hub_")), repo_id)
    if dry_run:
        return str(folder)
    token = token or get_token()
    if not token:
        raise HubError("no Hugging Face token: set HF_TOKEN or log in with `hf auth login`, then push again")
    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="Upload the served MNIST model")
    except Exception as exc:  # network, permissions, bad token: one clear line
        raise HubError(f"could not upload to {repo_id}: {type(exc).__name__}: {exc}") from None
    return str(url)


def pull(spec: str) -> Path:
    """hf://OWNER/NAME -> local path of model.keras in huggingface_hub's cache (works offline once cached)."""
    from huggingface_hub import hf_hub_download

    repo_id, revision = parse(spec)
    try:
        path = Path(hf_hub_download(repo_id, "model.keras", revision=revision))
    except Exception as exc:
        raise HubError(
            f"could not fetch {HF_PREFIX}{repo_id}: the Hub cannot be reached and the model is not in "
            f"the local cache ({type(exc).__name__}). Connect once, or use a local --model PATH."
        ) from None
    for extra in FILES[1:]:  # the card's JSON and picture land beside it; a model works without them
        try:
            hf_hub_download(repo_id, extra, revision=revision)
        except Exception:
            pass
    return path
