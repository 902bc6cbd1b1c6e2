"""Text generation end to end: train letter by letter or word by word, sample, save, generate.

>>> from keraslab.textgen import train_text_generator, load_generator  # doctest: +SKIP
>>> result = train_text_generator("sherlock.txt", level="char", epochs=1, output="samples.txt")  # doctest: +SKIP
>>> result.generator.save("sherlock.keras")  # doctest: +SKIP
>>> load_generator("sherlock.keras").generate("to sherlock holmes", length=200, temperature=0.5)  # doctest: +SKIP

Modules: :mod:`~keraslab.textgen.generate` (sampling from a model),
:mod:`~keraslab.textgen.output` (the printed/written format),
:mod:`~keraslab.textgen.saving` (model + vocabulary in one ``.keras`` file),
:mod:`~keraslab.textgen.train` (the chapter's training loop, streamed),
:mod:`~keraslab.textgen.sampler` (:class:`TextSampler`, the per-epoch sampling
callback for any model's ``fit``). ``keraslab generate`` lives in :mod:`keraslab.cli.generate`.
"""

from keraslab.textgen.generate import check_temperature, check_temperatures, encode_seed, generate
from keraslab.textgen.output import TextSample, append_samples, format_epoch, parse_samples
from keraslab.textgen.sampler import TextSampler
from keraslab.textgen.saving import TextGenerator, load_generator, prepare_seed, save_generator
from keraslab.textgen.train import TextGenerationResult, train_text_generator

__all__ = [
    "train_text_generator",
    "TextGenerationResult",
    "generate",
    "check_temperature",
    "check_temperatures",
    "encode_seed",
    "TextGenerator",
    "save_generator",
    "load_generator",
    "prepare_seed",
    "TextSample",
    "format_epoch",
    "append_samples",
    "parse_samples",
    "TextSampler",
]
