"""Rules that several layers enforce, each written once (no TensorFlow import here, so the
command line can use them before TensorFlow loads)."""
