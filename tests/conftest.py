"""Shared fixtures. Data comes from ../shared/datasets through MNIST_DEMO_DATA / MNIST_DEMO_DRAWN."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _data_file(env: str, name: str) -> Path:
    path = Path(os.environ.get(env) or SHARED / name)
    if not path.exists():
        pytest.skip(f"{name} not found: set {env} (CI sets it from ../shared/datasets)")
    return path


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    return _data_file("MNIST_DEMO_DATA", "mnist.npz")


@pytest.fixture(scope="session")
def mnist(mnist_path):
    from mnist_demo.data import load_mnist

    return load_mnist(mnist_path)


@pytest.fixture(scope="session")
def drawn():
    from mnist_demo.strokes import load_drawn

    return load_drawn(_data_file("MNIST_DEMO_DRAWN", "drawn-digits-dev.json"))


@pytest.fixture(scope="session")
def served():
    """The committed checkpoint, as the app serves it."""
    from mnist_demo.recognizer import served

    return served()


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, mnist_path):
    """One short training on a 3,000-sample subset, shared by the tests that need a fresh model."""
    from mnist_demo.train import train

    out = tmp_path_factory.mktemp("run")
    info = train(
        architecture="default",
        epochs=5,
        data=str(mnist_path),
        subset=3000,
        test_subset=1000,
        out=out / "model",
        logdir=out / "logs",
        seed=1,
        verbose=0,
        progress=lambda msg: None,
    )
    return out, info


def upscale(digit: np.ndarray, size: int = 112) -> np.ndarray:
    """An MNIST digit (white on black, 28x28) enlarged, as a photo or scan of it might be."""
    from PIL import Image

    return np.asarray(Image.fromarray(digit).resize((size, size), Image.BILINEAR))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`python app.py` on a free loopback port, as a user starts it."""

    def __init__(self, *args: str, env: dict | None = None, timeout: float = 180, new_session: bool = False):
        import subprocess
        import time
        import urllib.request

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"app-{self.port}.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port), *args],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
            start_new_session=new_session,  # its own process group, as a terminal gives it
        )
        self.started = time.perf_counter()
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.output()}")
            try:
                urllib.request.urlopen(self.url + "config", timeout=2).read()
                self.ready_seconds = time.perf_counter() - self.started
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"app did not answer within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-5000:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except Exception:
                self.proc.kill()
        self.log.close()


@pytest.fixture(scope="session")
def app_server(mnist_path):
    server = AppServer("--enable-training", env={"MNIST_DEMO_DATA": str(mnist_path)})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where tests leave screenshots and reports for people to look at."""
    path = ROOT / "test-output"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright; one for all browser tests."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from web_parity import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it from Debian")
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
