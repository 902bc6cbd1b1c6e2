"""``keraslab generate``: train a text generator on a corpus, or generate with a saved one.

Two forms (exactly one of ``--corpus`` and ``--model``)::

    keraslab generate --corpus sherlock.txt --level char --epochs 5 --output samples.txt --save sherlock.keras
    keraslab generate --model sherlock.keras --seed "to sherlock holmes she is" --temperature 0.7
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import click

from keraslab.cli._app import CONTEXT
from keraslab.errors import KeraslabValueError

__all__ = ["COMMANDS"]

EPILOG = """\
\b
examples:
  keraslab generate --corpus sherlock.txt --level char --epochs 5 --output samples.txt --save sherlock.keras
  keraslab generate --corpus sherlock.txt --level word --max-words 8000 --epochs 2 --output words.txt
  keraslab generate --model sherlock.keras --seed "to sherlock holmes she is" --temperature 0.7 --length 300
"""

_PATH = click.Path(dir_okay=False, path_type=Path)


def _numbers(option: str, text: str, kind: type) -> list:
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise KeraslabValueError(
            f"{option} takes comma-separated {'integers' if kind is int else 'numbers'}, e.g. "
            f"{'128,128' if kind is int else '0.5,1.0,1.5'}. Received: {option} {text}"
        ) from None
    if not values:
        raise KeraslabValueError(f"{option} needs at least one value. Received: {option} {text!r}")
    return values


@click.command("generate", context_settings=CONTEXT, epilog=EPILOG,
               short_help="train a text generator, or generate with a saved one")
@click.option("--corpus", type=_PATH, default=None,
              help="UTF-8 text to train on (relative names are also looked up in $KERASLAB_DATA)")
@click.option("--model", type=_PATH, default=None, help="a .keras file saved by `keraslab generate --save`")
@click.option("--level", type=click.Choice(["char", "word"]), default="char",
              help="letter by letter or word by word")
@click.option("--epochs", type=int, default=1, help="training epochs (default 1)")
@click.option("--output", type=_PATH, default=None, help="append the generated samples to this file")
@click.option("--window-length", type=int, default=40, help="tokens per training fragment (default 40)")
@click.option("--step", type=int, default=3, help="distance between fragment starts (default 3)")
@click.option("--batch-size", type=int, default=100, help="fragments per batch (default 100)")
@click.option("--max-words", type=int, default=8000, help="word level: vocabulary size (default 8000)")
@click.option("--units", default="128,128", help="LSTM sizes, comma-separated (default 128,128)")
@click.option("--steps-per-epoch", type=int, default=None, help="train on this many batches per epoch")
@click.option("--temperatures", default=None,
              help="comma-separated, each > 0 (default: 0.5,1.0,1.5 when training, 1.0 with --model)")
@click.option("--temperature", type=float, default=None, help="one temperature > 0 (same as --temperatures T)")
@click.option("--greedy", is_flag=True, help="with --model: always take the most likely token")
@click.option("--length", type=int, default=1000, help="tokens to generate per temperature (default 1000)")
@click.option("--seed", "--seed-text", "seed_text", default=None,
              help="text to continue (training: instead of a random corpus fragment each epoch)")
@click.option("--random-seed", type=int, default=None, help="make training and sampling reproducible")
@click.option("--save", type=_PATH, default=None, help="save the trained model and vocabulary (.keras)")
@click.option("--store", type=_PATH, default=None,
              help="result store for the loss per epoch (default: ./keraslab-runs/runs.sqlite)")
@click.option("--no-store", is_flag=True, help="do not record the run in a result store")
@click.option("--quiet", is_flag=True, help="print nothing but errors")
def generate_command(**options) -> int:
    """Train a text generator letter by letter or word by word, or generate with a saved one.

    Trains the chapter's LSTM text generator on a corpus (printing and writing samples
    after every epoch), or continues a seed with a model saved by --save.
    """
    args = SimpleNamespace(**options)
    if (args.corpus is None) == (args.model is None):
        raise click.UsageError("give exactly one of --corpus and --model")
    temperatures = _temperatures(args)  # checked first: a bad temperature fails before any training
    if args.model is not None:
        return _generate_with_model(args, temperatures)
    return _train(args, temperatures)


def _temperatures(args: SimpleNamespace) -> list[float]:
    from keraslab.textgen.generate import check_temperatures

    if args.temperatures is not None and args.temperature is not None:
        raise KeraslabValueError(
            "Give --temperature or --temperatures, not both. "
            f"Received: --temperature {args.temperature} --temperatures {args.temperatures}"
        )
    if args.temperature is not None:
        return list(check_temperatures([args.temperature]))
    if args.temperatures is None:
        # Training samples at the chapter's three temperatures; a saved model continues a seed once.
        return [1.0] if args.model is not None else [0.5, 1.0, 1.5]
    return list(check_temperatures(_numbers("--temperatures", args.temperatures, float)))


def _train(args: SimpleNamespace, temperatures: list[float]) -> int:
    from keraslab.store import DEFAULT_STORE
    from keraslab.textgen.train import train_text_generator

    store = None if args.no_store else (args.store or DEFAULT_STORE)
    result = train_text_generator(
        args.corpus, level=args.level, window_length=args.window_length, step=args.step,
        max_words=args.max_words, epochs=args.epochs, batch_size=args.batch_size, temperatures=temperatures,
        generate_length=args.length, seed=args.random_seed, output=args.output, seed_text=args.seed_text,
        units=_numbers("--units", args.units, int), steps_per_epoch=args.steps_per_epoch, save_to=args.save,
        store=store, verbose=0 if args.quiet else 1,
    )
    if not args.quiet:
        losses = result.history.get("loss", [])
        click.echo(f"trained {len(losses)} epoch(s); loss {losses[0]:.4f} -> {losses[-1]:.4f}"
                   if losses else "no epochs")
        for label, path in (("samples", result.output), ("model", result.saved_to)):
            if path is not None:
                click.echo(f"{label}: {path}")
        if result.run_id is not None:
            click.echo(f"run {result.run_id} in {store}")
    return 0


def _generate_with_model(args: SimpleNamespace, temperatures: list[float]) -> int:
    from keraslab.textgen.output import TextSample, append_samples, format_epoch
    from keraslab.textgen.saving import load_generator

    if args.seed_text is None:
        raise KeraslabValueError('--model needs a text to continue: add --seed "...". Received: no --seed')
    if args.greedy:
        temperatures = temperatures[:1]  # greedy text does not depend on the temperature
    generator = load_generator(args.model, compile=False)
    seed = args.seed_text
    samples = [
        TextSample(
            int(generator.metadata.get("epochs", 0)), temperature, seed,
            generator.generate(seed, args.length, temperature, rng=args.random_seed, greedy=args.greedy),
        )
        for temperature in temperatures
    ]
    if args.output is not None:
        append_samples(args.output, samples)
    if not args.quiet:
        if len(samples) == 1:
            click.echo(samples[0].text)
        else:
            click.echo(format_epoch(samples), nl=False)
    return 0


COMMANDS = (generate_command,)
