"""What a person does on the page, in Debian's Chromium driven by Playwright."""

import pytest

from mnist_demo.strokes import fit, simplify

pytestmark = [pytest.mark.browser, pytest.mark.server]


def open_page(browser, app_server, width=1280, height=900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(app_server.url, wait_until="networkidle")
    page.wait_for_function(
        "() => document.querySelector('#sketchpad button[aria-label=\"Brush\"]')?.classList.contains('highlight')",
        timeout=15000,
    )
    return page


def draw(page, drawing):
    """Mouse strokes of a drawn-set digit, scaled to two thirds of the canvas."""
    box = page.locator("#sketchpad canvas").first.bounding_box()
    size = min(box["width"], box["height"])
    strokes = fit(drawing, height=size * 0.6, center=(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2))
    for stroke in (simplify(s, 12) for s in strokes):  # each mouse move costs ~0.2 s on Gradio's canvas
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y)
        page.mouse.up()


def shown_label(page, timeout=15000) -> str:
    page.wait_for_function("() => document.querySelector('#label h2')", timeout=timeout)
    return page.locator("#label h2").first.inner_text().strip()


def brush_active(page) -> bool:
    return page.evaluate(
        "() => document.querySelector('#sketchpad button[aria-label=\"Brush\"]').classList.contains('highlight')"
    )


def test_draw_digits_and_read_the_label(browser, app_server, drawn, output_dir):
    page = open_page(browser, app_server)
    assert "select the draw tool" not in page.locator("#sketchpad").inner_text()
    assert page.locator("#sketchpad").inner_text().count("100%") == 1  # the canvas is shown whole, unzoomed
    correct = []
    for i, digit in enumerate((0, 2, 3, 5, 7, 9)):
        draw(page, drawn[digit][i])
        page.wait_for_function(
            "() => /Looks like/.test(document.querySelector('#message').innerText)", timeout=15000
        )
        got = shown_label(page)
        correct.append(got == str(digit))
        if i == 0:
            page.screenshot(path=str(output_dir / "app-draw.png"))
        if i % 2 == 0:
            page.get_by_role("button", name="Clear", exact=True).click()
        else:  # the canvas's own trash button, which drops the tool in plain Gradio
            page.locator('#sketchpad button[aria-label="Clear canvas"]').click()
        page.wait_for_function("() => /Draw a digit/.test(document.querySelector('#message').innerText)",
                               timeout=15000)
        page.wait_for_timeout(400)
        assert brush_active(page), "the brush must be ready again after clearing"
    assert sum(correct) >= 5, correct
    page.close()


def test_phone_sized_screen_shows_the_whole_canvas(browser, app_server, output_dir):
    page = open_page(browser, app_server, width=390, height=844)
    canvas = page.locator("#sketchpad canvas").first.bounding_box()
    assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= 390
    page.screenshot(path=str(output_dir / "app-phone.png"), full_page=True)
    page.close()


def test_train_tab_streams_epochs(browser, app_server, output_dir):
    page = open_page(browser, app_server)
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-epochs input[type=number]").fill("2")
    page.locator("#train-epochs input[type=number]").press("Enter")
    page.locator("#train-subset input[type=number]").fill("1000")
    page.locator("#train-subset input[type=number]").press("Enter")
    page.locator("#train-start").click()
    page.wait_for_function(
        "() => /epoch 2\\/2/.test(document.querySelector('#train-log textarea').value)", timeout=240000
    )
    log = page.locator("#train-log textarea").input_value()
    assert "epoch 1/2" in log and "epoch 2/2" in log
    page.wait_for_function("() => /Done/.test(document.querySelector('#train-log textarea').value)", timeout=120000)
    assert "new model" in page.locator("#train-compare").inner_text()
    page.screenshot(path=str(output_dir / "app-train.png"), full_page=True)
    page.close()
