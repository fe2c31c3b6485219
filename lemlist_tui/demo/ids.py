"""lemlist-style ids for the demo: ``ibx_`` + 17 base-62 characters.

Random ones come from a seeded stream; indexed ones decode back to the index they were made
from, which lets the server find a conversation from its id without any table.
"""

from __future__ import annotations

import hashlib
from operator import itemgetter

from lemlist_tui.demo.draws import Draws

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 17

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_HALF_BITS = 21
_HALF_MASK = (1 << _HALF_BITS) - 1
_PAYLOAD_DIGITS = 7
_PAYLOAD_SPACE = 62**_PAYLOAD_DIGITS  # < 2**42: a 42-bit permutation cycle-walks into it
_PAYLOAD_SLOTS = (1, 4, 6, 9, 11, 14, 16)
_FILLER_SLOTS = tuple(p for p in range(ID_LENGTH) if p not in _PAYLOAD_SLOTS)
# encode() makes the filler characters, then the payload's most significant digit first;
# this puts each where its slot is.
_MADE = (*_FILLER_SLOTS, *_PAYLOAD_SLOTS)
_IN_SLOT_ORDER = itemgetter(*(_MADE.index(slot) for slot in range(ID_LENGTH)))


def mix64(value: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    value = (value + _GOLDEN) & _M64
    value = ((value ^ (value >> 30)) * _MUL1) & _M64
    value = ((value ^ (value >> 27)) * _MUL2) & _M64
    return value ^ (value >> 31)


def stable_hash(text: str) -> int:
    # Python's hash() of a str changes per process; ids must not.
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def random_id(prefix: str, draws: Draws) -> str:
    """``prefix_`` and 17 characters drawn as ``random.choices(BASE62, k=17)`` would."""
    return f"{prefix}_{draws.text(BASE62, ID_LENGTH)}"


class IndexedIds:
    """Random-looking ids that decode back to the index they were made from.

    Seven of the 17 characters are a keyed Feistel permutation of the index (so neighbours
    look unrelated); the other ten are a keyed hash, which doubles as a checksum on decode.
    Hot: a page of conversations encodes two ids per conversation, hence the inlined
    :func:`mix64` below.
    """

    def __init__(self, prefix: str, seed: int) -> None:
        self.prefix = prefix
        base = stable_hash(f"{prefix}:{seed}")
        self._round_keys = tuple(mix64(base + r) for r in range(4))
        self._filler_key = mix64(base ^ 0x5DEECE66D)

    def _encrypt(self, value: int) -> int:
        left, right = value >> _HALF_BITS, value & _HALF_MASK
        for key in self._round_keys:
            # mix64(right ^ key), of which the round keeps the low 21 bits
            x = ((right ^ key) + _GOLDEN) & _M64
            x = ((x ^ (x >> 30)) * _MUL1) & _M64
            x = (x ^ (x >> 27)) * _MUL2  # bits above 63 never reach the low 21 bits below
            left, right = right, left ^ ((x ^ (x >> 31)) & _HALF_MASK)
        return (left << _HALF_BITS) | right

    def _decrypt(self, value: int) -> int:
        left, right = value >> _HALF_BITS, value & _HALF_MASK
        for key in reversed(self._round_keys):
            left, right = right ^ (mix64(left ^ key) & _HALF_MASK), left
        return (left << _HALF_BITS) | right

    def encode(self, index: int) -> str:
        payload = self._encrypt(index)
        while payload >= _PAYLOAD_SPACE:  # cycle walking keeps it a permutation of the space
            payload = self._encrypt(payload)
        chars: list[str] = []
        state = self._filler_key ^ index
        for _ in _FILLER_SLOTS:  # state = mix64(state), ten times over
            state = (state + _GOLDEN) & _M64
            state = ((state ^ (state >> 30)) * _MUL1) & _M64
            state = ((state ^ (state >> 27)) * _MUL2) & _M64
            state ^= state >> 31
            chars.append(BASE62[state % 62])
        digits = [""] * _PAYLOAD_DIGITS
        for k in range(_PAYLOAD_DIGITS - 1, -1, -1):
            payload, digit = divmod(payload, 62)
            digits[k] = BASE62[digit]
        chars += digits
        return f"{self.prefix}_{''.join(_IN_SLOT_ORDER(chars))}"

    def decode(self, identifier: str) -> int | None:
        """The index ``identifier`` was made from, or None if no index makes it."""
        head, _, body = identifier.partition("_")
        if head != self.prefix or len(body) != ID_LENGTH:
            return None
        payload = 0
        for slot in _PAYLOAD_SLOTS:
            digit = BASE62.find(body[slot])
            if digit < 0:
                return None
            payload = payload * 62 + digit
        index = self._decrypt(payload)
        while index >= _PAYLOAD_SPACE:
            index = self._decrypt(index)
        return index if self.encode(index) == identifier else None
