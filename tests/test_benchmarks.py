"""The benchmark scripts keep working (tiny counts; timings are reported, never asserted)."""

import json
import subprocess
import sys

from conftest import ROOT


def run(*args):
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_inprocess_benchmark_runs():
    out = run("benchmarks/inprocess.py", "--repeat", "5", "--batch", "50")
    assert "preprocess + model (the app's path)" in out and "blog's path" in out


def test_http_benchmark_runs(tmp_path):
    out = run("benchmarks/http_load.py", "--requests", "8", "--clients", "2", "--rounds", "2",
              "--memory-requests", "0", "--json", str(tmp_path / "r.json"))
    for name in ("app.py", "no-op Gradio app", "blog's serving path"):
        assert name in out
    assert "app.py / no-op" in out and "failures:" not in out
    results = json.loads((tmp_path / "r.json").read_text())
    for name in ("app.py", "no-op Gradio app", "blog's serving path"):
        assert results[name]["one_client"]["requests"] == 8 and results[name]["concurrent"]["requests"] == 8
        assert results[name]["one_client"]["retries"] == 0 and results[name]["concurrent"]["retries"] == 0


def test_http_benchmark_lean_client_runs():
    out = run("benchmarks/http_load.py", "--requests", "4", "--clients", "2", "--rounds", "2", "--client", "lean",
              "--memory-requests", "0", "--servers", "app.py", "no-op Gradio app")
    assert "lean settings" in out and "app.py / no-op" in out and "failures:" not in out
