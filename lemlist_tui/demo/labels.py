"""The team's labels: the generated ones, then those created through ``POST /inbox/labels``."""

from __future__ import annotations

import threading

from lemlist_tui.demo.data import DemoData, Label
from lemlist_tui.demo.draws import Draws
from lemlist_tui.demo.ids import random_id
from lemlist_tui.demo.texts import LABELS

_COLORS = tuple(color for _, color in LABELS)


class LabelExists(Exception):
    """A label of that name (compared without case) is already there."""


def _name_key(name: str) -> str:
    return name.strip().casefold()


class LabelBook:
    """Every label of the team, oldest first. Thread-safe, like the inbox state."""

    def __init__(self, data: DemoData) -> None:
        self._data = data
        self._labels: list[Label] = list(data.labels)
        self._by_id = {label.id: label for label in self._labels}
        self._created = 0
        self._lock = threading.Lock()

    def all(self) -> list[Label]:
        with self._lock:
            return list(self._labels)

    def get(self, label_id: str) -> Label | None:
        with self._lock:
            return self._by_id.get(label_id)

    def named(self, name: str) -> Label | None:
        """The label called ``name``, compared as :meth:`create` compares names."""
        key = _name_key(name)
        with self._lock:
            return next((x for x in self._labels if _name_key(x.name) == key), None)

    def create(self, name: str, now_ms: int) -> Label:
        """A new label called ``name`` (surrounding blanks removed), created by the team's
        owner; :class:`LabelExists` if one of that name exists, whatever its case."""
        with self._lock:
            key = _name_key(name)
            if any(_name_key(x.name) == key for x in self._labels):
                raise LabelExists(name)
            while True:  # the n-th label created gets the same id in every run of a seed
                self._created += 1
                draws = Draws(f"{self._data.seed}:label:{self._created}")
                label_id = random_id("lbl", draws)
                if label_id not in self._by_id:
                    break
            owner = self._data.members[0]  # an API key is the team's, not one user's
            label = Label(label_id, name.strip(), draws.pick(_COLORS), now_ms, owner.email)
            self._labels.append(label)
            self._by_id[label_id] = label
            return label
