"""What Spaces and Deta Space read: the README's front matter and the Spacefile."""

import re

import yaml
from huggingface_hub import metadata_load

from conftest import ROOT
from mnist_demo.ui import training_allowed


def pinned(package):
    text = (ROOT / "requirements.txt").read_text()
    return re.search(rf"^{package}==(\S+)$", text, re.M).group(1)


def test_spaces_front_matter():
    meta = metadata_load(ROOT / "README.md")
    assert meta["sdk"] == "gradio"
    assert meta["sdk_version"] == pinned("gradio")
    assert (ROOT / meta["app_file"]).is_file()
    assert meta["python_version"] and meta["license"] and meta["title"]
    assert 0 < len(meta["short_description"]) <= 60


def test_spacefile_runs_the_same_app():
    spec = yaml.safe_load((ROOT / "Spacefile").read_text())
    assert spec["v"] == 0
    micro = spec["micros"][0]
    assert "app.py" in micro["run"] and "$PORT" in micro["run"]
    assert "requirements.txt" in " ".join(micro["commands"])
    for path in micro["include"]:
        assert path == ".deps/" or (ROOT / path).exists(), path


def test_training_is_off_on_spaces_and_public_links(monkeypatch):
    monkeypatch.delenv("MNIST_DEMO_TRAINING", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert training_allowed(None) is True
    assert training_allowed(None, share=True) is False
    assert training_allowed(True, share=True) is True
    monkeypatch.setenv("SPACE_ID", "someone/draw-a-digit")
    assert training_allowed(None) is False
    monkeypatch.setenv("MNIST_DEMO_TRAINING", "1")
    assert training_allowed(None) is True
