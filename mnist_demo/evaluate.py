"""Accuracy on MNIST and on real pen-drawn digits rendered as canvas drawings.

For each condition (canvas size, brush, placement, background) every drawing in
a stroke file is rendered as a browser canvas would, then read by:
- the served model through the app's preprocessing, and
- the blog's pipeline: its preprocessing (grey, resize the whole image to 28x28,
  invert, brighten x1.5) and its architecture ("seed", trained on raw MNIST).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageEnhance

from .pictures import confusion_matrix, confusion_picture
from .recognizer import Recognizer
from .strokes import CONDITIONS, render_condition
from .train import prepare


def blog_preprocess(image: Image.Image, invert: bool = True, bright: float = 1.5) -> np.ndarray:
    """The blog's img_pre_process: grey, resize to 28x28, invert, brighten; -> floats in [0, 1]."""
    i = image.convert("L").resize((28, 28))
    if invert:
        i = ImageChops.invert(i)
    if bright > 0:
        i = ImageEnhance.Brightness(i).enhance(factor=bright)
    return np.asarray(i, np.float32) / 255.0


def render_all(drawn: dict[int, list], condition: str, limit: int | None = None):
    images, labels = [], []
    for digit, drawings in sorted(drawn.items()):
        for k, drawing in enumerate(drawings[:limit]):
            images.append(render_condition(drawing, condition, seed=digit * 100 + k))
            labels.append(digit)
    return images, np.array(labels)


def evaluate(
    served: Recognizer,
    baseline: Recognizer | None,
    mnist_test,
    drawn: dict[int, list] | None,
    limit: int | None = None,
    mnist_limit: int | None = None,
    out: Path | None = None,
) -> list[dict]:
    """One row per condition: accuracy of the served model and of the blog's pipeline."""
    rows = []
    x_test, y_test = mnist_test
    if mnist_limit:
        x_test, y_test = x_test[:mnist_limit], y_test[:mnist_limit]
    start = time.perf_counter()
    ours = served.probabilities(prepare(x_test, "mnist_demo", progress=lambda m: None)).argmax(1)
    row = {"condition": f"MNIST test set ({len(y_test)})", "served": float((ours == y_test).mean())}
    if baseline is not None:
        row["blog"] = float((baseline.probabilities(x_test / 255.0).argmax(1) == y_test).mean())
    row["seconds"] = round(time.perf_counter() - start, 1)
    rows.append(row)

    all_true, all_pred = [], []
    for condition in CONDITIONS if drawn else []:
        start = time.perf_counter()
        images, labels = render_all(drawn, condition, limit)
        results = served.predict_many(images)
        pred = np.array([r.label if hasattr(r, "label") else -1 for r in results])
        all_true.extend(labels)
        all_pred.extend(pred)
        row = {"condition": f"{condition} ({len(labels)})", "served": float((pred == labels).mean())}
        if baseline is not None:
            x = np.stack([blog_preprocess(img) for img in images])
            row["blog"] = float((baseline.probabilities(x).argmax(1) == labels).mean())
        row["seconds"] = round(time.perf_counter() - start, 1)
        rows.append(row)

    if out is not None and all_true:
        out.mkdir(parents=True, exist_ok=True)
        matrix = confusion_matrix(np.array(all_true), np.clip(np.array(all_pred), 0, 9))
        confusion_picture(matrix, "served model: drawn digits, all conditions").save(out / "drawn-confusion.png")
        (out / "evaluation.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def table(rows: list[dict]) -> str:
    """A Markdown table, as the README shows it."""
    has_blog = any("blog" in r for r in rows)
    head = "| condition | served model |" + (" blog's pipeline |" if has_blog else "")
    line = "|---|---|" + ("---|" if has_blog else "")
    body = [
        f"| {r['condition']} | {r['served']:.2%} |" + (f" {r['blog']:.2%} |" if has_blog else "")
        for r in rows
    ]
    return "\n".join([head, line, *body])
