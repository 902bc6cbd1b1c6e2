"""The HTML report: escaping, embedded images, tables; and a real check in headless Chromium."""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from keraslab import plots
from keraslab.report import render_report, write_report
from keraslab.store import ResultStore

EVIL = '<script>alert("x")</script> & "quotes"'
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _fill_store(folder):
    """A store with a training run (two figures) and a CV run with a failed fold; names are hostile."""
    store = ResultStore(folder / "runs.sqlite")
    store.save_experiment(EVIL, title=f"title {EVIL}", figures=["B3-1"], reference={"val_acc": 0.99})
    run_id = store.begin_run(EVIL, kind="train", spec_text=f'[experiment]\ntitle = "{EVIL}"\n', backend="jax")
    fit = store.begin_fit(run_id, "training")
    history = {"loss": [0.9, 0.4, 0.2], "accuracy": [0.7, 0.9, 0.95], "val_loss": [1.0, 0.5, 0.4],
               "val_accuracy": [0.6, 0.85, 0.9]}
    for epoch in range(3):
        store.record_epoch(fit, epoch + 1, {k: v[epoch] for k, v in history.items()}, seconds=1.0)
    store.end_fit(fit, "finished", seconds=3.0)
    folder_run = store.run_folder(run_id)
    store.add_figure(run_id, "history", plots.save_figure(plots.plot_history(history), folder_run / "history.png"))
    grid = plots.image_grid(np.random.default_rng(0).random((4, 8, 8)), labels=[EVIL] * 4)
    store.add_figure(run_id, f"images {EVIL}", plots.save_figure(grid, folder_run / "images.png"), caption=EVIL)
    store.finish_run(run_id, "finished", summary={
        "lines": [f"Epoch 3/3 - 1s - loss: 0.2000 {EVIL}"],
        "comparisons": [f"val_acc: chapter: 0.9900 · this run: 0.9000 {EVIL}"],
    })
    cv = store.begin_run("cv", kind="cv", spec_text="")
    store.record_candidate(cv, 0, {"model.n": EVIL})
    store.record_fold(cv, 0, 1, status="finished", score=0.95, seconds=1.0)
    store.record_fold(cv, 0, 2, status="failed", error=f"RuntimeError: {EVIL}")
    store.finish_run(cv, "finished", summary={"lines": ["fold scores: 0.9500 FAILED"]}, error="")
    return store, run_id, cv


def test_every_user_string_is_escaped(tmp_path):
    store, run_id, cv = _fill_store(tmp_path)
    text = render_report([store.run(run_id), store.run(cv)], title=EVIL)
    assert "<script" not in text  # the report has no scripts, and no name can smuggle one in
    assert html.escape(EVIL, quote=True) in text
    assert 'alt="images &lt;script&gt;' in text
    assert "RuntimeError: &lt;script&gt;" in text
    store.close()


def test_images_are_embedded_and_match_the_pngs(tmp_path):
    store, run_id, cv = _fill_store(tmp_path)
    path = write_report(store, tmp_path / "out" / "report.html", run_ids=[run_id, cv])
    text = path.read_text()
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 2
    for encoded, figure in zip(images, store.run(run_id).figures):
        assert base64.b64decode(encoded) == open(figure.path, "rb").read()
    assert 'id="run-1"' in text and 'id="run-2"' in text and 'href="#run-2"' in text
    assert '<tr class="failed">' in text  # the failed fold stands out
    assert "<td class=\"text\">—</td>" in text  # and shows no score
    assert "Epochs (3)" in text and "Chapter vs this run" in text
    store.close()


def test_missing_figure_file_is_reported_not_broken(tmp_path):
    store = ResultStore(tmp_path / "runs.sqlite")
    run_id = store.begin_run("x", kind="train", spec_text="")
    store.add_figure(run_id, "history", tmp_path / "gone.png")
    store.finish_run(run_id, "finished")
    text = render_report([store.run(run_id)])
    assert "<img" not in text and "figure history is missing" in text
    store.close()


def test_default_selection_is_the_newest_run_of_each_experiment(tmp_path):
    store = ResultStore(tmp_path / "runs.sqlite")
    ids = [store.begin_run(name, kind="train", spec_text="") for name in ("a", "b", "a")]
    for run_id in ids:
        store.finish_run(run_id, "finished")
    newest = write_report(store).read_text()
    assert 'id="run-3"' in newest and 'id="run-2"' in newest and 'id="run-1"' not in newest
    assert 'id="run-1"' in write_report(store, all_runs=True).read_text()
    assert write_report(store).parent == tmp_path
    store.close()


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium); the browser check cannot run")


PROBE = """<script>
window.addEventListener("load", () => {
  const rows = Array.from(document.images).map(i => i.alt + "|" + i.complete + "|" + i.naturalWidth + "x" + i.naturalHeight);
  const out = document.createElement("pre");
  out.id = "image-probe";
  out.textContent = rows.join("\\n");
  document.body.appendChild(out);
});
</script></body>"""


def test_report_renders_in_headless_chromium_with_every_image_loaded(tmp_path):
    browser = _chromium()
    store, run_id, cv = _fill_store(tmp_path)
    report = write_report(store, tmp_path / "report.html", run_ids=[run_id, cv])
    expected = [Image.open(f.path).size for f in store.run(run_id).figures]
    store.close()
    # The report itself has no scripts; a copy gets a probe that writes each image's natural size into the DOM.
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE))
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="image-probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, f"no probe output; chromium said: {dom.stderr[-500:]}"
    rows = [html.unescape(r).split("|") for r in found.group(1).strip().splitlines()]
    assert len(rows) == 2
    for (alt, complete, size), (width, height) in zip(rows, expected):
        assert complete == "true" and size == f"{width}x{height}", (alt, size)
    shot = tmp_path / "report.png"
    subprocess.run([*common, "--hide-scrollbars", f"--screenshot={shot}", "--window-size=1200,2000",
                    report.as_uri()], capture_output=True, timeout=120)
    with Image.open(shot) as image:
        assert image.size == (1200, 2000)
        assert np.asarray(image.convert("L")).std() > 10  # not a blank page
