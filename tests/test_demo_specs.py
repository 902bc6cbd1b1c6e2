"""The demo's experiments are TOML spec files next to the package, read like catalogue specs."""

from __future__ import annotations

import pytest

from keraslab.demo import DEMO_DIR, demo_specs
from keraslab.experiments import SpecError, catalog_names


def test_demo_specs_are_files_named_after_their_experiments_and_not_catalogue_entries():
    files = sorted(p.stem for p in DEMO_DIR.glob("*.toml"))
    assert files == ["demo-1-baseline", "demo-2-batch-size", "demo-3-cv", "demo-4-coarse-to-fine"]
    assert [s.name for s in demo_specs()] == files
    assert not set(files) & set(catalog_names())  # `keraslab list` shows the chapter only


def test_demo_spec_tables_are_the_files_contents():
    import keraslab.demo

    tables = keraslab.demo.DEMO_SPECS
    assert list(tables) == [s.name for s in demo_specs()]
    search = tables["demo-4-coarse-to-fine"]["explore"]
    assert (search["kind"], search["rounds"], search["resolution"]) == ("multires", 2, 2)
    assert search["params"]["model.neurons_per_layer"] == {"int": [8, 64], "log": True, "bounds": [4, 128]}


def test_a_bad_override_names_the_demo_file():
    with pytest.raises(SpecError, match="demo-1-baseline.toml"):
        demo_specs(["train.epochs=0"])
