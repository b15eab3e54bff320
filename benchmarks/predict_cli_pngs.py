"""MNIST's test digits as PNG files through `python -m mnist_demo predict --json`, in one call.

    python benchmarks/predict_cli_pngs.py [--count 10000] [--model checkpoints/model.keras]

Writes the digits (28x28, white on black, as MNIST has them) to a temporary
folder, runs the CLI once on all of them, and reports accuracy and files/s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mnist_demo.data import load_mnist  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--data", help="MNIST .npz or IDX folder (default: MNIST_DEMO_DATA or Keras download)")
    parser.add_argument("--model", help="model file (default: the committed checkpoint)")
    args = parser.parse_args()

    (_, _), (x_test, y_test) = load_mnist(args.data)
    n = min(args.count, len(x_test))
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(n):
            path = Path(tmp) / f"{i:05d}.png"
            Image.fromarray(x_test[i]).save(path)
            files.append(str(path))
        cmd = [sys.executable, "-m", "mnist_demo", "predict", "--json", *files]
        if args.model:
            cmd += ["--model", args.model]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - start
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    errors = sum("error" in line for line in lines)
    correct = sum(line.get("label") == int(y) for line, y in zip(lines, y_test[:n]))
    print(f"predict CLI on {n} MNIST test PNGs: accuracy {correct / n:.4f} ({correct}/{n}), "
          f"{errors} errors, {seconds:.1f} s in one call ({n / seconds:.0f} files/s, model load included), "
          f"exit code {proc.returncode}")
    return 0 if proc.returncode == 0 and len(lines) == n else 1


if __name__ == "__main__":
    sys.exit(main())
