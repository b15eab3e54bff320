"""The Gradio page: Draw, Upload, Train and About tabs, and their handlers.

A drawing travels: Sketchpad dict (the composite's file path) -> read_drawing
-> the worker process (serving.py: preprocess -> recognizer) -> Label + the
28x28 image the model saw. This module never touches Keras: it asks `serving`
to answer and `train` to train.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import tempfile
import threading
from pathlib import Path

# One request is one digit: TensorFlow's thread pool costs more than it gains on a model this
# small (0.8 ms instead of 1.2 ms a call here). Set before TensorFlow loads: in the worker
# process (which inherits it) or, with --in-process, here.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import recognizer as rec  # noqa: E402
from .examples import example_files  # noqa: E402
from .preprocess import BlankImageError, ImageError  # noqa: E402
from .serving import Answer, InProcess, PredictionWorker, WorkerError  # noqa: E402

CANVAS = 420  # px, square; shown whole (not zoomed) on desktop and phone
CONCURRENT_REQUESTS = 4  # per event; also the worker's pipes (each waiting request holds one)
BRUSH = 10  # Gradio brush size (a radius): strokes about 20 px wide on the 420 px canvas, like a marker
BLANK_MESSAGE = "Draw a digit (0-9) on the canvas: the answer updates as you draw."

CSS = """
/* the 28x28 the model saw, enlarged with crisp pixels */
#processed img, #processed-upload img { width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated; }
#sketchpad { max-width: 100%; }
"""

# Gradio 6's Sketchpad starts with no tool selected ("select the draw tool to
# start") and its trash button drops the tool again. Select the brush on load
# and whenever the canvas is emptied, so the page is ready to draw.
SELECT_BRUSH_JS = """
() => {
  const pick = () => {
    const btn = document.querySelector('#sketchpad button[aria-label="Brush"]');
    if (!btn) return false;
    if (!btn.classList.contains('highlight')) btn.click();  // clicking the active tool would toggle nothing useful
    return true;
  };
  window.__mnistPickBrush = pick;
  let tries = 0;
  const timer = setInterval(() => { if (pick() || ++tries > 50) clearInterval(timer); }, 100);
  if (!window.__mnistBrushObserver) {
    // The canvas's own trash button drops the tool: when its prompt appears, pick the brush again.
    window.__mnistBrushObserver = new MutationObserver(() => {
      const root = document.querySelector('#sketchpad');
      if (root && /select the draw tool/i.test(root.innerText)) pick();
    });
    window.__mnistBrushObserver.observe(document.body, {subtree: true, childList: true, characterData: true});
  }
}
"""

# Clear in the browser: press the canvas's own trash button (no server round trip, so the
# canvas never shows a "processing" overlay), then pick the brush again.
CLEAR_JS = """
() => {
  const trash = document.querySelector('#sketchpad button[aria-label="Clear canvas"]');
  if (trash) trash.click();
  setTimeout(() => window.__mnistPickBrush && window.__mnistPickBrush(), 50);
  setTimeout(() => window.__mnistPickBrush && window.__mnistPickBrush(), 300);
  return [];
}
"""


class Served:
    """The model every request uses. Swapped as a whole, so all users see the change at once.

    `backend` answers: with worker=True (the app) a PredictionWorker, whose process
    loads the model while this one keeps only its path and JSON; otherwise
    InProcess, the model loaded here. Both take the same calls (serving.py).
    """

    def __init__(self, path: str | None, worker: bool = False):
        from .hub import HubError

        self.note = ""
        try:
            model_path = rec.resolve(path)
        except HubError as exc:  # the Hub is out of reach: serve the bundled model and say so
            self.note = f"{exc} Serving the bundled checkpoint instead."
            print(f"warning: {self.note}", flush=True)
            model_path = rec.resolve(None)
        self.path, self.info = str(model_path), rec.read_info(model_path)
        worker = worker and os.name == "posix"  # the worker's pipes are handed over as file descriptors
        self.backend = PredictionWorker(model_path, slots=CONCURRENT_REQUESTS) if worker else InProcess(model_path)

    def answer(self, source) -> Answer:
        """An image (path or array) -> Answer."""
        return self.backend.answer(source)

    def warm_up(self, source) -> None:
        """Answer once, so the first visitor finds the whole path warm (waits for the worker to start).
        If the worker cannot answer, the model is loaded here and requests are answered here."""
        try:
            self.answer(source)
        except WorkerError as exc:
            print(f"warning: the prediction worker did not start ({exc}); answering in the server process",
                  flush=True)
            self.backend.close()
            self.backend = InProcess(self.path)

    def swap(self, path: str) -> None:
        self.backend.load(path)
        self.path, self.info = path, rec.read_info(path)


def read_drawing(value):
    """The Sketchpad's dict -> its composite (a file path from DrawingPad, or an RGBA array), or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("composite")
        if value is None:
            return None
    return value if isinstance(value, str) else np.asarray(value)


