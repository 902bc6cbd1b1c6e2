"""Augmentation: invariants, agreement with scipy, reproducible flows, the disk cache, training with Keras."""

from __future__ import annotations

import doctest

import keras
import numpy as np
import pytest
import scipy.ndimage as ndi

from keraslab.data import _affine, augment
from keraslab.data.augment import ImageAugmenter, TransformParameters
from keraslab import errors as keraslab_errors
from keraslab.errors import KeraslabValueError

CHAPTER_DIGITS = dict(rotation_range=15, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1)


@pytest.fixture(scope="module")
def digits(mnist_arrays):
    return mnist_arrays["x_train"][:96], mnist_arrays["y_train"][:96]


def identity(n, **changes):
    values = dict(
        rotation=np.zeros(n), shift_rows=np.zeros(n), shift_cols=np.zeros(n), shear=np.zeros(n),
        zoom_rows=np.ones(n), zoom_cols=np.ones(n),
        flip_horizontal=np.zeros(n, bool), flip_vertical=np.zeros(n, bool),
    )
    values.update({k: np.broadcast_to(v, (n,)).copy() for k, v in changes.items()})
    return TransformParameters(**values)


@pytest.fixture
def count_transforms(monkeypatch):
    """Count calls of the batch resampler (the only place transform work happens)."""
    calls = []
    original = _affine.affine_resample

    def counting(images, *args, **kwargs):
        calls.append(len(images))
        return original(images, *args, **kwargs)

    monkeypatch.setattr(_affine, "affine_resample", counting)
    return calls


# --------------------------------------------------------------------------- invariants
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("channels", [None, 1, 3])
def test_shape_dtype_and_value_range_are_kept(dtype, channels):
    rng = np.random.default_rng(0)
    shape = (6, 20, 24) + (() if channels is None else (channels,))
    images = (rng.random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    augmenter = ImageAugmenter(rotation_range=40, width_shift_range=0.2, zoom_range=0.3, shear_range=10,
                               horizontal_flip=True, vertical_flip=True)
    out = augmenter.apply(images, augmenter.sample_parameters(6, (20, 24), rng))
    assert out.shape == images.shape and out.dtype == images.dtype
    assert out.min() >= images.min() and out.max() <= images.max()


def test_two_horizontal_flips_are_the_identity_and_one_is_a_mirror(digits):
    x = digits[0][:8]
    augmenter = ImageAugmenter()
    flip = identity(8, flip_horizontal=True)
    once = augmenter.apply(x, flip)
    np.testing.assert_array_equal(once, x[:, :, ::-1])
    np.testing.assert_array_equal(augmenter.apply(once, flip), x)
    upside_down = augmenter.apply(x, identity(8, flip_vertical=True))
    np.testing.assert_array_equal(upside_down, x[:, ::-1])
    floats = x.astype(np.float32) / 255
    np.testing.assert_array_equal(augmenter.apply(augmenter.apply(floats, flip), flip), floats)
    np.testing.assert_array_equal(augmenter.apply(x, identity(8)), x)


def test_conventions_rotation_is_counter_clockwise_and_shift_moves_content():
    image = np.arange(49, dtype=np.float64).reshape(1, 7, 7)
    augmenter = ImageAugmenter(fill_mode="wrap")
    rotated = augmenter.apply(image, identity(1, rotation=90.0))
    np.testing.assert_allclose(rotated[0], np.rot90(image[0], k=-1), atol=1e-9)
    shifted = augmenter.apply(image, identity(1, shift_cols=2.0))
    np.testing.assert_array_equal(shifted[0], np.roll(image[0], -2, axis=1))


@pytest.mark.parametrize(
    "mode, scipy_mode", [("nearest", "nearest"), ("constant", "grid-constant"), ("reflect", "reflect"), ("wrap", "grid-wrap")]
)
def test_batch_resampling_equals_scipy_per_image(mode, scipy_mode):
    rng = np.random.default_rng(1)
    images = rng.random((12, 13, 17, 2)) * 10
    augmenter = ImageAugmenter(rotation_range=60, width_shift_range=0.3, height_shift_range=4, zoom_range=(0.5, 1.5),
                               shear_range=20, horizontal_flip=True, vertical_flip=True, fill_mode=mode, cval=3.5)
    parameters = augmenter.sample_parameters(12, (13, 17), rng)
    ours = augmenter.apply(images, parameters)
    matrices = _affine.transform_matrices(
        parameters.rotation, parameters.shift_rows, parameters.shift_cols, parameters.shear,
        parameters.zoom_rows, parameters.zoom_cols, parameters.flip_vertical, parameters.flip_horizontal, (13, 17),
    )
    expected = np.stack([
        np.stack([ndi.affine_transform(images[i, :, :, c], matrices[i, :, :2], matrices[i, :, 2], order=1,
                                       mode=scipy_mode, cval=3.5) for c in range(2)], axis=-1)
        for i in range(12)
    ])
    np.testing.assert_allclose(ours, expected, atol=1e-9)


def test_sampling_follows_the_ranges_and_is_separate_from_application():
    augmenter = ImageAugmenter(**CHAPTER_DIGITS, horizontal_flip=True)
    p = augmenter.sample_parameters(5000, (28, 28), np.random.default_rng(0))
    assert len(p) == 5000
    assert np.abs(p.rotation).max() <= 15 and np.abs(p.rotation).max() > 14.9
    assert np.abs(p.shift_cols).max() <= 2.8 and np.abs(p.shift_rows).max() > 2.7
    assert p.zoom_rows.min() >= 0.9 and p.zoom_cols.max() <= 1.1
    assert np.all(p.shear == 0) and not p.flip_vertical.any() and 0.45 < p.flip_horizontal.mean() < 0.55
    assert np.abs(ImageAugmenter(width_shift_range=3).sample_parameters(500, (28, 28), np.random.default_rng(0)).shift_cols).max() <= 3
    subset = p.take(np.array([3, 1]))
    assert subset.rotation.tolist() == [p.rotation[3], p.rotation[1]]


def test_random_transform_is_seeded(digits):
    augmenter = ImageAugmenter(**CHAPTER_DIGITS)
    image = digits[0][0]
    first = augmenter.random_transform(image, seed=3)
    assert first.shape == (28, 28) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, augmenter.random_transform(image, seed=3))
    assert not np.array_equal(first, augmenter.random_transform(image, seed=4))
    assert augmenter.random_transform(image[..., None], seed=3).shape == (28, 28, 1)
    with pytest.raises(KeraslabValueError, match="shape \\(28,\\)"):
        augmenter.random_transform(image[0])


