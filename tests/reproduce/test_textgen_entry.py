"""The text-generation entry of a reproduction: trains, samples at every temperature, reads back."""

from __future__ import annotations

import pytest

from keraslab.errors import KeraslabValueError
from keraslab.reproduce import reproduce, write_markdown
from keraslab.reproduce.textgen import TEXT_ENTRY, text_settings
from keraslab.store import ResultStore


@pytest.fixture()
def tiny(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("It is a capital mistake to theorize before one has data. " * 30, encoding="utf-8")
    return [f"corpus={corpus}", "window_length=8", "step=4", "batch_size=32", "units=[8]", "generate_length=25"]


def test_trains_samples_at_three_temperatures_then_reads_back(tmp_path, tiny):
    with ResultStore(tmp_path / "runs.sqlite") as db:
        first = reproduce([TEXT_ENTRY], overrides={TEXT_ENTRY: tiny}, store=db)
        (entry,) = first.entries
        assert entry.status == "finished" and not entry.reused and entry.kind == "textgen"
        samples = entry.summary["samples"]
        assert [s["temperature"] for s in samples] == [0.5, 1.0, 1.5]
        assert all(len(s["text"]) == 25 and len(s["seed"]) == 8 for s in samples)
        assert entry.verdict.observations == ("yes: 3 samples of 25 characters at temperatures 0.5, 1, 1.5",)
        loss = next(c for c in entry.verdict.checks if c.metric == "loss")
        assert loss.chapter == 1.9711 and loss.this_run == entry.summary["finals"]["char LSTM [8]"]["loss"]
        assert "units=[8]" in entry.overrides and entry.settings["epochs"] == 1
        assert (tmp_path / f"{TEXT_ENTRY}-samples.txt").read_text(encoding="utf-8").count("temperature") >= 3

        again = reproduce([TEXT_ENTRY], overrides={TEXT_ENTRY: tiny}, store=db)
        assert again.entries[0].reused and again.entries[0].run_id == entry.run_id
        # another setting is another run, not a read-back
        other = reproduce([TEXT_ENTRY], overrides={TEXT_ENTRY: [*tiny, "seed=7"]}, store=db, budget=0)
        assert other.entries[0].status == "not run (budget spent)"

        page = write_markdown(first, tmp_path / "repro.md").read_text(encoding="utf-8")
        assert f"### {TEXT_ENTRY}" in page and "Temperature 1.5 (after epoch 1)" in page
        assert samples[2]["text"][:20].replace("\n", " ") in page


def test_an_unknown_setting_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(KeraslabValueError, match="has no setting 'epoch'.*epochs"):
        reproduce([TEXT_ENTRY], overrides={TEXT_ENTRY: ["epoch=3"]}, store=tmp_path / "runs.sqlite")
    assert text_settings(["epochs=3", "temperatures=[0.2]"])["temperatures"] == [0.2]