def _label_and_image(result: Answer):
    return result.as_dict(), result.image


def predict_drawing(served: Served, value):
    """Handler for the canvas: (label, processed image, message); never raises on a blank canvas."""
    image = read_drawing(value)
    if image is None:
        return None, None, BLANK_MESSAGE
    try:
        result = served.answer(image)
    except BlankImageError:
        return None, None, BLANK_MESSAGE
    except (ImageError, WorkerError) as exc:
        return None, None, f"Could not read the drawing: {exc}"
    p = result.probabilities[result.label]
    return *_label_and_image(result), f"Looks like a **{result.label}** ({p:.1%} sure)."


def predict_file(served: Served, path):
    """Handler for uploads and the /predict API: an image file -> (label, processed image).

    Bad input raises gr.Error with a message for a person; the app keeps serving.
    """
    if not path:
        raise gr.Error("No image: upload a picture of a digit.")
    try:
        result = served.answer(path)  # preprocess opens it, header checked first
    except BlankImageError:
        raise gr.Error("The image is blank: there is no digit to read.") from None
    except (ImageError, WorkerError) as exc:
        raise gr.Error(str(exc).replace(str(path), Path(path).name)) from None
    return _label_and_image(result)


class ImagePath(gr.Image):
    """gr.Image that hands the handler the uploaded file's path without decoding it.

    Gradio's own Image would open the upload first, so a non-image or a
    20000x20000 picture would fail inside Gradio with a generic error; the
    preprocessing's open_image checks the header first and says what is wrong.
    (Gradio writes a ui.pyi type stub beside this file for any component class; git ignores it.)
    """

    is_template = True

    def preprocess(self, payload):
        return None if payload is None else str(payload.path)


class DrawingPad(gr.Sketchpad):
    """gr.Sketchpad that hands the handler the composite's file path, decoding nothing.

    The page sends the background, the drawn layer and their composite with every
    stroke; Gradio's Sketchpad decodes all three in the web server (5.0 ms for a
    420 px canvas here: benchmarks/inprocess.py). The composite is the one image
    the handler reads, and the worker process decodes it.
    """

    is_template = True

    def get_block_name(self) -> str:
        return "imageeditor"  # the page draws it as Gradio's Sketchpad does (a template of ImageEditor)

    get_block_class = get_block_name

    def preprocess(self, payload):
        if payload is not None and payload.id is None:  # (with an id, the images come from Gradio's blob store)
            composite = payload.composite.path if payload.composite is not None else None
            return {"background": None, "layers": [], "composite": composite and str(composite)}
        return super().preprocess(payload)


# ---------------------------------------------------------------------------
# Training, one at a time for the whole process