def test_constructor_validation():
    with pytest.raises(KeraslabValueError, match="fill_mode='mirror'"):
        ImageAugmenter(fill_mode="mirror")
    with pytest.raises(KeraslabValueError, match="rotation_range=-1"):
        ImageAugmenter(rotation_range=-1)
    with pytest.raises(KeraslabValueError, match="zoom_range=1.5"):
        ImageAugmenter(zoom_range=1.5)
    with pytest.raises(KeraslabValueError, match="zoom_range=\\(0, 2\\)"):
        ImageAugmenter(zoom_range=(0, 2))
    assert ImageAugmenter(zoom_range=[0.5, 2]).zoom_range == (0.5, 2.0)
    config = ImageAugmenter(**CHAPTER_DIGITS).get_config()
    assert ImageAugmenter(**config).get_config() == config


# --------------------------------------------------------------------------- flows
def epoch_batches(flow):
    return [flow[i] for i in range(len(flow))]


def assert_same_batches(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        for part_a, part_b in zip(a, b):
            np.testing.assert_array_equal(part_a, part_b)


def test_flow_same_seed_same_batches_and_labels_follow_images(digits):
    x, y = digits
    augmenter = ImageAugmenter(**CHAPTER_DIGITS)
    flow = augmenter.flow(x, np.arange(96), batch_size=20, seed=11)
    assert len(flow) == 5
    first = epoch_batches(flow)
    assert_same_batches(first, epoch_batches(augmenter.flow(x, np.arange(96), batch_size=20, seed=11)))
    assert [b[0].shape for b in first] == [(20, 28, 28)] * 4 + [(16, 28, 28)]
    seen = np.concatenate([b[1] for b in first])
    assert sorted(seen.tolist()) == list(range(96)) and seen.tolist() != list(range(96))
    # The labels are the rows of the images: recomputing row k's transform gives the batch image.
    batch_x, rows = first[1]
    _, parameters, _ = flow._epoch_state()
    np.testing.assert_array_equal(batch_x, augmenter.apply(x[rows], parameters.take(rows)))
    flow.on_epoch_end()
    second = epoch_batches(flow)
    assert not np.array_equal(first[0][1], second[0][1])  # new order
    row = first[0][1][0]
    where = np.flatnonzero(np.concatenate([b[1] for b in second]) == row)[0]
    assert not np.array_equal(first[0][0][0], np.concatenate([b[0] for b in second])[where])  # new transform


def test_flow_without_targets_and_without_shuffle(digits):
    x, _ = digits
    flow = ImageAugmenter().flow(x[..., None], batch_size=32, shuffle=False, seed=0)
    batch = flow[1]
    assert isinstance(batch, np.ndarray) and batch.shape == (32, 28, 28, 1)
    np.testing.assert_array_equal(batch[..., 0], x[32:64])
    with pytest.raises(KeraslabValueError, match="96 images, 3 targets"):
        ImageAugmenter().flow(x, np.arange(3))
    with pytest.raises(IndexError):
        flow[3]


def test_cached_flow_reproduces_the_first_epoch_without_transform_work(digits, tmp_path, count_transforms):
    x, y = digits
    augmenter = ImageAugmenter(**CHAPTER_DIGITS, horizontal_flip=True)
    uncached_first = epoch_batches(augmenter.flow(x, y, batch_size=32, seed=5))
    count_transforms.clear()
    flow = augmenter.flow(x, y, batch_size=32, seed=5, save_to_dir=tmp_path, save_prefix="aug_")
    first = epoch_batches(flow)
    assert_same_batches(first, uncached_first)  # caching does not change what an epoch holds
    assert sum(count_transforms) == 96
    files = sorted(tmp_path.glob("aug_*.png"))
    assert len(files) == 96 and not list(tmp_path.glob("*.part"))

    count_transforms.clear()
    flow.on_epoch_end()
    second = epoch_batches(flow)
    assert count_transforms == []  # read back from disk, nothing recomputed
    # Epoch 1 visits the rows in a new order, but every row has the image it had in epoch 0.
    def image_per_row(batches, epoch):
        return {int(r): image for i, b in enumerate(batches) for r, image in zip(rows_of(flow, i, epoch), b[0])}

    images_first, images_second = image_per_row(first, 0), image_per_row(second, 1)
    assert images_first.keys() == images_second.keys() == set(range(96))
    assert not np.array_equal(first[0][1], second[0][1])
    for row in images_first:
        np.testing.assert_array_equal(images_first[row], images_second[row])

    fresh = augmenter.flow(x, y, batch_size=32, seed=5, save_to_dir=tmp_path, save_prefix="aug_")
    assert_same_batches(epoch_batches(fresh), first)  # a new flow over the cache replays epoch 0 exactly
    assert count_transforms == []

    other = ImageAugmenter(rotation_range=5).flow(x, y, batch_size=32, seed=5, save_to_dir=tmp_path, save_prefix="aug_")
    epoch_batches(other)
    assert sum(count_transforms) == 96  # other settings never read stale images
    assert len(list(tmp_path.glob("aug_*.png"))) == 192


def rows_of(flow, index, epoch):
    saved = flow.epoch
    flow.epoch = epoch
    try:
        return flow.sample_indices(index)
    finally:
        flow.epoch = saved


def test_float_images_cache_as_npy_exactly_and_png_is_refused(digits, tmp_path, count_transforms):
    x = digits[0][:40].astype(np.float32) / 127.5 - 1  # the chapter's [-1, 1] scaling
    augmenter = ImageAugmenter(**CHAPTER_DIGITS)
    with pytest.raises(KeraslabValueError, match="save_format='npy'.*float32"):
        augmenter.flow(x, save_to_dir=tmp_path)
    with pytest.raises(KeraslabValueError, match="save_format='gif'"):
        augmenter.flow(digits[0], save_to_dir=tmp_path, save_format="gif")
    flow = augmenter.flow(x, batch_size=16, seed=0, save_to_dir=tmp_path, save_format="npy")
    first = epoch_batches(flow)
    count_transforms.clear()
    replay = epoch_batches(augmenter.flow(x, batch_size=16, seed=0, save_to_dir=tmp_path, save_format="npy"))
    assert count_transforms == []
    for a, b in zip(first, replay):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)


