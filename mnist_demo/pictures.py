"""Pictures that training writes: the blog's sample grid and a confusion matrix (Pillow only)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def _font(size: int):
    return ImageFont.load_default(size=size)


def sample_grid(images: np.ndarray, labels, rows: int = 10, cols: int = 10, scale: int = 3) -> Image.Image:
    """The blog's plot_samples: a rows x cols grid of digits, each titled with its label."""
    cell, title = 28 * scale, 14
    grid = Image.new("RGB", (cols * (cell + 4), rows * (cell + title + 4)), "white")
    draw = ImageDraw.Draw(grid)
    font = _font(12)
    for i in range(min(rows * cols, len(images))):
        r, c = divmod(i, cols)
        x, y = c * (cell + 4) + 2, r * (cell + title + 4) + 2
        draw.text((x + cell // 2, y), str(int(labels[i])), fill="black", font=font, anchor="mt")
        digit = Image.fromarray(np.asarray(images[i], dtype=np.uint8)).resize((cell, cell), Image.NEAREST)
        grid.paste(digit, (x, y + title))
    return grid


def confusion_matrix(y_true, y_pred, n: int = 10) -> np.ndarray:
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return m


def confusion_picture(matrix: np.ndarray, title: str = "") -> Image.Image:
    """Rows: true digit; columns: predicted. Off-diagonal cells in red, shaded by count."""
    n = len(matrix)
    cell, margin = 44, 60
    img = Image.new("RGB", (margin + n * cell + 10, margin + n * cell + 30), "white")
    draw = ImageDraw.Draw(img)
    font, small = _font(14), _font(11)
    draw.text((margin, 6), title or "confusion matrix", fill="black", font=font)
    draw.text((margin + n * cell / 2, margin - 12), "predicted", fill="black", font=small, anchor="mm")
    draw.text((12, margin + n * cell / 2), "true", fill="black", font=small, anchor="mm")
    row_totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
    share = matrix / row_totals
    for i in range(n):
        draw.text((margin + i * cell + cell / 2, margin - 26), str(i), fill="black", font=small, anchor="mm")
        draw.text((margin - 14, margin + i * cell + cell / 2), str(i), fill="black", font=small, anchor="mm")
        for j in range(n):
            x, y = margin + j * cell, margin + i * cell
            if i == j:
                g = int(255 - 155 * share[i, j])
                color = (g, 255, g)
            elif matrix[i, j]:
                g = int(235 - 200 * min(1.0, share[i, j] * 20))
                color = (255, g, g)
            else:
                color = (250, 250, 250)
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=color, outline=(220, 220, 220))
            if matrix[i, j]:
                draw.text((x + cell / 2, y + cell / 2), str(int(matrix[i, j])), fill="black", font=small, anchor="mm")
    acc = np.trace(matrix) / max(matrix.sum(), 1)
    draw.text((margin, margin + n * cell + 8), f"accuracy {acc:.2%} of {int(matrix.sum())}", fill="black", font=small)
    return img
