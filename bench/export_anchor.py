"""The floor under ``export``: ``python -m bench.export_anchor DB_FILE USER``.

The same rows in the same order (the activity index, newest first) and the same columns,
straight from ``sqlite3`` to stdout as JSON lines with ``orjson``: no parsing into
objects, no date formatting, no cleaning. Standard library and orjson only.
"""

from __future__ import annotations

import sqlite3
import sys

import orjson

COLUMNS = (
    "id", "contactId", "name", "email", "channels", "lastActivityAt", "createdAt",
    "lastRepliedAt", "unread", "replied", "opportunities", "labels",
)  # fmt: skip
SQL = (
    "SELECT c.id, c.contact_id, c.name, c.email, c.channels, c.last_activity_at, "
    "c.created_at, c.last_replied_at, i.unread, c.have_replies, c.opportunities, c.labels "
    "FROM inbox AS i INDEXED BY inbox_by_activity "
    "JOIN conversations AS c ON c.local_id = i.conversation WHERE i.user_id = ? "
    "ORDER BY i.activity DESC, i.conversation DESC"
)


def main(argv: list[str]) -> int:
    connection = sqlite3.connect(argv[0])
    out = sys.stdout.buffer
    dumps = orjson.dumps
    cursor = connection.execute(SQL, (argv[1],))
    while rows := cursor.fetchmany(1000):
        out.write(b"".join(dumps(dict(zip(COLUMNS, row, strict=True))) + b"\n" for row in rows))
    out.flush()
    connection.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
