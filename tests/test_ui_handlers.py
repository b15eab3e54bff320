"""The page's handler functions, called directly with what Gradio 6 hands them."""

import gradio as gr
import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

from conftest import upscale
from mnist_demo.strokes import render_condition
from mnist_demo.ui import BLANK_MESSAGE, DrawingPad, Served, predict_drawing, predict_file, read_drawing


@pytest.fixture(scope="module")
def served_holder():
    return Served(None)


def sketchpad_value(rgba: np.ndarray) -> dict:
    """What Gradio 6's Sketchpad sends with type='numpy': background, layers and composite, RGBA."""
    h, w = rgba.shape[:2]
    return {"background": np.zeros((h, w, 4), np.uint8), "layers": [rgba], "composite": rgba}


def test_drawing_on_transparent_canvas_with_junk_colour_underneath(served_holder, drawn):
    for digit in (2, 5, 8):
        img = render_condition(drawn[digit][1], "transparent canvas, 14px brush", seed=digit)
        rgba = np.asarray(img)
        assert (rgba[..., 3] == 0).mean() > 0.9 and rgba[rgba[..., 3] == 0, :3].std() > 50  # junk under alpha 0
        label, processed, message = predict_drawing(served_holder, sketchpad_value(rgba))
        assert max(label, key=label.get) == str(digit), label
        assert Image.open(processed).size == (28, 28)
        assert f"**{digit}**" in message


def test_blank_canvas_gets_a_friendly_message(served_holder):
    empty = np.zeros((420, 420, 4), np.uint8)
    empty[..., :3] = 255  # white but fully transparent
    assert predict_drawing(served_holder, sketchpad_value(empty)) == (None, None, BLANK_MESSAGE)
    assert predict_drawing(served_holder, None) == (None, None, BLANK_MESSAGE)
    assert predict_drawing(served_holder, {"background": None, "layers": [], "composite": None})[2] == BLANK_MESSAGE
    assert read_drawing(None) is None


def _error(served, path) -> str:
    with pytest.raises(gr.Error) as err:
        predict_file(served, str(path))
    return str(err.value.message)


def test_bad_uploads_get_clear_messages(served_holder, tmp_path):
    (tmp_path / "notes.png").write_text("this is text, not a picture")
    assert "not a readable image" in _error(served_holder, tmp_path / "notes.png")

    Image.new("L", (20000, 20000), 255).save(tmp_path / "huge.png")  # 400 MP, compresses to ~0.4 MB
    assert "too large" in _error(served_holder, tmp_path / "huge.png")

    Image.new("L", (1, 1), 0).save(tmp_path / "dot.png")
    assert "too small" in _error(served_holder, tmp_path / "dot.png")

    Image.new("RGB", (200, 200), "white").save(tmp_path / "blank.png")
    assert "blank" in _error(served_holder, tmp_path / "blank.png")

    truncated = tmp_path / "cut.png"
    render_like = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300), np.uint8))
    render_like.save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    assert "damaged" in _error(served_holder, truncated)

    assert "No image" in _error(served_holder, "")