class Trainer:
    def __init__(self, served: Served):
        self.served = served
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.result: dict | None = None  # the last finished run: info and where its model is

    def run(self, architecture, epochs, subset, progress=gr.Progress()):
        """Generator: start a training in a thread and stream its epochs to the page."""
        from .train import train  # imported on first use: serving does not need it

        if not self.lock.acquire(blocking=False):
            raise gr.Error("A training is already running (one at a time, for everyone): wait or press Stop.")
        try:
            epochs, subset = int(epochs), int(subset)
            out = Path(tempfile.mkdtemp(prefix="mnist_demo_train_"))
            events: queue.Queue = queue.Queue()
            self.stop.clear()
            rows: list[dict] = []
            log = [f"Training {architecture} for {epochs} epochs on {subset} MNIST samples..."]

            def work():
                try:
                    info = train(architecture=architecture, epochs=epochs, subset=subset, test_subset=2000,
                                 out=out, logdir=out / "logs", on_epoch=lambda e, logs: events.put(("epoch", e, logs)),
                                 stop=self.stop, verbose=0, progress=lambda msg: events.put(("note", msg)))
                    events.put(("done", info))
                except Exception as exc:  # shown in the page, never kills the server
                    events.put(("error", f"{type(exc).__name__}: {exc}"))

            threading.Thread(target=work, daemon=True, name="training").start()
            progress(0, desc="preparing data")
            yield self._view(rows, log)
            while True:
                kind, *payload = events.get()
                if kind == "note":
                    log.append(payload[0])
                elif kind == "epoch":
                    epoch, logs = payload
                    for series, key in (("train loss", "loss"), ("val loss", "val_loss"),
                                        ("train accuracy", "accuracy"), ("val accuracy", "val_accuracy")):
                        if key in logs:
                            rows.append({"epoch": epoch, "value": round(logs[key], 4), "series": series})
                    log.append(f"epoch {epoch}/{epochs}: loss {logs.get('loss', 0):.4f}, accuracy {logs.get('accuracy', 0):.4f}, "
                               f"val loss {logs.get('val_loss', 0):.4f}, val accuracy {logs.get('val_accuracy', 0):.4f}")
                    progress(epoch / epochs, desc=f"epoch {epoch} of {epochs}")
                elif kind == "error":
                    log.append(f"Training failed: {payload[0]}")
                    yield self._view(rows, log)
                    return
                elif kind == "done":
                    info = payload[0]
                    self.result = {"info": info, "path": str(out / "model.keras")}
                    stopped = " (stopped early)" if info["epochs_completed"] < info["epochs"] else ""
                    log.append(f"Done{stopped}: test accuracy {info['test_accuracy']:.2%} in {info['training_seconds']:.0f} s.")
                    yield self._view(rows, log, comparison=self._comparison(info), can_serve=True)
                    return
                yield self._view(rows, log)
        finally:
            self.lock.release()

    def _view(self, rows, log, comparison="", can_serve=False):
        frame = pd.DataFrame(rows, columns=["epoch", "value", "series"]).astype({"epoch": int, "value": float})
        loss = frame[frame.series.str.endswith("loss")]
        accuracy = frame[frame.series.str.endswith("accuracy")]
        ready = gr.update(interactive=can_serve)
        return loss, accuracy, "\n".join(log), comparison, ready, ready

    def _comparison(self, info) -> str:
        current = self.served.info
        return (
            "| | served model | new model |\n|---|---|---|\n"
            f"| architecture | {current.get('architecture', '?')} | {info['architecture']} |\n"
            f"| test accuracy | {current.get('test_accuracy', float('nan')):.2%} on {current.get('test_samples', '?')} "
            f"| {info['test_accuracy']:.2%} on {info['test_samples']} |\n"
            f"| trained on | {current.get('train_samples', '?')} samples, {current.get('epochs_completed', current.get('epochs', '?'))} epochs "
            f"| {info['train_samples']} samples, {info['epochs_completed']} epochs |\n\n"
            "The served model changes only if you press **Serve the new model**."
        )

    def request_stop(self):
        self.stop.set()
        return "Stopping after the current batch..."

    def serve_new(self, save: bool):
        if not self.result:
            raise gr.Error("No finished training to serve yet.")
        path = self.result["path"]
        self.served.swap(path)
        message = f"Now serving the new model ({self.result['info']['test_accuracy']:.2%} on the test subset) to everyone."
        if save:
            target = rec.CHECKPOINT_DIR
            target.mkdir(exist_ok=True)
            for name in ("model.keras", "model.json", "confusion.png"):
                tmp = target / f".{name}.incoming"
                shutil.copyfile(Path(path).with_name(name), tmp)
                os.replace(tmp, target / name)
            message += f" Saved to {target}/."
        return message, about_markdown(self.served), str(Path(path).with_name("confusion.png"))


# ---------------------------------------------------------------------------
# About


def about_markdown(served: Served) -> str:
    info = served.info
    note = f"> {served.note}\n\n" if served.note else ""
    if not info:
        return note + f"Serving `{served.path}` (no JSON beside it)."
    v = info.get("versions", {})
    return note + (
        f"### The served model: `{info['architecture']}`\n\n"
        f"| | |\n|---|---|\n"
        f"| parameters | {info['parameters']:,} |\n"
        f"| MNIST test accuracy | **{info['test_accuracy']:.2%}** on {info['test_samples']:,} digits |\n"
        f"| training | {info['epochs_completed']} epochs, batch {info['batch_size']}, "
        f"{info['train_samples']:,} samples, {info['training_seconds'] / 60:.1f} min on {info.get('machine', '?')} |\n"
        f"| preprocessing | {info['preprocessing']}{' + augmentation' if info.get('augmentation') else ''} |\n"
        f"| libraries | TensorFlow {v.get('tensorflow', '?')}, Keras {v.get('keras', '?')} |\n"
        f"| command | `{info.get('command') or 'n/a'}` |\n"
    )


