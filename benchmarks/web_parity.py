"""The TensorFlow.js page against Python: same digit, same probabilities, and its speed.

    python benchmarks/web_parity.py [--limit 20] [--drawn PATH]

Exports the site to a temporary folder, serves it on loopback, opens it in
Debian's Chromium (headless, Playwright), draws each drawn-dev digit on the
page's canvas with mouse strokes, reads the page's answer, and runs Python's
preprocessing and model on the very same canvas image (the page's PNG).
Reports how often the digits agree, the mean absolute difference of the
probabilities, and milliseconds per prediction in the page.
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import statistics
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_demo.strokes import fit, load_drawn, simplify  # noqa: E402

CHROMIUM = "/usr/bin/chromium"  # Debian's package
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def draw_and_compare(page, drawing, recognizer) -> dict:
    """Draw one digit on the page with the mouse; the page's answer beside Python's on the same pixels."""
    page.evaluate("() => window.digitApp.clear()")
    box = page.locator("#pad").bounding_box()
    size = min(box["width"], box["height"])
    for stroke in fit(drawing, height=size * 0.6, center=(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)):
        stroke = simplify(stroke)
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
    page.wait_for_function("() => window.digitApp.last !== null")
    web = page.evaluate("() => window.digitApp.last")
    png = page.evaluate("() => document.getElementById('pad').toDataURL('image/png')")
    canvas = Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1])))
    py = recognizer.predict(canvas)
    return {
        "web": web["label"], "python": py.label, "ms": web["ms"],
        "prob_diff": float(np.abs(np.array(web["probabilities"]) - py.probabilities).mean()),
    }


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(url)
    page.wait_for_function("() => window.digitApp && window.digitApp.model", timeout=120000)
    return page


def main(argv=None) -> dict:
    from playwright.sync_api import sync_playwright

    from mnist_demo.recognizer import load
    from mnist_demo.web.export import export

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20, help="drawings per digit (the dev set has 20)")
    parser.add_argument("--drawn", help="stroke file (default: MNIST_DEMO_DRAWN)")
    args = parser.parse_args(argv)

    drawn = load_drawn(args.drawn)
    recognizer = load()
    with tempfile.TemporaryDirectory() as tmp:
        site = export(Path(tmp) / "site", recognizer=recognizer)
        server = serve(site)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = open_page(browser, f"http://127.0.0.1:{server.server_port}/index.html")
                backend = page.evaluate("() => tf.getBackend()")
                rows = [draw_and_compare(page, drawing, recognizer)
                        for digit in sorted(drawn) for drawing in drawn[digit][:args.limit]]
                timings = page.evaluate("() => window.digitApp.timings")
                browser.close()
        finally:
            server.shutdown()
    same = np.mean([r["web"] == r["python"] for r in rows])
    result = {
        "drawings": len(rows),
        "same_digit": float(same),
        "mean_abs_prob_diff": float(np.mean([r["prob_diff"] for r in rows])),
        "median_ms": statistics.median(timings),
        "p90_ms": float(np.percentile(timings, 90)),
        "backend": backend,
    }
    print(f"web page vs Python on {result['drawings']} drawings: same digit {same:.1%}, "
          f"mean |p_web - p_python| {result['mean_abs_prob_diff']:.2e}; "
          f"{result['median_ms']:.1f} ms median per prediction (p90 {result['p90_ms']:.1f} ms, "
          f"{len(timings)} predictions, TensorFlow.js {backend} backend, headless Chromium)")
    return result


if __name__ == "__main__":
    main()