def test_odd_modes_are_read(served_holder, mnist, tmp_path):
    (_, _), (x_test, y_test) = mnist
    big = upscale(x_test[0])  # a 7, white on black
    want = str(y_test[0])
    paper = 255 - big
    cases = {
        "cmyk.jpg": Image.fromarray(paper).convert("CMYK"),
        "sixteen.png": Image.fromarray(paper.astype(np.uint16) * 257),
        "bilevel.png": Image.fromarray(paper).convert("1"),
        "palette.png": Image.fromarray(paper).convert("P"),
        "la.png": Image.fromarray(np.dstack([np.zeros_like(big), big]), "LA"),
    }
    for name, img in cases.items():
        img.save(tmp_path / name)
        label, processed = predict_file(served_holder, str(tmp_path / name))
        assert max(label, key=label.get) == want, name

    frames = [Image.fromarray(paper), Image.new("L", paper.shape[::-1], 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
    label, _ = predict_file(served_holder, str(tmp_path / "anim.gif"))
    assert max(label, key=label.get) == want  # an animation is read by its first frame


def test_drawing_pad_decodes_nothing_and_passes_the_composite_on(served_holder, tmp_path, drawn):
    from gradio.components.image_editor import EditorData
    from gradio.data_classes import FileData

    render_condition(drawn[6][0], "transparent canvas, 14px brush").save(tmp_path / "composite.png")
    (tmp_path / "junk.png").write_text("not an image")  # decoding this would raise
    payload = EditorData(background=FileData(path=str(tmp_path / "junk.png")),
                         layers=[FileData(path=str(tmp_path / "junk.png"))],
                         composite=FileData(path=str(tmp_path / "composite.png")))
    value = DrawingPad(type="numpy", image_mode="RGBA").preprocess(payload)
    assert value == {"background": None, "layers": [], "composite": str(tmp_path / "composite.png")}
    label, _, message = predict_drawing(served_holder, value)
    assert max(label, key=label.get) == "6" and "**6**" in message
    with pytest.raises(UnidentifiedImageError):  # Gradio's own Sketchpad decodes all three
        gr.Sketchpad(type="numpy", image_mode="RGBA").preprocess(payload)


@pytest.fixture(scope="module")
def served_by_worker():
    served = Served(None, worker=True)
    yield served
    served.backend.close()


def test_the_worker_answers_as_the_server_process_would(served_holder, served_by_worker, drawn, tmp_path):
    sources = []
    for digit in range(10):
        path = tmp_path / f"{digit}.png"
        render_condition(drawn[digit][0], "thin 5px pen, 800x600").save(path)
        sources.append(str(path))
    sources.append(np.asarray(render_condition(drawn[3][1], "transparent canvas, 14px brush")))  # an array
    for source in sources:
        here, there = served_holder.answer(source), served_by_worker.answer(source)
        assert there.label == here.label and there.image == here.image  # the same picture, named by its content
        np.testing.assert_allclose(there.probabilities, here.probabilities, atol=1e-6)
    assert [served_by_worker.answer(s).label for s in sources[:10]] == list(range(10))

    (tmp_path / "note.png").write_text("text, not a picture")
    Image.new("L", (20000, 20000), 255).save(tmp_path / "huge.png")
    Image.new("RGB", (200, 200), "white").save(tmp_path / "blank.png")
    for bad in ("note.png", "huge.png", "blank.png", "absent.png"):  # the same message from either
        assert _error(served_by_worker, tmp_path / bad) == _error(served_holder, tmp_path / bad)
    blank = np.zeros((420, 420, 4), np.uint8)
    assert predict_drawing(served_by_worker, {"composite": blank}) == (None, None, BLANK_MESSAGE)


def test_a_killed_worker_is_started_again(served_by_worker, drawn, tmp_path):
    path = tmp_path / "7.png"
    render_condition(drawn[7][0], "natural 800x600, 18px brush").save(path)
    first = served_by_worker.backend.process
    first.kill()
    first.wait()
    assert served_by_worker.answer(str(path)).label == 7
    assert served_by_worker.backend.process.pid != first.pid


def test_serving_a_new_model_reaches_the_worker(served_holder, served_by_worker, drawn, tmp_path):
    from mnist_demo.recognizer import CHECKPOINT_DIR, load

    seed, default = CHECKPOINT_DIR / "seed" / "model.keras", served_by_worker.path
    image = np.asarray(render_condition(drawn[2][0], "big 300px, 32px brush, 400x400"))
    want_seed = load(seed).predict(image).probabilities
    want_default = served_holder.backend.recognizer.predict(image).probabilities  # the same default model, loaded here
    close = dict(rtol=1e-4, atol=1e-20)  # the same model on the same input: the same numbers, even the tiny ones
    assert not np.allclose(want_seed, want_default, **close)
    try:
        served_by_worker.swap(str(seed))
        np.testing.assert_allclose(served_by_worker.answer(image).probabilities, want_seed, **close)
    finally:
        served_by_worker.swap(default)
    np.testing.assert_allclose(served_by_worker.answer(image).probabilities, want_default, **close)
