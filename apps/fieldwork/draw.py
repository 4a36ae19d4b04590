"""The reproducible stratified draw of case records.

A draw is fixed by a seed recorded with the inspection. Each stratum's records are put in
a random order that depends only on the seed, the stratum's name and the set of record
references in it: not on the order the references arrive in, and not on any other
stratum, so adding a record to one area never reshuffles another. The sample for a
stratum with quota q is the first q references of its order; when a sampled record turns
out to be unusable, its replacements are taken in order after them. Anyone holding the
seed and the list of references can repeat the draw and get the same sample.

The order comes from `random.Random` seeded with the string ``f"{seed}\\x1f{stratum}"``.
CPython (3.2 onwards, "version 2" seeding) turns a str seed into an integer made of its
UTF-8 bytes followed by their SHA-512 digest, which does not vary between runs or machines
(unlike `hash()`, which is salted per process); `shuffle` is a Fisher-Yates shuffle over
the Mersenne Twister. A test pins one order, so a Python
upgrade that changed either would be caught before it changed a recorded draw.

Standard library only: this runs in the web app.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable

__all__ = ["new_seed", "stratum_order"]

# Unit separator: joins seed and stratum so that no two different pairs give the same
# string (neither may contain it).
_SEPARATOR = "\x1f"


def new_seed() -> str:
    """A fresh seed for a draw: 16 hexadecimal characters from the system's secure source."""
    return secrets.token_hex(8)


def stratum_order(seed: str, stratum: str, references: Iterable[str]) -> list[str]:
    """The references of one stratum in the draw's random order.

    The order depends only on `seed`, `stratum` and the set of `references` (duplicates
    count once). The sample for a quota q is ``stratum_order(...)[:q]``; replacements
    follow in order.

    Raises ValueError if `seed` or `stratum` contains the unit separator (U+001F).
    """
    for name, value in (("seed", seed), ("stratum", stratum)):
        if _SEPARATOR in value:
            raise ValueError(f"The {name} must not contain the unit separator (U+001F).")
    order = sorted(set(references))
    random.Random(f"{seed}{_SEPARATOR}{stratum}").shuffle(order)
    return order
