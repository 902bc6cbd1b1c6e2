"""Ground floor: the one check of a count argument (epochs, batch sizes, window lengths, ...).

Examples
--------
>>> positive_int("batch_size", 32)
32
>>> positive_int("batch_size", 0)
Traceback (most recent call last):
...
keraslab.errors.KeraslabValueError: batch_size must be a positive integer. Received: batch_size=0
"""

from __future__ import annotations

import numbers

from keraslab.errors import KeraslabValueError

__all__ = ["positive_int"]


def positive_int(name: str, value: object, *, hint: str = "") -> int:
    """``value`` as an ``int`` if it is an integer >= 1 (``True`` is not), else a :class:`KeraslabValueError`.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
        What the caller received; NumPy integers are accepted.
    hint : str, default=""
        Inserted after "a positive integer", e.g. ``" (tokens to generate)"``.

    Returns
    -------
    int

    Raises
    ------
    KeraslabValueError
        ``"<name> must be a positive integer<hint>. Received: <name>=<value!r>"``.
    """
    from sklearn.utils import check_scalar

    # check_scalar does the type and range check; bool passes as Integral there, so it is refused first.
    try:
        if isinstance(value, bool):
            raise TypeError
        check_scalar(value, name, numbers.Integral, min_val=1)
    except (TypeError, ValueError):
        raise KeraslabValueError(f"{name} must be a positive integer{hint}. Received: {name}={value!r}") from None
    return int(value)
