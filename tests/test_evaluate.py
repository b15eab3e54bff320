import subprocess
import sys

from conftest import ROOT


def test_evaluate_prints_its_table_on_a_small_slice():
    proc = subprocess.run(
        [sys.executable, "-m", "mnist_demo", "evaluate", "--limit", "2", "--mnist-limit", "300"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    assert rows[0] == "| condition | served model | blog's pipeline |"
    body = rows[1:]
    assert len(body) == 6 and body[0].startswith("| MNIST test set (300)")
    for row in body[1:]:
        assert "(20)" in row  # 2 drawings x 10 digits
        served, blog = (float(cell.strip().rstrip("%")) for cell in row.strip("|").split("|")[1:])
        assert 0 <= blog <= 100 and served >= 80, row
