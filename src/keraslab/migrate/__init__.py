"""``keraslab migrate``: rewrite Keras 2 code and notebooks to run on Keras 3 with keraslab.

Built on LibCST, so comments and formatting survive. Each rewrite is a small named rule
(see :func:`rules`); what cannot be rewritten safely is reported as a
:class:`Finding` (``file:line: what, why, what to do``), never guessed.

Examples
--------
>>> from keraslab.migrate import migrate_source
>>> code, result = migrate_source("from keras.optimizers import Adam\\nopt = Adam(lr=0.01)\\n")
>>> print(code, end="")
from keras.optimizers import Adam
opt = Adam(learning_rate=0.01)
>>> sorted(result.rules_fired())
['optimizer-lr']
"""

from keraslab.migrate.driver import migrate_paths, migrate_source, rules
from keraslab.migrate.report import Change, FileResult, Finding, MigrationReport

__all__ = ["migrate_paths", "migrate_source", "rules", "Change", "Finding", "FileResult", "MigrationReport"]
