"""mnist_demo: a Gradio + Keras handwritten-digit demo that trains, explains and deploys itself."""

import os

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) is noise on a CPU machine.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
