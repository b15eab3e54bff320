"""The Hub, offline: the card and upload folder, a model pulled through huggingface_hub's cache, the errors."""

import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from huggingface_hub import ModelCard, hf_hub_download

from conftest import ROOT
from mnist_demo.hub import HubError, build_folder, parse, push
from mnist_demo.recognizer import DEFAULT_MODEL

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_upload_folder_and_card(tmp_path, mnist_path):
    folder = build_folder(DEFAULT_MODEL, tmp_path / "up", "someone/mnist-demo")
    names = {p.name for p in folder.iterdir()}
    assert {"README.md", "model.keras", "model.json", "confusion.png", "samples.png", "preprocess.py",
            "preprocess.json"} <= names
    info = json.loads((folder / "model.json").read_text())
    card = ModelCard.load(folder / "README.md")
    data = card.data.to_dict()
    assert data["library_name"] == "keras" and data["datasets"] == ["mnist"] and "mnist" in data["tags"]
    result = data["model-index"][0]["results"][0]
    assert result["metrics"][0]["type"] == "accuracy"
    assert result["metrics"][0]["value"] == info["test_accuracy"]
    assert result["dataset"]["type"] == "mnist"
    assert 'hf_hub_download("someone/mnist-demo", "model.keras")' in card.text


def test_dry_run_builds_without_a_token(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    folder = push("someone/mnist-demo", dry_run=True)
    assert os.path.isfile(os.path.join(folder, "README.md"))


def test_push_without_token_says_how(tmp_path):
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": ""}
    proc = subprocess.run([sys.executable, "-m", "mnist_demo", "hub", "push", "someone/mnist-demo"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 1
    assert "HF_TOKEN" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_repo_id():
    with pytest.raises(HubError, match="OWNER/NAME"):
        parse("hf://just-a-name")
    assert parse("hf://a/b@v1") == ("a/b", "v1")
    assert parse("a/b") == ("a/b", None)


class FakeHub(BaseHTTPRequestHandler):
    """Serves a folder as the Hub's /{repo}/resolve/{revision}/{file} route, on loopback."""

    folder = None

    def _file(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 5 or parts[2] != "resolve":
            return None
        path = self.folder / parts[4]
        return path if path.is_file() else None

    def do_HEAD(self, body=False):
        path = self._file()
        if path is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.end_headers()
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):
        self.do_HEAD(body=True)

    def log_message(self, *args):
        pass


def test_model_from_the_hub_cache_works_offline(tmp_path):
    """Cache laid out by huggingface_hub's own download from a loopback Hub; then read with HF_HUB_OFFLINE=1."""
    FakeHub.folder = build_folder(DEFAULT_MODEL, tmp_path / "repo", "someone/mnist-demo")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cache = tmp_path / "hub-cache"
    try:
        for name in ("model.keras", "model.json", "confusion.png"):
            hf_hub_download("someone/mnist-demo", name, cache_dir=cache,
                            endpoint=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()

    from mnist_demo.examples import example_files

    files = [p for p, _ in example_files(tmp_path / "examples")]
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    runs = {}
    for model in ("hf://someone/mnist-demo", str(DEFAULT_MODEL)):
        proc = subprocess.run([sys.executable, "-m", "mnist_demo", "predict", "--json", "--model", model, *files],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs[model] = [json.loads(line) for line in proc.stdout.splitlines()]
    hub, local = runs.values()
    assert [r["label"] for r in hub] == [r["label"] for r in local]
    assert all(max(abs(a - b) for a, b in zip(x["probabilities"], y["probabilities"])) < 1e-6
               for x, y in zip(hub, local))


def test_unreachable_hub_and_nothing_cached(tmp_path, mnist_path):
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "empty"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "mnist_demo", "predict", "--model", "hf://someone/absent",
                           str(ROOT / "docs" / "screenshot.png")],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 2
    assert "not in the local cache" in proc.stderr and "Traceback" not in proc.stderr


def test_app_falls_back_to_the_bundled_model_when_the_hub_is_out_of_reach(tmp_path):
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "empty"), "HF_HUB_OFFLINE": "1"}
    code = ("from mnist_demo.ui import Served, about_markdown; s = Served('hf://someone/absent'); "
            "print(s.path); print(about_markdown(s))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("warning: could not fetch hf://someone/absent")
    assert lines[1] == str(DEFAULT_MODEL)
    assert "not in the local cache" in proc.stdout and "bundled checkpoint" in proc.stdout
