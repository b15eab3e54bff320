"""A real `python app.py` on loopback, called with gradio_client as a user's script would."""

import os
import signal
import threading
import time

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from conftest import AppServer, upscale
from mnist_demo.strokes import render_condition

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def client(app_server):
    return Client(app_server.url, verbose=False)


def top(label: dict) -> str:
    return str(label["label"])


def write_mnist(tmp_path, mnist, n):
    (_, _), (x_test, y_test) = mnist
    files = []
    for i in range(n):
        path = tmp_path / f"mnist-{i}.png"
        digit = upscale(x_test[i])
        Image.fromarray(digit if i % 2 else 255 - digit).save(path)  # both polarities
        files.append((path, str(y_test[i])))
    return files


def test_api_lists_predict(client):
    assert "/predict" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_mnist_digits(client, mnist, tmp_path):
    files = write_mnist(tmp_path, mnist, 40)
    correct = 0
    for path, want in files:
        label, image = client.predict(handle_file(str(path)), api_name="/predict")
        correct += top(label) == want
        assert Image.open(image).size == (28, 28)
    assert correct >= 38, f"{correct}/40"


def test_drawn_digits(client, drawn, tmp_path):
    correct = total = 0
    for digit in range(10):
        for k in range(3):
            path = tmp_path / f"drawn-{digit}-{k}.png"
            render_condition(drawn[digit][k], "natural 800x600, 18px brush").save(path)
            label, _ = client.predict(handle_file(str(path)), api_name="/predict")
            correct += top(label) == str(digit)
            total += 1
    assert correct >= 0.9 * total, f"{correct}/{total}"


def test_drawing_endpoint_takes_the_sketchpad_dict(client, drawn, tmp_path):
    path = tmp_path / "canvas.png"
    render_condition(drawn[4][0], "transparent canvas, 14px brush").save(path)
    value = {"background": None, "layers": [], "composite": handle_file(str(path))}
    label, image, message = client.predict(value, api_name="/predict_drawing")
    assert top(label) == "4" and "**4**" in message


def test_bad_inputs_get_errors_and_the_server_keeps_serving(client, app_server, tmp_path, mnist):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    Image.new("L", (20000, 20000), 255).save(tmp_path / "huge.png")
    Image.new("L", (1, 1), 0).save(tmp_path / "dot.png")
    Image.new("RGB", (300, 300), "white").save(tmp_path / "blank.png")
    expected = {"notes.png": "not a readable image", "huge.png": "too large", "dot.png": "too small",
                "blank.png": "blank"}
    for name, words in expected.items():
        with pytest.raises(AppError, match=words):
            client.predict(handle_file(str(tmp_path / name)), api_name="/predict")
    assert app_server.alive()
    (path, want), = write_mnist(tmp_path, mnist, 1)
    label, _ = client.predict(handle_file(str(path)), api_name="/predict")
    assert top(label) == want


def test_concurrent_clients(app_server, mnist, tmp_path):
    """4 clients x 25 calls, all right. One retry is allowed for a dropped keep-alive connection."""
    files = write_mnist(tmp_path, mnist, 25)
    results, retries, errors = [], [], []

    def worker(w):
        c = Client(app_server.url, verbose=False)
        for i in range(25):
            path, want = files[(i + w * 7) % len(files)]
            for attempt in (0, 1):
                try:
                    label, _ = c.predict(handle_file(str(path)), api_name="/predict")
                    results.append(top(label) == want)
                    break
                except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                    if attempt:
                        errors.append(repr(exc))
                    else:
                        retries.append(repr(exc))
                except Exception as exc:
                    errors.append(repr(exc))
                    break

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    print(f"\nconcurrent: {len(results)} answers, {len(retries)} retried after a dropped connection")
    assert not errors, errors[:3]
    assert len(results) == 100
    assert np.mean(results) >= 0.95


def test_identical_concurrent_requests_never_drop_a_connection(app_server, mnist, tmp_path):
    """Many people clicking the same example at once: same input, same output image, no retries allowed.

    Gradio writes a returned PIL image in place to a content-hashed cache file,
    so identical answers at the same moment used to truncate a file a client was
    downloading; the app hands Gradio an atomically written file instead.
    """
    (path, want), = write_mnist(tmp_path, mnist, 1)
    answers, errors = [], []
    barrier = threading.Barrier(8)

    def worker():
        c = Client(app_server.url, verbose=False)
        barrier.wait()
        for _ in range(15):
            try:
                label, image = c.predict(handle_file(str(path)), api_name="/predict")
                answers.append((top(label), Image.open(image).size))
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    assert answers == [(want, (28, 28))] * 120


def test_monitoring_summary_is_not_recomputed_after_every_request(client, app_server, mnist, tmp_path):
    """Gradio rebuilds its /monitoring summary (a pandas table of up to 10,000 past requests) after
    every request by default; the app asks for it every 100th. Over 20 requests the summary the
    server reports may change once (a 100th request among them), never with each request."""
    (path, _), = write_mnist(tmp_path, mnist, 1)
    summaries = []
    for _ in range(20):
        client.predict(handle_file(str(path)), api_name="/predict")
        reply = httpx.get(f"{app_server.url}monitoring/summary", timeout=30)
        assert reply.status_code == 200  # monitoring itself still works
        summaries.append(reply.json())
    changes = sum(a != b for a, b in zip(summaries, summaries[1:]))
    assert changes <= 1, summaries


def test_ctrl_c_stops_the_server_and_its_worker_quietly(mnist, tmp_path):
    """Ctrl+C in a terminal interrupts the whole process group: the server closes, and its
    worker process, which ignores the interrupt, ends as its pipes close: no traceback, no orphan."""
    server = AppServer("--disable-training", new_session=True)
    try:
        (path, want), = write_mnist(tmp_path, mnist, 1)
        label, _ = Client(server.url, verbose=False).predict(handle_file(str(path)), api_name="/predict")
        assert top(label) == want
        os.killpg(server.proc.pid, signal.SIGINT)
        server.proc.wait(30)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                os.killpg(server.proc.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the worker process outlived the server")
        assert "Traceback" not in server.output(), server.output()
    finally:
        server.stop()
