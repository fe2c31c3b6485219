"""The team as a JSON record in the database (one row: it is read whole, never queried).

No ``textual`` import. A record that is not in the shape written here raises
:class:`RecordError`, and the team is then fetched again: never a crash.
"""

from __future__ import annotations

from typing import Any

from lemlist_tui.api.models import Team, TeamUser

__all__ = ["RecordError", "team_from_record", "team_to_record"]


class RecordError(ValueError):
    """A stored record is not in the shape this version writes."""


def _opt_str(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise RecordError("a text field is not a string")


def _strings(values: object) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(type(v) is str for v in values):
        raise RecordError("a list of strings is not one")
    return tuple(values)


def team_to_record(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "user_ids": list(team.user_ids),
        "users": [[u.id, u.name, u.email, u.role] for u in team.users],
    }


def team_from_record(record: object) -> Team:
    if not isinstance(record, dict) or not isinstance(record.get("users"), list):
        raise RecordError("the team is malformed")
    users = []
    for item in record["users"]:
        if not (isinstance(item, list) and len(item) == 4 and type(item[0]) is str):
            raise RecordError("a team user is malformed")
        users.append(TeamUser(item[0], *(_opt_str(value) for value in item[1:])))
    return Team(
        _opt_str(record.get("id")),
        _opt_str(record.get("name")),
        _strings(record.get("user_ids")),
        tuple(users),
    )
