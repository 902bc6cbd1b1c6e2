"""Data tooling for the chapter's experiments: data sets, preprocessing, augmentation,
synthetic shapes, sine sequences and text.

Everything is seeded and reproducible, and nothing materialises a tensor that can be
produced batch by batch. Imports nothing from keraslab except :mod:`keraslab.errors`.

Examples
--------
>>> from keraslab import data as kd
>>> X, y = kd.load_digits()
>>> kd.one_hot(y)[0].shape
(1797, 10)
"""

from keraslab.data.augment import ImageAugmenter, ImageFlow, TransformParameters
from keraslab.data.datasets import load_corpus, load_digits, load_fashion_mnist, load_mnist
from keraslab.data.prepare import one_hot, scale, to_flat, to_float32, to_images
from keraslab.data.sequences import sum_of_sines, sum_of_upsloping_sines, windows
from keraslab.data.shapes import SHAPES, ShapesDataset, draw_shape
from keraslab.data.text import (
    CharVocabulary,
    OneHotFragments,
    Vocabulary,
    WordVocabulary,
    fragments,
    sample_with_temperature,
)

__all__ = [
    "load_mnist",
    "load_fashion_mnist",
    "load_digits",
    "load_corpus",
    "to_float32",
    "scale",
    "to_flat",
    "to_images",
    "one_hot",
    "ImageAugmenter",
    "ImageFlow",
    "TransformParameters",
    "SHAPES",
    "draw_shape",
    "ShapesDataset",
    "sum_of_sines",
    "sum_of_upsloping_sines",
    "windows",
    "Vocabulary",
    "CharVocabulary",
    "WordVocabulary",
    "fragments",
    "OneHotFragments",
    "sample_with_temperature",
]
