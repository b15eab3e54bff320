"""In-process speed: preprocessing + model for one drawing, the model alone, batches.

    python benchmarks/inprocess.py [--repeat 300]

Everything is timed in this process on one 800x800 RGBA canvas drawing (a
transparent background with a black digit, as the Sketchpad sends it), drawn
from strokes defined in mnist_demo/examples.py, so no dataset is needed.
The blog's serving path (its preprocessing and model.predict per request, on
its own architecture) is timed in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# As app.py serves (mnist_demo/ui.py): one intra-op thread per call, requests in parallel.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_demo.evaluate import blog_preprocess  # noqa: E402
from mnist_demo.examples import SHAPES  # noqa: E402
from mnist_demo.preprocess import preprocess  # noqa: E402
from mnist_demo.recognizer import CHECKPOINT_DIR, load  # noqa: E402
from mnist_demo.strokes import fit, render  # noqa: E402


def timed(fn, repeat: int) -> dict:
    for _ in range(min(20, repeat)):
        fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))]}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--batch", type=int, default=2000, help="digits in the batch-throughput runs")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    strokes = [[[x * 6, y * 6] for x, y in s] for s in SHAPES[3]]
    canvas = np.asarray(render(fit(strokes, 520, (400, 400)), (800, 800), brush=22, transparent=True))
    served = load()
    baseline = load(CHECKPOINT_DIR / "seed" / "model.keras")
    x1 = preprocess(canvas).array[None, ..., None]
    rng = np.random.default_rng(0)
    batch = rng.random((args.batch, 28, 28, 1), dtype=np.float32)

    results = {
        "preprocess (800x800 RGBA)": timed(lambda: preprocess(canvas), args.repeat),
        "model, compiled call (1 digit)": timed(lambda: served.probabilities(x1), args.repeat),
        "preprocess + model (the app's path)": timed(lambda: served.predict(canvas), args.repeat),
        "model.predict (1 digit)": timed(lambda: served.model.predict(x1, verbose=0), max(20, args.repeat // 10)),
        "blog's path: its preprocessing + model.predict": timed(
            lambda: baseline.model.predict(blog_preprocess_from_array(canvas)[None, ..., None], verbose=0),
            max(20, args.repeat // 10),
        ),
    }
    t = time.perf_counter()
    served.probabilities(batch)
    results["batched model, digits/s"] = {"per_s": args.batch / (time.perf_counter() - t)}
    images = [canvas] * min(args.batch, 500)
    t = time.perf_counter()
    served.predict_many(images)
    results["batched preprocess + model (800x800), digits/s"] = {"per_s": len(images) / (time.perf_counter() - t)}

    results.update(sketchpad_reading(canvas, max(20, args.repeat // 10)))
    results.update(monitoring_summary(max(10, args.repeat // 30)))

    w = max(map(len, results))
    print(f"{'path':{w}} {'median':>10} {'p99':>10}")
    for name, r in results.items():
        if "per_s" in r:
            print(f"{name:{w}} {r['per_s']:>10.0f} /s")
        else:
            print(f"{name:{w}} {r['median_ms']:>8.2f}ms {r['p99_ms']:>8.2f}ms")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


def sketchpad_reading(canvas: np.ndarray, repeat: int) -> dict:
    """Gradio's Sketchpad input step against the app's DrawingPad, on what the page sends for each
    stroke: a white background, the drawn layer and their composite, as 420x420 PNG files."""
    import tempfile

    import gradio as gr
    from gradio.components.image_editor import EditorData
    from gradio.data_classes import FileData
    from PIL import Image

    from mnist_demo.ui import CANVAS, DrawingPad

    with tempfile.TemporaryDirectory() as folder:
        layer = Image.fromarray(canvas).resize((CANVAS, CANVAS))
        background = Image.new("RGBA", layer.size, "white")
        files = {"background.png": background, "layer.png": layer,
                 "composite.png": Image.alpha_composite(background, layer)}
        for name, image in files.items():
            image.save(Path(folder) / name)
        payload = EditorData(background=FileData(path=f"{folder}/background.png"),
                             layers=[FileData(path=f"{folder}/layer.png")],
                             composite=FileData(path=f"{folder}/composite.png"))
        gradios, ours = gr.Sketchpad(type="numpy", image_mode="RGBA"), DrawingPad(type="numpy", image_mode="RGBA")
        return {
            "Gradio's Sketchpad input step (420x420, 3 images)": timed(lambda: gradios.preprocess(payload), repeat),
            "the app's DrawingPad input step (the composite's path, decoded by the worker)": timed(lambda: ours.preprocess(payload), repeat),
        }


def monitoring_summary(repeat: int) -> dict:
    """What Gradio's queue does after every request unless told otherwise: recompute its
    /monitoring summary, a pandas DataFrame of the requests recorded so far (up to 10,000).
    The app asks for it every 100th request (mnist_demo.ui.queue_requests)."""
    import gradio as gr

    with gr.Blocks() as demo:
        gr.Markdown()
    queue = demo.queue()._queue  # the queue object Gradio serves with, its own method timed
    results = {}
    for n in (1_000, 10_000):
        records = [{"time": float(i), "status": "success", "process_time": 0.003, "function": "predict",
                    "session_hash": str(i % 50)} for i in range(n)]

        def after_a_request(records=records):
            queue.events_recorded += queue.ANAYLTICS_CACHE_FREQUENCY  # (sic) due now, as after every request by default
            queue.compute_analytics_summary(records)

        results[f"Gradio's monitoring summary, {n:,} requests recorded"] = timed(after_a_request, repeat)
    return results


def blog_preprocess_from_array(rgba: np.ndarray) -> np.ndarray:
    from PIL import Image

    return blog_preprocess(Image.fromarray(rgba))


if __name__ == "__main__":
    main()
