"""The static TensorFlow.js page and its exporter (see export.py)."""
