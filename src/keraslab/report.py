"""A static, self-contained HTML report of stored runs: one file, images embedded, no scripts.

Each run gets a section: what ran (spec, data fingerprint, versions), the final
line(s) next to the chapter's reference numbers, its figures (PNG files embedded as
base64, so the report can be mailed or archived alone), and tables of folds, search
candidates and epochs. Every string that comes from a spec, a parameter, an error
message or a file name is HTML-escaped.

Examples
--------
>>> import tempfile, pathlib
>>> from keraslab.store import ResultStore
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = ResultStore(folder / "runs.sqlite")
>>> run_id = store.begin_run("<b>demo</b>", kind="train", spec_text="")
>>> store.finish_run(run_id, "finished", summary={"final_line": "Epoch 1/1"})
>>> html_text = render_report([store.run(run_id)])
>>> "&lt;b&gt;demo&lt;/b&gt;" in html_text and "<b>demo</b>" not in html_text
True
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from keraslab.store import RunRecord, ResultStore

__all__ = ["render_report", "write_report", "DEFAULT_REPORT_NAME"]

DEFAULT_REPORT_NAME = "report.html"
_MAX_EPOCH_ROWS = 200  # beyond this the per-epoch table would bury the figures

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1.5rem; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #ddd; padding-bottom: 0.3rem; }
.meta { color: #666; font-size: 0.9rem; }
.status { font-weight: 600; padding: 0.05rem 0.4rem; border-radius: 0.3rem; }
.status-finished { background: #e3f4e3; color: #1d6b1d; } .status-interrupted { background: #fff2d6; color: #8a5a00; }
.status-failed { background: #fde2e2; color: #9b1c1c; } .status-running { background: #e2ecfd; color: #1c4b9b; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
pre.final { border-left: 4px solid #1f77b4; }
ul.reference { list-style: none; padding-left: 0; } ul.reference li { margin: 0.2rem 0; font-family: monospace; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #666; font-size: 0.85rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; } th { background: #f3f3f3; }
td.text { text-align: left; } tr.failed td { background: #fde2e2; }
nav ol { columns: 2; font-size: 0.9rem; }
.error { color: #9b1c1c; font-weight: 600; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return _dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float | None) -> str:
    from keraslab._console import format_seconds

    return "-" if seconds is None else format_seconds(seconds)


def _number(value: Any) -> str:
    from keraslab.experiments.reference import format_value

    return format_value(value)


def _image(path: str, caption: str, name: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError:
        return f'<p class="error">figure {_e(name)} is missing: {_e(path)}</p>'
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{encoded}" alt="{_e(name)}">'
            f"<figcaption>{_e(caption or name)} · {_e(Path(path).name)}</figcaption></figure>")


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, failed: Sequence[bool] = ()) -> str:
    failed = list(failed)
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="failed"' if i < len(failed) and failed[i] else ""
        cells = "".join(
            f'<td class="text">{_e(v)}</td>' if isinstance(v, str) else f"<td>{_e(_number(v))}</td>" for v in row
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k.split('.', 1)[-1]}={v}" for k, v in params.items()) or "(spec settings)"


def _section(run: RunRecord) -> str:
    figs = f" (Figs {', '.join(run.figure_numbers)})" if run.figure_numbers else ""
    parts = [
        f'<section id="run-{run.id}">',
        f"<h2>{_e(run.experiment)} · {_e(run.title or run.experiment)}{_e(figs)}</h2>",
        f'<p class="meta">run {run.id} · <span class="status status-{_e(run.status)}">{_e(run.status)}</span>'
        f" · {_e(run.kind)} · started {_e(_when(run.started_at))} · took {_e(_duration(run.seconds))}"
        f" · backend {_e(run.backend or '-')} · data {_e(run.dataset_fingerprint or '-')}</p>",
    ]
    if run.error:
        parts.append(f'<p class="error">{_e(run.error)}</p>')
    lines = run.summary.get("lines") or ([run.summary["final_line"]] if run.summary.get("final_line") else [])
    if lines:
        parts.append(f'<pre class="final">{_e(chr(10).join(lines))}</pre>')
    comparisons = run.summary.get("comparisons", [])
    if comparisons:
        items = "".join(f"<li>{_e(c)}</li>" for c in comparisons)
        parts.append(f'<h3>Chapter vs this run</h3><ul class="reference">{items}</ul>')
    parts += [_image(f.path, f.caption, f.name) for f in run.figures]
    if run.folds:
        parts.append("<h3>Folds</h3>")
        parts.append(_table(
            ["candidate", "fold", "status", "score", "seconds", "error"],
            [(f.candidate, f.fold, f.status, f.score if f.status == "finished" else "—", f.seconds, f.error)
             for f in run.folds],
            failed=[f.status == "failed" for f in run.folds],
        ))
    if len(run.candidates) > 1:
        parts.append("<h3>Search candidates</h3>")
        scored = sorted((c for c in run.candidates if c.mean_score is not None and c.status == "finished"),
                        key=lambda c: -c.mean_score)
        rank = {c.idx: i + 1 for i, c in enumerate(scored)}
        parts.append(_table(
            ["#", "parameters", "status", "mean score", "std", "rank"],
            [(c.idx, _params_text(c.params), c.status, c.mean_score, c.std_score, rank.get(c.idx, "—"))
             for c in run.candidates],
            failed=[c.status == "failed" for c in run.candidates],
        ))
    if run.fits and run.kind == "sweep":
        parts.append("<h3>Trainings</h3>")
        parts.append(_table(
            ["training", "status", "epochs", "seconds", "last loss", "error"],
            [(f.label, f.status, len(f.history.get("loss", [])), f.seconds,
              f.history["loss"][-1] if f.history.get("loss") else "—", f.error) for f in run.fits],
            failed=[f.status == "failed" for f in run.fits],
        ))
    if len(run.fits) == 1 and run.fits[0].history:
        fit = run.fits[0]
        keys = list(fit.history)
        n = len(fit.history[keys[0]])
        rows = [[i + 1, *(fit.history[k][i] for k in keys), fit.epoch_seconds[i]] for i in range(min(n, _MAX_EPOCH_ROWS))]
        parts.append(f"<details><summary>Epochs ({n})</summary>{_table(['epoch', *keys, 'seconds'], rows)}</details>")
    parts.append(f"<details><summary>Spec</summary><pre>{_e(run.spec)}</pre></details>")
    if run.versions:
        parts.append(f"<details><summary>Versions</summary><pre>{_e(chr(10).join(f'{k} {v}' for k, v in run.versions.items()))}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def render_report(runs: Sequence[RunRecord], *, title: str = "keraslab report", subtitle: str = "") -> str:
    """The report as one HTML string (see the module docstring)."""
    toc = "".join(
        f'<li><a href="#run-{r.id}">{_e(r.experiment)}</a> · run {r.id} · {_e(r.status)}</li>' for r in runs
    )
    sections = "\n".join(_section(r) for r in runs) if runs else "<p>No runs in this store yet.</p>"
    generated = _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n"
        f"<header><h1>{_e(title)}</h1><p class=\"meta\">{_e(subtitle)}{' · ' if subtitle else ''}"
        f"generated {_e(generated)} · {len(runs)} run(s)</p></header>\n"
        f"<nav><ol>{toc}</ol></nav>\n{sections}\n</body></html>\n"
    )


def write_report(
    store: ResultStore | str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    run_ids: Sequence[int] | None = None,
    all_runs: bool = False,
    title: str = "keraslab report",
) -> Path:
    """Write the HTML report of stored runs and return its path.

    Parameters
    ----------
    store : ResultStore or path, optional
        Default ``./keraslab-runs/runs.sqlite``.
    path : path, optional
        The HTML file; default ``report.html`` next to the store.
    run_ids : sequence of int, optional
        These runs, in this order. Default: the newest run of each experiment, or every
        run with ``all_runs=True``.
    """
    db = store if isinstance(store, ResultStore) else ResultStore(store)
    try:
        if run_ids is None:
            run_ids = [r.id for r in db.runs()] if all_runs else db.latest_run_ids()
        records = [db.run(i) for i in run_ids]
        target = Path(path) if path is not None else db.folder / DEFAULT_REPORT_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_report(records, title=title, subtitle=f"store {db.path}"), encoding="utf-8")
        return target
    finally:
        if not isinstance(store, ResultStore):
            db.close()