# ---------------------------------------------------------------------------
# The page


def training_allowed(flag: bool | None, share: bool = False) -> bool:
    """On when run locally; off on Spaces or a public link unless asked for."""
    if flag is not None:
        return flag
    env = os.environ.get("MNIST_DEMO_TRAINING")
    if env is not None:
        return env.lower() in ("1", "true", "yes", "on")
    return not (share or os.environ.get("SPACE_ID"))


def browser_page(served: Served) -> str | None:
    """A link to the TensorFlow.js page: MNIST_DEMO_WEB_URL if set (a published copy), else a copy
    exported now into a temporary folder and served by Gradio (needs `npm install` for tf.min.js)."""
    if os.environ.get("MNIST_DEMO_WEB_URL"):
        return os.environ["MNIST_DEMO_WEB_URL"]
    from .web.export import tfjs_library

    if tfjs_library() is None:
        return None
    folder = Path(tempfile.gettempdir()) / "mnist_demo_web"
    served.backend.export_web(folder)  # by whichever process holds the model
    gr.set_static_paths([str(folder)])
    return f"gradio_api/file={folder}/index.html"


def build_demo(model: str | None = None, training: bool = True, worker: bool = True) -> gr.Blocks:
    served = Served(model, worker=worker)
    warm = example_files()
    served.warm_up(warm[0][0])
    trainer = Trainer(served)
    web_page = browser_page(served)

    # delete_cache: Gradio's copies of outputs older than an hour go, checked every 10 minutes.
    with gr.Blocks(title="Draw a digit", delete_cache=(600, 3600)) as demo:
        run_here = f" [Run it in your browser]({web_page}): the same model with TensorFlow.js, no server." if web_page else ""
        gr.Markdown("# Draw a digit\nA small CNN trained on MNIST reads what you draw, as you draw it." + run_here,
                    elem_id="intro")
        with gr.Tab("Draw"):
            with gr.Row():
                with gr.Column(scale=1, min_width=320):
                    sketch = DrawingPad(
                        label="Your digit", elem_id="sketchpad", type="numpy", image_mode="RGBA",
                        canvas_size=(CANVAS, CANVAS), fixed_canvas=True, layers=False, transforms=(),
                        height=CANVAS + 64, width=CANVAS + 90,
                        brush=gr.Brush(default_size=BRUSH, colors=["#000000"], color_mode="fixed"),
                        buttons=[],
                    )
                    with gr.Row():
                        clear = gr.Button("Clear", variant="secondary")
                        go = gr.Button("Predict", variant="primary")
                with gr.Column(scale=1, min_width=300):
                    message = gr.Markdown(BLANK_MESSAGE, elem_id="message")
                    label = gr.Label(num_top_classes=10, label="Probabilities", elem_id="label")
                    processed = gr.Image(label="What the model saw (28x28)", elem_id="processed",
                                         type="filepath", format="png", height=200, width=200, interactive=False, buttons=[])
            outputs = [label, processed, message]
            sketch.change(lambda v: predict_drawing(served, v), sketch, outputs, trigger_mode="always_last",
                          show_progress="hidden", api_name="predict_drawing")
            go.click(lambda v: predict_drawing(served, v), sketch, outputs, show_progress="hidden", api_visibility="private")
            clear.click(lambda: (None, None, BLANK_MESSAGE), None, outputs, js=CLEAR_JS, api_visibility="private",
                        show_progress="hidden")

        with gr.Tab("Upload"):
            with gr.Row():
                with gr.Column():
                    upload = ImagePath(label="An image of a digit", type="filepath", image_mode=None,
                                       sources=["upload", "webcam", "clipboard"], elem_id="upload")
                    read = gr.Button("Read it", variant="primary")
                with gr.Column():
                    up_label = gr.Label(num_top_classes=10, label="Probabilities")
                    up_processed = gr.Image(label="What the model saw (28x28)", elem_id="processed-upload",
                                            type="filepath", format="png", height=200, width=200, interactive=False, buttons=[])
            gr.Examples([[p] for p, _ in warm], inputs=upload, outputs=[up_label, up_processed],
                        fn=lambda p: predict_file(served, p), run_on_click=True, cache_examples=False,
                        example_labels=[c for _, c in warm], label="Examples (drawn by the app itself): click one")
            read.click(lambda p: predict_file(served, p), upload, [up_label, up_processed], api_name="predict")
            upload.upload(lambda p: predict_file(served, p), upload, [up_label, up_processed], api_visibility="private")

        with gr.Tab("Train"):
            if training:
                gr.Markdown("Train a model here and compare it with the served one; it is served only if you say so. "
                            "One training runs at a time for everyone.")
                with gr.Row():
                    arch = gr.Dropdown(["default", "seed"], value="default", label="Architecture")
                    epochs = gr.Slider(1, 20, value=3, step=1, label="Epochs", elem_id="train-epochs")
                    subset = gr.Slider(500, 60000, value=6000, step=500, label="Training samples", elem_id="train-subset")
                with gr.Row():
                    start = gr.Button("Start", variant="primary", elem_id="train-start")
                    stop = gr.Button("Stop", variant="stop", elem_id="train-stop")
                with gr.Row():
                    loss_plot = gr.LinePlot(x="epoch", y="value", color="series", label="Loss per epoch",
                                            elem_id="train-loss", height=260)
                    acc_plot = gr.LinePlot(x="epoch", y="value", color="series", label="Accuracy per epoch",
                                           elem_id="train-accuracy", height=260)
                train_log = gr.Textbox(label="Log", lines=8, elem_id="train-log", autoscroll=True)
                comparison = gr.Markdown(elem_id="train-compare")
                with gr.Row():
                    save = gr.Checkbox(label="Also save to checkpoints/", value=False, interactive=False)
                    serve = gr.Button("Serve the new model", interactive=False)
                serve_msg = gr.Markdown()
                start.click(trainer.run, [arch, epochs, subset], [loss_plot, acc_plot, train_log, comparison, save, serve],
                            api_name="train", concurrency_limit=2, concurrency_id="train")
                stop.click(trainer.request_stop, None, train_log, api_visibility="private", queue=False)
            else:
                gr.Markdown("Training is off here (a public link or a hosted Space: it would share this "
                            "machine's CPU with everyone). Run the app locally, or start it with "
                            "`--enable-training` / `MNIST_DEMO_TRAINING=1`.")

        with gr.Tab("About"):
            about = gr.Markdown(about_markdown(served))
            confusion = Path(served.path).with_name("confusion.png")
            about_img = gr.Image(str(confusion) if confusion.is_file() else None, label="Confusion matrix (MNIST test set)",
                                 interactive=False, buttons=["download"])
            gr.Markdown("Rows are the true digit, columns the model's answer. "
                        "The 28x28 image beside each answer is exactly what the model received.")
        if training:
            serve.click(trainer.serve_new, save, [serve_msg, about, about_img], api_visibility="private")

        demo.load(None, js=SELECT_BRUSH_JS)
    return queue_requests(demo)