def test_partial_cache_fills_in_only_what_is_missing(digits, tmp_path, count_transforms):
    x, y = digits
    augmenter = ImageAugmenter(**CHAPTER_DIGITS)
    flow = augmenter.flow(x, y, batch_size=32, seed=2, save_to_dir=tmp_path)
    reference = epoch_batches(flow)
    for path in sorted(tmp_path.glob("*.png"))[::4]:
        path.unlink()
    count_transforms.clear()
    assert_same_batches(epoch_batches(augmenter.flow(x, y, batch_size=32, seed=2, save_to_dir=tmp_path)), reference)
    assert sum(count_transforms) == 24


# --------------------------------------------------------------------------- keras
def test_a_tiny_model_trains_on_an_augmented_flow(mnist_arrays):
    x = mnist_arrays["x_train"][:256, :, :, None]
    y = mnist_arrays["y_train"][:256]
    flow = ImageAugmenter(**CHAPTER_DIGITS).flow(x, y, batch_size=32, seed=0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(4, 5, strides=3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    history = model.fit(flow, epochs=2, steps_per_epoch=4, verbose=0)  # the chapter's samples_per_epoch / batch
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    assert flow.epoch >= 2


def test_docstring_examples_run():
    assert doctest.testmod(augment).failed == 0


# --------------------------------------------------------------------------- fit / standardisation
def test_featurewise_center_and_std_give_zero_mean_unit_std_per_channel():
    rng = np.random.default_rng(0)
    x = (rng.random((64, 8, 8, 3)) * np.array([50.0, 100.0, 200.0]) + np.array([10.0, 20.0, 30.0])).astype(np.float32)
    augmenter = ImageAugmenter(featurewise_center=True, featurewise_std_normalization=True).fit(x)
    np.testing.assert_allclose(augmenter.standardization.mean_.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    out = augmenter.standardize(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, atol=1e-4)


def test_samplewise_steps_standardise_each_image_and_need_no_fit():
    x = np.random.default_rng(1).random((5, 6, 6)).astype(np.float32) * 9 + 3
    out = ImageAugmenter(samplewise_center=True, samplewise_std_normalization=True).standardize(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.reshape(5, -1).mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.reshape(5, -1).std(axis=1), 1.0, atol=1e-4)


def test_rescale_is_applied_before_the_fitted_statistics():
    x = np.random.default_rng(2).integers(0, 256, (32, 5, 5, 1)).astype(np.uint8)
    augmenter = ImageAugmenter(rescale=1 / 255, featurewise_center=True).fit(x)
    np.testing.assert_allclose(augmenter.standardization.mean_.ravel(), [x.mean() / 255], rtol=1e-5)
    np.testing.assert_allclose(augmenter.standardize(x).mean(), 0.0, atol=1e-5)


def test_zca_whitening_decorrelates_pixels():
    rng = np.random.default_rng(3)
    mixing = rng.normal(size=(16, 16))
    x = (rng.normal(size=(400, 16)) @ mixing).reshape(400, 4, 4, 1).astype(np.float32)
    augmenter = ImageAugmenter(featurewise_center=True, zca_whitening=True, zca_epsilon=1e-8).fit(x)
    flat = augmenter.standardize(x).reshape(400, 16).astype(np.float64)
    np.testing.assert_allclose(flat.T @ flat / 400, np.eye(16), atol=1e-3)


def test_flow_of_a_fitted_augmenter_yields_standardised_float_batches(digits):
    x, y = digits
    augmenter = ImageAugmenter(rotation_range=10, featurewise_center=True, featurewise_std_normalization=True)
    with pytest.raises(keraslab_errors.KeraslabNotFittedError, match="call augmenter.fit"):
        augmenter.flow(x, y, batch_size=32)
    assert augmenter.fit(x[..., None]) is augmenter
    images, labels = augmenter.flow(x, y, batch_size=96, shuffle=False, seed=0)[0]
    assert images.dtype == np.float32 and images.shape == x.shape
    np.testing.assert_array_equal(labels, y)
    assert abs(float(images.mean())) < 0.15 and 0.7 < float(images.std()) < 1.3
    # Without standardisation settings, fit is a no-op and uint8 stays uint8 (Keras 2 code calls fit anyway).
    plain = ImageAugmenter(rotation_range=10).fit(x)
    assert plain.flow(x, y, batch_size=8, seed=0)[0][0].dtype == np.uint8


def test_fit_with_augment_uses_transformed_copies_and_config_round_trips():
    x = np.random.default_rng(4).random((10, 6, 6, 1)).astype(np.float32)
    augmenter = ImageAugmenter(horizontal_flip=True, featurewise_center=True, rescale=2.0)
    augmenter.fit(x, augment=True, rounds=3, seed=0)
    # Flips move pixels but keep the per-channel mean.
    np.testing.assert_allclose(augmenter.standardization.mean_.ravel(), [2 * x.mean()], rtol=1e-5)
    config = augmenter.get_config()
    assert config["featurewise_center"] is True and config["rescale"] == 2.0
    assert ImageAugmenter(**config).get_config() == config
    with pytest.raises(KeraslabValueError, match="rounds"):
        augmenter.fit(x, augment=True, rounds=0)
    with pytest.raises(KeraslabValueError, match="zca_whitening needs"):
        ImageAugmenter(zca_whitening=True).fit(np.zeros((2, 65, 65, 1), np.float32))
