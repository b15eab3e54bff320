"""Reference servers for the load benchmark, with app.py's /predict components.

    python benchmarks/reference_app.py --mode noop --port 7870   # Gradio's floor: returns a fixed answer
    python benchmarks/reference_app.py --mode blog --port 7871   # the blog's serving path

noop: no model, no preprocessing, the same input and output components and
serving settings (mnist_demo.ui.queue_requests) as the app's /predict, so the
difference to app.py is the cost of the real work.
blog: the blog's preprocessing (grey, resize to 28x28, invert, brighten) and
model.predict per request on its own network (checkpoints/seed).
busy: the no-op app plus --busy-ms of CPU a request in C code that releases
Python's GIL (SHA-256 of a block sized for it at start): what any work costs
when it leaves the GIL to Gradio's own thread, for comparison with app.py's
worker (~4 ms of CPU a request, in its own process).
"""

import argparse
import hashlib
import sys
import time
from pathlib import Path

import gradio as gr
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mnist_demo.serving import processed_file  # noqa: E402
from mnist_demo.ui import ImagePath, queue_requests  # noqa: E402


def build(mode: str, busy_ms: float = 4.0) -> gr.Blocks:
    if mode in ("noop", "busy"):
        fixed_label = {str(d): 0.1 for d in range(10)}
        fixed_image = processed_file(Image.new("L", (28, 28)))
        block = _block_for(busy_ms) if mode == "busy" else b""

        def noop(path):
            return fixed_label, fixed_image

        def busy(path):
            hashlib.sha256(block).digest()  # hashlib lets go of the GIL for large inputs
            return noop(path)

        predict = busy if mode == "busy" else noop
    else:
        import numpy as np

        from mnist_demo.evaluate import blog_preprocess
        from mnist_demo.recognizer import CHECKPOINT_DIR, load

        model = load(CHECKPOINT_DIR / "seed" / "model.keras").model

        def predict(path):
            x = blog_preprocess(Image.open(path))
            p = model.predict(x[None, ..., None], verbose=0)[0]
            shown = Image.fromarray((x * 255).clip(0, 255).astype(np.uint8))
            return {str(d): float(v) for d, v in enumerate(p)}, processed_file(shown)

    with gr.Blocks(title=f"reference: {mode}") as demo:
        image = ImagePath(type="filepath", image_mode=None)
        label = gr.Label(num_top_classes=10)
        processed = gr.Image(type="filepath", format="png")
        gr.Button().click(predict, image, [label, processed], api_name="predict")
    return queue_requests(demo)


def _block_for(ms: float) -> bytes:
    """Bytes whose SHA-256 takes about `ms` milliseconds of CPU here (timed at start)."""
    probe = bytes(4_000_000)
    start = time.process_time()
    for _ in range(5):
        hashlib.sha256(probe).digest()
    per_byte = (time.process_time() - start) / (5 * len(probe))
    return bytes(int(ms / 1e3 / per_byte))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["noop", "blog", "busy"], default="noop")
    parser.add_argument("--port", type=int, default=7870)
    parser.add_argument("--busy-ms", type=float, default=4.0, help="CPU a request for --mode busy")
    args = parser.parse_args()
    build(args.mode, args.busy_ms).launch(server_name="127.0.0.1", server_port=args.port, show_error=True)
