"""THE one preprocessing function: any image -> a 28x28 digit that looks like MNIST.

MNIST digits were normalized: ink fitted into a 20x20 box (aspect ratio kept),
anti-aliased, and placed in 28x28 by centre of mass. A drawing on a canvas is
none of that, so every path (app, CLI, training, evaluation, browser export)
takes the same steps:

1. grey + alpha, composited onto a background that contrasts with the ink;
2. ink polarity decided from the border (dark-on-light or light-on-dark);
3. crop to the ink, ignoring isolated specks (small connected components);
4. bring the stroke thickness to MNIST's, whatever pen was used;
5. scale the longest side to 20 px (area averaging), keep the aspect ratio;
6. place it in 28x28 by centre of mass.

Constants live in preprocess.json so the browser page uses the same numbers.
No Gradio, no Keras here: this module must stay cheap to import.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageChops, ImageSequence, UnidentifiedImageError

CONFIG_PATH = Path(__file__).with_name("preprocess.json")
CONFIG = json.loads(CONFIG_PATH.read_text())

SIZE = CONFIG["size"]
BOX = CONFIG["box"]


class ImageError(ValueError):
    """The input cannot be read as a digit; the message says why, for a person."""


class BlankImageError(ImageError):
    """The input has no ink on it (an empty canvas, a uniform image)."""


class Preprocessed(NamedTuple):
    array: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black, like MNIST
    image: Image.Image  # the same as an 8-bit greyscale picture, for display


# ---------------------------------------------------------------------------
# Reading images safely


def open_image(source) -> Image.Image:
    """Open a path, bytes or file object as a decoded PIL image, or raise ImageError.

    The size is checked from the header before the pixels are decoded, so a
    20000x20000 upload is refused without allocating gigabytes.
    """
    name = source if isinstance(source, (str, os.PathLike)) else "input"
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        img = Image.open(source)
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a folder, not an image file") from None
    except Image.DecompressionBombError:
        raise ImageError(
            f"{Path(str(name)).name}: image too large to read "
            f"(more than {CONFIG['max_pixels'] // 1_000_000} megapixels); shrink it first"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{Path(str(name)).name}: not a readable image "
            "(use PNG, JPEG, WebP, GIF or BMP)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:  # a recognised format with broken headers
        raise ImageError(f"{Path(str(name)).name}: the image file is damaged ({exc})") from None
    check_size(*img.size)
    if getattr(img, "n_frames", 1) > 1:
        # An animated GIF/WebP: read its first frame, as a still picture would show.
        img = next(ImageSequence.Iterator(img))
    try:
        img.load()
    except Exception as exc:  # truncated or corrupt data surfaces only on decode
        raise ImageError(f"{Path(str(name)).name}: the image data is damaged ({exc})") from None
    return img


def check_size(width: int, height: int) -> None:
    if width * height > CONFIG["max_pixels"]:
        raise ImageError(
            f"image is {width}x{height} pixels, too large to read "
            f"(at most {CONFIG['max_pixels'] // 1_000_000} megapixels); shrink it first"
        )
    if min(width, height) < CONFIG["min_side"]:
        raise ImageError(
            f"image is {width}x{height} pixels, too small to hold a digit "
            f"(at least {CONFIG['min_side']} px on each side)"
        )


def _as_pil(image) -> Image.Image:
    """Arrays (as Gradio sends them) and odd modes -> an 8-bit PIL image (L, LA, RGB or RGBA)."""
    if isinstance(image, np.ndarray):
        a = image
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[..., 0]
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
            raise ImageError(f"expected an image array of shape (H, W) or (H, W, C), got {a.shape}")
        if a.dtype == np.uint16:
            a = (a >> 8).astype(np.uint8)
        elif a.dtype != np.uint8:
            a = a.astype(np.float32)
            a = np.clip(a * 255.0 if a.size and a.max() <= 1.0 else a, 0, 255).astype(np.uint8)
        mode = {2: "L", 3: None}.get(a.ndim) or {2: "LA", 3: "RGB", 4: "RGBA"}[a.shape[2]]
        return Image.fromarray(np.ascontiguousarray(a), mode=None) if mode != "LA" else Image.fromarray(a, "LA")
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return Image.fromarray((np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8))
    if image.mode in ("I", "F"):
        a = np.asarray(image, dtype=np.float32)
        lo, hi = float(a.min()), float(a.max())
        return Image.fromarray(((a - lo) * (255.0 / (hi - lo if hi > lo else 1.0))).astype(np.uint8))
    return image


class _Canvas:
    """An image to sample regions of, at any resolution, composited onto a contrasting background.

    Opaque images are plain 8-bit grey. A transparent image whose opaque part
    is small (a drawing on a transparent canvas) is read by its alpha alone:
    whatever was drawn is ink, whatever its colour, and the colour under
    transparent pixels (arbitrary in a canvas export) never matters. Otherwise
    (say, a transparent logo around a white card) it is kept as premultiplied
    grey (grey x alpha) and alpha, and composited on demand: composite =
    premultiplied grey + b * (1 - alpha). Area averages and bilinear resizes are
    linear, so any region is sampled at any resolution without compositing the
    full-resolution image. Full-resolution work stays in Pillow's C code.
    """

    def __init__(self, image):
        img = _as_pil(image)
        self.alpha = self.grey = None
        self._rgba = None
        if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info):
            rgba = img if img.mode in ("RGBA", "LA") else img.convert("RGBA")
            alpha = rgba.getchannel("A")
            if alpha.getextrema()[0] < 255:
                self.alpha, self._rgba = alpha, rgba
            else:
                self.grey = rgba.convert("L")
        else:
            self.grey = img.convert("L")
        self.size = img.size
        self.background = 0.0  # composite background for transparent images, set by overview()

    def _channels(self, box, reduce: int, size):
        for channel in (self.grey, self.alpha):
            if channel is None:
                yield None
                continue
            if box is not None:
                channel = channel.crop(box)
            if reduce > 1:
                channel = channel.reduce(reduce)
            elif size is not None:
                channel = channel.resize(size, Image.BILINEAR)
            yield np.asarray(channel, dtype=np.float32) / 255.0

    def overview(self, reduce: int) -> np.ndarray:
        """The whole composite, area-reduced. For transparent images it also decides how to read them:
        by alpha alone (a drawing), or composited with dark ink on white / light ink on black."""
        grey, alpha = self._channels(None, reduce, None)
        if alpha is None:
            return grey
        if grey is None and alpha.mean() < 0.5:  # a drawing on a transparent canvas: ink is what is opaque
            self.background = 1.0
            return 1.0 - alpha
        if grey is None:  # mostly opaque: its colours matter, composite them
            self.grey = ImageChops.multiply(self._rgba.convert("L"), self.alpha)
            grey, alpha = self._channels(None, reduce, None)
        covered = float(alpha.sum())
        ink_level = float(grey.sum()) / covered if covered > 0 else 0.0
        self.background = 1.0 if ink_level < 0.5 else 0.0
        return grey + self.background * (1.0 - alpha)

    def sample(self, box=None, reduce: int = 1, size: tuple[int, int] | None = None) -> np.ndarray:
        """Composite of a region as floats in [0, 1]: area-reduced by `reduce` or resized to `size`."""
        grey, alpha = self._channels(box, reduce, size)
        if alpha is None:
            return grey
        return (0.0 if grey is None else grey) + self.background * (1.0 - alpha)


# ---------------------------------------------------------------------------
# Small array helpers (numpy only)


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a float image; area averaging when shrinking, bilinear when growing."""
    shrinking = width < a.shape[1] or height < a.shape[0]
    out = Image.fromarray(a.astype(np.float32)).resize(
        (max(1, width), max(1, height)), Image.BOX if shrinking else Image.BILINEAR
    )
    return np.asarray(out, dtype=np.float32)


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """8-connected components of a boolean mask, as row runs: (row, start, end, component) arrays.

    Runs are found with numpy; so are the pairs of runs in consecutive rows that
    touch (diagonals included): the runs above a run [s, e) that touch it are
    those with start <= e and end >= s, a contiguous range found by binary search.
    Only the union-find over those pairs is a Python loop.
    """
    width = mask.shape[1] + 2
    padded = np.zeros((mask.shape[0], width), bool)  # a blank column each side: every run starts and ends in its row
    padded[:, 1:-1] = mask
    flat = padded.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1])  # alternately: before a run starts, at its last pixel
    rows, starts = np.divmod(change[0::2], width)  # start and end in the mask's columns, end exclusive
    ends = change[1::2] - rows * width
    n = len(rows)
    # runs in row-major order: their start and end keys are both sorted
    above = (rows - 1) * width
    lo = np.searchsorted(rows * width + ends, above + starts, side="left")
    hi = np.searchsorted(rows * width + starts, above + ends, side="right")
    counts = np.maximum(hi - lo, 0)
    below = np.repeat(np.arange(n), counts)
    first = np.repeat(lo - np.cumsum(counts) + counts, counts)
    upper = first + np.arange(len(below))

    parent = list(range(n))
    for i, j in zip(below.tolist(), upper.tolist()):
        while parent[i] != i:
            parent[i] = i = parent[parent[i]]
        while parent[j] != j:
            parent[j] = j = parent[parent[j]]
        if i != j:
            parent[i] = j
    labels = np.array(parent, dtype=np.intp)
    while True:  # point every run at its root
        hop = labels[labels]
        if np.array_equal(hop, labels):
            break
        labels = hop
    return rows, starts, ends, labels


