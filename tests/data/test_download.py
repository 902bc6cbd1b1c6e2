"""The default downloader (keras.utils.get_file) on local file:// URLs: no network."""

from __future__ import annotations

import pytest

from keraslab.data import datasets


def test_default_downloader_copies_the_resource_to_the_destination(tmp_path):
    source = tmp_path / "served" / "mnist.npz"
    source.parent.mkdir()
    source.write_bytes(b"\x00\x01payload" * 1000)
    destination = tmp_path / "cache" / "mnist.npz.part"
    destination.parent.mkdir()
    datasets._urllib_download(source.as_uri(), destination)
    assert destination.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in destination.parent.iterdir()) == ["mnist.npz.part"]


def test_a_failed_download_is_an_oserror_and_leaves_nothing(tmp_path):
    # _fetch tries the next mirror on OSError; Keras raises a plain Exception, turned into OSError.
    destination = tmp_path / "mnist.npz.part"
    with pytest.raises(OSError, match="missing.npz"):
        datasets._urllib_download((tmp_path / "missing.npz").as_uri(), destination)
    assert not destination.exists()
