"""Write a reproduction as ``docs/reproduction.md`` and as an HTML page with the figures."""

from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path
from typing import Any, Sequence

from keraslab.reproduce.session import EntryOutcome, Reproduction
from keraslab.reproduce.textgen import samples_markdown
from keraslab.reproduce.verdict import Check

__all__ = ["render_markdown", "write_markdown", "write_html", "headline"]

_RULES = """\
How a verdict is reached (`keraslab.reproduce.verdict`): accuracies within 0.5 percentage
points (1 point where the chapter's number is read from a figure, 5 points for values it
gives per swept value in its text); a cross-validated mean within 0.5 points or the chapter's fold-to-fold standard
deviation; a grid's candidate order by Spearman's rank correlation >= 0.7; losses and RMS
errors within a factor of 2. Seconds, fit counts and the best parameters are shown, never
judged. Entries whose chapter gives no numbers are judged on what it says in words where
that can be checked (the *observations*), otherwise marked `no numbers` (see the figures).
`differs (explained)` is used only when a known reason fits what this run measured."""


def _fmt(value: Any) -> str:
    from keraslab.experiments.reference import format_value

    if isinstance(value, dict):
        return ", ".join(f"{k.split('.', 1)[-1]}={v}" for k, v in value.items())
    return format_value(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def headline(entry: EntryOutcome) -> tuple[str, str]:
    """The chapter's and this run's headline numbers for the table, as short text."""
    checks: Sequence[Check] = [c for c in entry.verdict.checks if c.headline and c.ok is not None]
    if not checks:
        chapter = "in words" if entry.verdict.observations else "—"
        summary = entry.summary or {}
        finals = summary.get("finals", {})
        if len(finals) == 1:
            f = next(iter(finals.values()))
            shown = [f"{k} {_fmt(f[k])}" for k in ("val_acc", "acc", "loss") if k in f][:2]
            return chapter, "; ".join(shown) or "—"
        for key in ("best_score", "mean_score"):
            if summary.get(key) is not None:
                return chapter, f"{key} {_fmt(summary[key])}"
        return chapter, f"{len(finals)} fits" if finals else "—"
    chapter = "; ".join(f"{c.metric} {_fmt(c.chapter)}" for c in checks[:2])
    mine = "; ".join(f"{c.metric} {_fmt(c.this_run)}" for c in checks[:2])
    return chapter, mine


def _settings(entry: EntryOutcome) -> str:
    text = ", ".join(f"{k} {v}" for k, v in entry.settings.items())
    if entry.overrides:
        text += " (changed: " + ", ".join(entry.overrides) + ")"
    return text


def _row(entry: EntryOutcome) -> str:
    chapter, mine = headline(entry)
    took = _duration(entry.seconds) + (" (earlier sitting)" if entry.reused else "")
    return (f"| [{entry.name}](#{entry.name}) | {chapter} | {mine} | {_settings(entry)} | {took} | "
            f"**{entry.verdict.status}** |")


def _details(entry: EntryOutcome) -> list[str]:
    lines = [f"### {entry.name}", "", f"{entry.title} · {entry.kind} · status {entry.status}"
             + (f" · run {entry.run_id}" if entry.run_id is not None else ""), ""]
    if entry.verdict.checks:
        lines += ["| number | chapter | this run | rule | judged |", "|---|---|---|---|---|"]
        for c in entry.verdict.checks:
            judged = "shown" if c.ok is None else ("ok" if c.ok else "**differs**")
            if c.ok is not None and not c.headline:
                judged += " (supporting)"
            lines.append(f"| {c.metric} | {_fmt(c.chapter)} | {_fmt(c.this_run)} | {c.rule} | {judged} |")
        lines.append("")
    lines += [f"- observed {o}" for o in entry.verdict.observations]
    if entry.verdict.reason:
        lines.append(f"- reason: {entry.verdict.reason}")
    note = entry.reference.get("note")
    if note:
        lines.append(f"- the chapter says: {note}")
    if entry.variant is not None:
        v = entry.variant
        lines.append(f"- variant `{v.name}` ({_duration(v.seconds)}): {(v.summary or {}).get('final_line', v.status)}")
    if entry.kind == "textgen":
        lines += samples_markdown(entry)
    lines.append("")
    return lines


def _samples_html(entries: Sequence[EntryOutcome]) -> str:
    parts = []
    for e in entries:
        for s in (e.summary or {}).get("samples") or []:
            parts.append(f"<h3>{html.escape(e.name)} · temperature {float(s['temperature']):g} · after epoch "
                         f"{s['epoch']}</h3><p class=\"meta\">seed: {html.escape(s['seed'])}</p>"
                         f"<pre style=\"white-space: pre-wrap\">{html.escape(s['text'])}</pre>")
    return f"<section><h2>Generated text</h2>{''.join(parts)}</section>" if parts else ""


def render_markdown(rep: Reproduction, *, title: str = "The chapter, reproduced") -> str:
    """The reproduction page as Markdown: a summary table, then one section per entry."""
    counts = ", ".join(f"{n} {k}" for k, n in sorted(rep.counts().items()))
    total = sum(e.seconds or 0 for e in rep.entries) + sum((e.variant.seconds or 0) for e in rep.entries if e.variant)
    lines = [f"# {title}", "",
             f"Machine: {rep.machine}. Generated {_dt.date.today().isoformat()} by `keraslab reproduce`; "
             f"the runs took {_duration(total)} of compute in all. Verdicts: {counts}.", "",
             "The store files of these runs are not committed; `keraslab reproduce` reads them back "
             "from `keraslab-runs/` or reruns what is missing.", "", _RULES, "",
             "| entry | chapter | this run | settings | took | verdict |", "|---|---|---|---|---|---|"]
    lines += [_row(e) for e in rep.entries]
    lines += ["", "## Entries", ""]
    for e in rep.entries:
        lines += _details(e)
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(rep: Reproduction, path: str | Path = "docs/reproduction.md") -> Path:
    """Write :func:`render_markdown` to ``path`` and return it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_markdown(rep), encoding="utf-8")
    return target


def write_html(rep: Reproduction, path: str | Path, store: Any = None) -> Path:
    """An HTML page: the summary table, then every run's section with its figures embedded."""
    from keraslab.report import render_report
    from keraslab.store import ResultStore

    db = store if isinstance(store, ResultStore) else ResultStore(store if store is not None else rep.store_path)
    try:
        ids = [e.run_id for e in rep.entries if e.run_id is not None]
        ids += [e.variant.run_id for e in rep.entries if e.variant is not None and e.variant.run_id is not None]
        records = [db.run(i) for i in ids]
    finally:
        if not isinstance(store, ResultStore):
            db.close()
    rows = []
    for e in rep.entries:
        chapter, mine = headline(e)
        anchor = f'<a href="#run-{e.run_id}">{html.escape(e.name)}</a>' if e.run_id is not None else html.escape(e.name)
        cells = [anchor] + [html.escape(x) for x in (chapter, mine, _settings(e), _duration(e.seconds))]
        cells.append(f"<strong>{html.escape(e.verdict.status)}</strong>")
        rows.append("<tr>" + "".join(f'<td class="text">{c}</td>' for c in cells) + "</tr>")
    table = ("<section><h2>Verdicts</h2><table><thead><tr><th>entry</th><th>chapter</th><th>this run</th>"
             "<th>settings</th><th>took</th><th>verdict</th></tr></thead><tbody>" + "".join(rows)
             + f"</tbody></table><p class=\"meta\">{html.escape(_RULES)}</p></section>"
             + _samples_html(rep.entries))
    page = render_report(records, title="keraslab · the chapter, reproduced", subtitle=rep.machine)
    page = page.replace("<nav>", table + "\n<nav>", 1)  # the table first, then the run index
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
