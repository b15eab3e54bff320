import numpy as np
import pytest

from mnist_demo.models import ARCHITECTURES, build

# Parameter counts follow from the layer definitions; the seed's matches the blog's summary.
EXPECTED_PARAMS = {"seed": 101_578, "default": 279_850}


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_builds_with_ten_probabilities(name):
    model = build(name)
    out = np.asarray(model(np.random.rand(3, 28, 28, 1).astype("float32"), training=False))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    if EXPECTED_PARAMS[name] is not None:
        assert model.count_params() == EXPECTED_PARAMS[name]


def test_default_is_small():
    assert build("default").count_params() < 500_000


def test_unknown_architecture():
    with pytest.raises(ValueError, match="choose from"):
        build("resnet")
