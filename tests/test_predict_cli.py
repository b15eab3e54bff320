"""The predict CLI on image files written by the test from MNIST test digits."""

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import ROOT, upscale


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mnist_demo", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def write_styles(folder, digit, i):
    """Dark-on-light RGB, light-on-dark greyscale, transparent RGBA, 16-bit, palette, JPEG."""
    big = upscale(digit)
    paths = []
    p = folder / f"{i}-dark-on-light.png"
    Image.fromarray(255 - big).convert("RGB").save(p)
    paths.append(p)
    p = folder / f"{i}-light-on-dark.png"
    Image.fromarray(big).save(p)
    paths.append(p)
    rgba = np.zeros((*big.shape, 4), np.uint8)
    rgba[..., :3] = np.random.default_rng(i).integers(0, 256, (*big.shape, 3))  # junk colour under alpha 0
    rgba[..., 3] = big
    rgba[big > 0, :3] = 20
    p = folder / f"{i}-transparent.png"
    Image.fromarray(rgba, "RGBA").save(p)
    paths.append(p)
    p = folder / f"{i}-16bit.png"
    Image.fromarray((255 - big).astype(np.uint16) * 257).save(p)
    paths.append(p)
    p = folder / f"{i}-palette.gif"
    Image.fromarray(255 - big).convert("P").save(p)
    paths.append(p)
    p = folder / f"{i}-photo.jpg"
    Image.fromarray(255 - big).convert("RGB").save(p, quality=85)
    paths.append(p)
    return paths


def test_predict_json_on_many_styles_and_a_corrupt_file(tmp_path, mnist):
    (_, _), (x_test, y_test) = mnist
    files, labels = [], []
    for i in range(20):
        for p in write_styles(tmp_path, x_test[i], i):
            files.append(p)
            labels.append(int(y_test[i]))
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    files.insert(7, corrupt)
    labels.insert(7, None)

    proc = run_cli("predict", "--json", *files)
    assert proc.returncode == 1, proc.stderr[-3000:]  # one file failed
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]
    correct = 0
    for line, label in zip(lines, labels):
        if label is None:
            assert "error" in line and "label" not in line
            continue
        assert isinstance(line["label"], int)
        assert len(line["probabilities"]) == 10
        assert abs(sum(line["probabilities"]) - 1) < 1e-3
        correct += line["label"] == label
    assert correct >= 0.95 * (len(files) - 1), f"{correct} of {len(files) - 1}"


def test_predict_plain_lines_and_exit_zero(tmp_path, mnist):
    (_, _), (x_test, y_test) = mnist
    paths = write_styles(tmp_path, x_test[0], 0)[:2]
    proc = run_cli("predict", *paths)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.startswith(str(p)) and f": {y_test[0]} (" in line for line, p in zip(lines, paths))


def test_predict_missing_file_and_text_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("seven")
    proc = run_cli("predict", tmp_path / "nope.png", text)
    assert proc.returncode == 1
    out = proc.stdout.splitlines()
    assert "no such file" in out[0]
    assert "not a readable image" in out[1]