# Gradio recomputes its /monitoring summary (a pandas DataFrame of up to the last 10,000
# requests) after every request, under the GIL: ~1 ms a request here, ~6 ms once 10,000
# requests have been served. Every 100th request keeps /monitoring current enough.
MONITORING_SUMMARY_EVERY = 100


def queue_requests(demo: gr.Blocks) -> gr.Blocks:
    """The serving settings: up to CONCURRENT_REQUESTS at once per event, at most 128 waiting,
    the monitoring summary every 100th request.
    The load benchmark's reference servers use this too, so they differ from the app
    only in the work done."""
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(MONITORING_SUMMARY_EVERY))  # read by the queue
    return demo.queue(default_concurrency_limit=CONCURRENT_REQUESTS, max_size=128)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Serve the digit demo.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    parser.add_argument("--model", help="model file or hf://OWNER/NAME (default: checkpoints/model.keras)")
    parser.add_argument("--enable-training", dest="training", action="store_const", const=True, default=None,
                        help="show the Train tab even on a public link or a Space")
    parser.add_argument("--disable-training", dest="training", action="store_const", const=False)
    parser.add_argument("--in-process", dest="worker", action="store_false",
                        help="answer in the web server's process, not a worker process: ~500 MB less memory, "
                             "less throughput under concurrent use")
    args, _ = parser.parse_known_args(argv)
    args.training = training_allowed(args.training, args.share)
    return args


def launch_kwargs(args) -> dict:
    return dict(server_name=args.host, server_port=args.port, share=args.share, css=CSS,
                max_file_size="25mb", show_error=True)