def _dilate(m: np.ndarray, square: bool) -> np.ndarray:
    p = np.zeros((m.shape[0] + 2, m.shape[1] + 2), bool)  # zero border (np.pad costs more than the work)
    p[1:-1, 1:-1] = m
    out = m | p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]
    if square:
        out |= p[:-2, :-2] | p[:-2, 2:] | p[2:, :-2] | p[2:, 2:]
    return out


def _erode(m: np.ndarray, square: bool) -> np.ndarray:
    return ~_dilate(~m, square)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: area over half the boundary length.

    For a long stroke of width w and length L, area = wL and the boundary
    crosses pixel edges about 2L times, so 2*area/edges estimates w.
    """
    area = int(np.count_nonzero(mask))
    if area == 0:
        return 0.0
    edges = (np.count_nonzero(mask[1:] != mask[:-1]) + np.count_nonzero(mask[0]) + np.count_nonzero(mask[-1])
             + np.count_nonzero(mask[:, 1:] != mask[:, :-1]) + np.count_nonzero(mask[:, 0])
             + np.count_nonzero(mask[:, -1]))
    return 2.0 * area / max(int(edges), 1)


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _normalize_thickness(mask: np.ndarray) -> np.ndarray:
    """Dilate or erode until the stroke width relative to the digit's size is MNIST's."""
    target = CONFIG["stroke_width"] / CONFIG["work_side"]  # width per pixel of longest side
    tolerance = CONFIG["stroke_tolerance"] / CONFIG["work_side"]
    mask = np.pad(mask, 24)
    area0 = np.count_nonzero(mask)

    def ratio(m):
        y0, y1, x0, x1 = _bbox(m)
        return stroke_width(m) / max(y1 - y0, x1 - x0)

    for step in range(24):
        r = ratio(mask)
        if r < target - tolerance:
            mask = _dilate(mask, square=step % 2 == 1)
        elif r > target + tolerance:
            thinner = _erode(mask, square=step % 2 == 1)
            if np.count_nonzero(thinner) < 0.4 * area0:
                break  # eroding further would break the digit apart
            mask = thinner
        else:
            break
    return mask


# ---------------------------------------------------------------------------
# The function


def preprocess(image) -> Preprocessed:
    """Any image (PIL, array, path or bytes) -> Preprocessed(28x28 float array, display image).

    Raises BlankImageError when there is no ink and ImageError when the input
    cannot be read.
    """
    if isinstance(image, (str, os.PathLike, bytes, bytearray)):
        image = open_image(image)
    if isinstance(image, Image.Image):
        check_size(*image.size)
    elif isinstance(image, np.ndarray) and image.ndim >= 2:
        check_size(image.shape[1], image.shape[0])
    else:
        raise ImageError(f"cannot read a digit from {type(image).__name__}")

    canvas = _Canvas(image)
    width, height = canvas.size

    # Detect at low resolution (area-averaged): background, polarity, contrast, specks, bounding box.
    f1 = max(1, -(-max(width, height) // CONFIG["detect_side"]))
    low = canvas.overview(f1)
    border = np.concatenate([low[0], low[-1], low[1:-1, 0], low[1:-1, -1]])
    background = float(np.median(border))
    sign = -1.0 if background > 0.5 else 1.0  # dark ink on light ground -> invert
    ink_low = np.clip(sign * (low - background), 0.0, None)
    contrast = float(ink_low.max())
    if contrast < CONFIG["min_contrast"]:
        raise BlankImageError("the image is blank: draw or upload a digit")
    ink_low /= contrast

    rows, starts, ends, component = _components(ink_low >= CONFIG["detect_threshold"])
    size = np.bincount(component, weights=ends - starts)[component]  # of each run's component
    kept = size >= CONFIG["speck_fraction"] * size.max()
    r0, r1 = int(rows[kept].min()), int(rows[kept].max()) + 1
    c0, c1 = int(starts[kept].min()), int(ends[kept].max())
    box = (c0 * f1, r0 * f1, min(c1 * f1, width), min(r1 * f1, height))
    dropped = zip(rows[~kept].tolist(), starts[~kept].tolist(), ends[~kept].tolist())

    # Sample the ink's box at a resolution where its longest side is about work_side px.
    work = CONFIG["work_side"]
    bw, bh = box[2] - box[0], box[3] - box[1]
    if max(bw, bh) >= 2 * work:
        factor = max(bw, bh) // work
        crop = canvas.sample(box, reduce=factor)
    elif max(bw, bh) < work:
        factor = max(bw, bh) / work
        crop = canvas.sample(box, size=(max(1, round(bw / factor)), max(1, round(bh / factor))))
    else:
        factor = 1
        crop = canvas.sample(box)
    ink = np.clip(sign * (crop - background), 0.0, None)
    for r, s, e in dropped:  # specks inside the box, in working-resolution pixels
        ink[max(0, int((r * f1 - box[1]) / factor)):max(0, int(-(-((r + 1) * f1 - box[1]) // factor))),
            max(0, int((s * f1 - box[0]) / factor)):max(0, int(-(-(e * f1 - box[0]) // factor)))] = 0
    mask = ink >= CONFIG["work_threshold"] * max(float(ink.max()), 1e-6)
    if not mask.any():
        raise BlankImageError("the image is blank: draw or upload a digit")
    mask = _normalize_thickness(mask)

    # Fit the longest side into the 20x20 box, area-averaged (anti-aliased like MNIST).
    y0, y1, x0, x1 = _bbox(mask)
    crop = mask[y0:y1, x0:x1].astype(np.float32)
    s = BOX / max(crop.shape)
    small = np.clip(_resize(crop, round(crop.shape[1] * s), round(crop.shape[0] * s)), 0.0, 1.0)
    return Preprocessed(*_place(small))


def _place(small: np.ndarray) -> tuple[np.ndarray, Image.Image]:
    """Put the box in 28x28 with its centre of mass on the centre, by a whole-pixel shift.

    MNIST did the same: its centres of mass sit within half a pixel of the
    centre (standard deviation 0.29 px), and a sub-pixel shift would blur the strokes.
    """
    h, w = small.shape
    total = float(small.sum())
    cy = float((small.sum(axis=1) * np.arange(h)).sum()) / total
    cx = float((small.sum(axis=0) * np.arange(w)).sum()) / total
    top = int(np.clip(round(CONFIG["center"][0] - cy), 0, SIZE - h))
    left = int(np.clip(round(CONFIG["center"][1] - cx), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top:top + h, left:left + w] = small
    return out, to_display(out)


def to_display(array: np.ndarray) -> Image.Image:
    """28x28 float array -> 8-bit greyscale image (white ink on black, as the model sees it)."""
    return Image.fromarray(np.round(np.clip(array, 0, 1) * 255).astype(np.uint8))
