"""Example pictures the app offers, drawn by the project from stroke shapes it defines.

No dataset images ship with the repository: these digits are polylines written
here, rendered with strokes.render in several styles (dark-on-light,
light-on-dark, thin and thick pen, off-centre, transparent).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from PIL import Image

from .strokes import fit, render


def _arc(cx, cy, rx, ry, start, end, n=24):
    return [[cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))]
            for a in (start + (end - start) * i / (n - 1) for i in range(n))]


# Digits on a 100x100 grid, y down; a digit is a list of strokes.
SHAPES = {
    0: [_arc(50, 50, 28, 40, -90, 275)],
    1: [[[38, 22], [54, 8], [54, 92]]],
    2: [_arc(50, 32, 26, 22, 200, 360) + [[72, 45], [22, 90], [80, 90]]],
    3: [_arc(48, 30, 24, 20, 210, 450) + _arc(48, 70, 28, 22, -90, 150)],
    4: [[[60, 8], [18, 64], [84, 64]], [[62, 36], [62, 94]]],
    5: [[[76, 10], [32, 10], [28, 44]] + _arc(48, 64, 28, 26, 220, 500)[:20]],
    7: [[[18, 12], [82, 12], [44, 92]]],
    8: [_arc(50, 28, 20, 19, 90, 450) + _arc(50, 70, 25, 22, -90, 270)],
}

# (digit, style name, render options, placement: height and centre on the canvas)
STYLES = [
    (2, "dark on light", dict(canvas=(400, 400), brush=22), (260, (200, 200))),
    (7, "light on dark", dict(canvas=(400, 400), brush=20, ink=(255, 255, 255), paper=(20, 24, 40)), (250, (200, 200))),
    (3, "thin pen", dict(canvas=(400, 400), brush=5), (280, (200, 200))),
    (4, "thick marker", dict(canvas=(400, 400), brush=44), (250, (200, 200))),
    (5, "small, off-centre", dict(canvas=(400, 400), brush=9), (90, (300, 110))),
    (8, "blue ink on paper", dict(canvas=(300, 400), brush=14, ink=(30, 60, 170), paper=(250, 246, 232)), (300, (150, 200))),
    (0, "transparent canvas", dict(canvas=(400, 400), brush=16, transparent=True), (260, (200, 200))),
    (1, "dark on light", dict(canvas=(400, 400), brush=24), (260, (200, 200))),
]


def draw_example(digit: int, options: dict, placement) -> Image.Image:  # noqa: F821
    strokes = [[[x * 2.5, y * 2.5] for x, y in s] for s in SHAPES[digit]]
    height, center = placement
    return render(fit(strokes, height, center), **options)


def example_files(folder: str | Path | None = None) -> list[tuple[str, str]]:
    """Render every example to PNG once; return (path, caption) pairs."""
    folder = Path(folder or Path(tempfile.gettempdir()) / "mnist_demo_examples")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for digit, style, options, placement in STYLES:
        path = folder / f"{digit}-{style.replace(' ', '-').replace(',', '')}.png"
        if not path.is_file():
            tmp = path.with_suffix(".tmp.png")
            draw_example(digit, options, placement).save(tmp)
            tmp.replace(path)
        out.append((str(path), f"{digit}: {style}"))
    return out
