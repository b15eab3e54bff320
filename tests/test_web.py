"""The static TensorFlow.js page: export, parity with Python on drawn digits, and the app's link to it."""

import json
import math
import os
import sys
from urllib.parse import urljoin

import numpy as np
import pytest

from conftest import ROOT
from mnist_demo.preprocess import CONFIG_PATH
from mnist_demo.web.export import export, tfjs_library

sys.path.insert(0, str(ROOT / "benchmarks"))
from web_parity import draw_and_compare, open_page, serve  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory, served):
    if tfjs_library() is None:
        if os.environ.get("CI"):
            pytest.fail("node_modules/@tensorflow/tfjs is missing: .ci/run runs npm ci")
        pytest.skip("run `npm install` for TensorFlow.js")
    return export(tmp_path_factory.mktemp("web") / "site", recognizer=served)


def test_export_contents(site, served):
    for name in ("index.html", "app.js", "preprocess.js", "style.css", "tf.min.js", "preprocess.json",
                 "model/model.json", "model/group1-shard1of1.bin"):
        assert (site / name).is_file(), name
    assert json.loads((site / "preprocess.json").read_text()) == json.loads(CONFIG_PATH.read_text())
    manifest = json.loads((site / "model/model.json").read_text())
    assert manifest["format"] == "layers-model"
    specs = manifest["weightsManifest"][0]["weights"]
    assert len(specs) == len(served.model.weights)
    n = sum(int(math.prod(s["shape"])) for s in specs)
    assert (site / "model/group1-shard1of1.bin").stat().st_size == 4 * n
    assert "cdn" not in (site / "index.html").read_text().lower()


def test_page_reads_drawn_digits_like_python(site, browser, served, drawn, output_dir):
    server = serve(site)
    try:
        page = open_page(browser, f"http://127.0.0.1:{server.server_port}/index.html")
        x = np.random.default_rng(0).random((28, 28)).astype("float32")
        js = page.evaluate("(a) => Array.from(window.digitApp.model.predict(tf.tensor4d(a, [1, 28, 28, 1])).dataSync())",
                           x.ravel().tolist())
        assert abs(np.array(js) - served.probabilities(x[None])[0]).max() < 1e-4
        rows = [draw_and_compare(page, drawn[d][k], served) for d in range(10) for k in (0, 7)]
        page.screenshot(path=str(output_dir / "web-page.png"))
        page.close()
    finally:
        server.shutdown()
    assert all(r["web"] == r["python"] for r in rows), rows
    assert sum(r["web"] == d for r, d in zip(rows, [d for d in range(10) for _ in (0, 7)])) >= 19
    assert sum(r["prob_diff"] for r in rows) / len(rows) < 0.01


def test_the_app_links_to_the_browser_page(app_server, browser, site):
    page = browser.new_page()
    page.goto(app_server.url, wait_until="networkidle")
    href = page.get_by_role("link", name="Run it in your browser").get_attribute("href")
    page.goto(urljoin(app_server.url, href))
    page.wait_for_function("() => window.digitApp && window.digitApp.model", timeout=120000)
    assert "TensorFlow.js" in page.locator("#about").inner_text()
    page.close()
