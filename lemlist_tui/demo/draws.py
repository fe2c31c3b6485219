"""The stdlib's random draws, minus most of their Python overhead.

The demo's data is a pure function of seeded ``random.Random`` streams, and the app's snapshot
tests are made from it: every draw here consumes the Mersenne Twister exactly as the
``random.Random`` call it stands for (CPython 3.11 to 3.13) and returns the same value, so the
data stays byte-identical. ``tests/test_demo_server.py`` checks each against the stdlib and
pins the generated answers.

What it saves: ``random.Random(text)`` seeds twice (once from ``hash(text)`` in C, again in
Python), ``choice``/``randrange``/``choices`` go through two or three Python frames per draw,
and ``choices(alphabet, k=17)`` (every id) makes 17 calls where :meth:`Draws.text` makes one.
"""

from __future__ import annotations

import _random
import functools
import hashlib
from bisect import bisect
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_TWO_POW_53 = 9007199254740992.0


class Draws(_random.Random):
    """A Mersenne Twister seeded like ``random.Random(text)``, with the draws the demo uses."""

    __slots__ = ()

    def __init__(self, text: str) -> None:
        # random.Random.seed(str), version 2: the text's bytes followed by their SHA-512.
        raw = text.encode()
        super().__init__(int.from_bytes(raw + hashlib.sha512(raw).digest(), "big"))

    def below(self, n: int) -> int:
        """``randrange(n)`` for ``n >= 1`` (and ``choice``'s index)."""
        k = n.bit_length()
        r = self.getrandbits(k)
        while r >= n:
            r = self.getrandbits(k)
        return r

    def between(self, low: int, high: int) -> int:
        """``randint(low, high)``."""
        return low + self.below(high - low + 1)

    def pick(self, options: Sequence[T]) -> T:
        """``choice(options)``; a single option still consumes a draw, as ``choice`` does."""
        return options[self.below(len(options))]

    def pick_weighted(self, options: Sequence[T], cumulative: Sequence[int]) -> T:
        """``choices(options, weights)[0]``, given the running totals of the weights."""
        total = cumulative[-1] + 0.0
        return options[bisect(cumulative, self.random() * total, 0, len(options) - 1)]

    def text(self, alphabet: str, k: int) -> str:
        """``"".join(choices(alphabet, k=k))`` for an ASCII ``alphabet`` of 1 to 256 characters.

        ``choices`` takes ``alphabet[floor(random() * n)]`` k times, and ``random()`` is
        ``(a * 2**26 + b) / 2**53`` for the next two 32-bit outputs ``a >> 5`` and ``b >> 6``.
        One ``getrandbits(64 * k)`` holds those 2k outputs, least significant first, so all k
        picks come out of a few big-integer operations, one 64-bit lane per pick.
        """
        spread = _spread(alphabet, k)
        bits = self.getrandbits(64 * k)
        x = (((bits >> 5) & spread.high27) << 26) | ((bits >> 38) & spread.low26)
        scaled = x * len(alphabet)  # n * x < 2**64: lanes never carry into each other
        if ((scaled & spread.low53) + spread.half_ulp) & spread.bit53:
            # Some n * x / 2**53 lies within half a float step under an integer, where the
            # float product may round up to it: redo the picks as the floats do.
            return _float_text(bits, alphabet, k)
        indices = (scaled >> 53) & spread.low8
        return indices.to_bytes(8 * k, "little")[::8].translate(spread.table).decode("ascii")


@functools.lru_cache(maxsize=16)
def _spread(alphabet: str, k: int) -> _Spread:
    return _Spread(alphabet, k)


class _Spread:
    """Masks for :meth:`Draws.text`: a value repeated in each of ``k`` 64-bit lanes."""

    def __init__(self, alphabet: str, k: int) -> None:
        if not 1 <= len(alphabet) <= 256 or not alphabet.isascii():
            raise ValueError("Draws.text needs 1 to 256 ASCII characters")

        def lanes(value: int) -> int:
            return int.from_bytes(value.to_bytes(8, "little") * k, "little")

        self.high27 = lanes((1 << 27) - 1)
        self.low26 = lanes((1 << 26) - 1)
        self.low53 = lanes((1 << 53) - 1)
        # Half the float spacing just under n, in units of 2**-53: 32 for 62 characters.
        self.half_ulp = lanes(1 << max(0, (len(alphabet) - 1).bit_length() - 1))
        self.bit53 = lanes(1 << 53)
        self.low8 = lanes(0xFF)
        self.table = alphabet.encode().ljust(256, b"\0")


def _float_text(bits: int, alphabet: str, k: int) -> str:
    """:meth:`Draws.text` from its ``bits``, computed as ``random()`` and ``choices`` do."""
    n = len(alphabet) + 0.0
    chars = []
    for _ in range(k):
        a, b = (bits & 0xFFFFFFFF) >> 5, (bits >> 38) & 0x3FFFFFF
        chars.append(alphabet[int((a * 67108864.0 + b) * (1.0 / _TWO_POW_53) * n)])
        bits >>= 64
    return "".join(chars)
