"""The one preprocessing function: whatever comes in, what goes out looks like MNIST."""

import numpy as np
import pytest
from PIL import Image

from mnist_demo.preprocess import BOX, BlankImageError, ImageError, preprocess
from mnist_demo.strokes import fit, render


def centre_of_mass(x):
    ys, xs = np.mgrid[:28, :28]
    return (x * ys).sum() / x.sum(), (x * xs).sum() / x.sum()


def ink_box(x, level=0.05):
    rows, cols = np.flatnonzero((x > level).any(1)), np.flatnonzero((x > level).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


SEVEN = [[[100, 100], [300, 100], [180, 380]], [[150, 240], [260, 240]]]


def variants(drawn):
    two = drawn[2][0]
    yield "small", render(fit(two, 60, (300, 300)), (600, 600), brush=5)
    yield "large", render(fit(two, 560, (300, 300)), (600, 600), brush=40)
    yield "off-centre", render(fit(two, 120, (80, 520)), (600, 600), brush=8)
    yield "thin", render(fit(two, 300, (400, 300)), (800, 600), brush=3)
    yield "thick", render(fit(two, 300, (400, 300)), (800, 600), brush=60)
    yield "dark-on-light", render(SEVEN, (400, 400), brush=16)
    yield "light-on-dark", render(SEVEN, (400, 400), brush=16, ink=(255, 255, 255), paper=(0, 0, 0))
    yield "transparent", render(SEVEN, (400, 400), brush=16, transparent=True)
    yield "transparent, white ink", render(SEVEN, (400, 400), brush=16, transparent=True, ink=(255, 255, 255))
    yield "mnist-sized", np.asarray(render(fit(two, 20, (14, 14)), (28, 28), brush=2).convert("L"))


def test_centred_and_boxed_whatever_the_input(drawn):
    for name, image in variants(drawn):
        x, shown = preprocess(image)
        assert x.shape == (28, 28) and x.dtype == np.float32, name
        assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.9, name
        cy, cx = centre_of_mass(x)
        assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1, (name, cy, cx)
        h, w = ink_box(x)
        assert max(h, w) <= BOX and max(h, w) >= BOX - 1, (name, h, w)
        assert shown.size == (28, 28) and shown.mode == "L"


def test_pen_width_is_normalized(drawn):
    """Thin pen and fat brush come out with about the same amount of ink."""
    two = fit(drawn[2][0], 300, (400, 300))
    ink = [preprocess(render(two, (800, 600), brush=b)).array.sum() for b in (3, 12, 30, 60)]
    assert max(ink) / min(ink) < 1.6, ink


def test_mnist_digits_come_out_close_to_themselves(mnist):
    (_, _), (x_test, _) = mnist
    corr = [np.corrcoef(preprocess(d).array.ravel(), d.ravel() / 255.0)[0, 1] for d in x_test[:100]]
    assert np.median(corr) > 0.93, np.median(corr)
    assert np.mean(np.array(corr) > 0.9) >= 0.75, sorted(corr)[:10]


def test_a_one_keeps_its_aspect_ratio():
    one = render([[[200, 60], [200, 340]]], (400, 400), brush=14)
    x = preprocess(one).array
    h, w = ink_box(x, 0.3)
    assert h >= 19 and w <= 5, (h, w)


def test_specks_are_ignored():
    img = render(SEVEN, (400, 400), brush=16)
    clean = preprocess(img).array
    dotted = img.copy()
    dotted.paste((0, 0, 0), (20, 20, 24, 24))  # a pen tap far from the digit
    dotted.paste((0, 0, 0), (380, 370, 383, 373))
    np.testing.assert_allclose(preprocess(dotted).array, clean, atol=1e-6)


def test_blank_and_unreadable():
    for blank in (Image.new("RGB", (300, 300), "white"), np.zeros((300, 300, 4), np.uint8),
                  Image.new("L", (100, 100), 0)):
        with pytest.raises(BlankImageError):
            preprocess(blank)
    with pytest.raises(ImageError, match="too small"):
        preprocess(Image.new("L", (1, 1)))
    with pytest.raises(ImageError, match="not a readable image"):
        preprocess(b"plain text")
    with pytest.raises(ImageError):
        preprocess(np.zeros((10, 10, 7)))
