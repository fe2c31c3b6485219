"""The database's tables, and the forward migrations that build them.

``PRAGMA user_version`` is the schema version. A migration is a list of statements that
takes the previous version to its own; they run in one transaction, in order, so a file
is at one version or the next, never between. Never edit a published migration: add one.

Times are integers, microseconds since 1970 UTC. In ``inbox`` a missing time is
:data:`MISSING` (far below any real one), so a descending sort puts it last and a keyset
comparison needs no NULL case.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "MISSING", "SCHEMA_VERSION", "TEAM"]

MISSING = -(2**62)
"""A sort key's value for a conversation without that timestamp."""

_V1 = [
    # Every documented field of both conversation shapes; lists as JSON text.
    """CREATE TABLE conversations (
        local_id INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        contact_id TEXT,
        lead_id TEXT,
        team_id TEXT,
        created_by TEXT,
        name TEXT,
        email TEXT,
        created_at INTEGER,
        last_activity_at INTEGER,
        last_replied_at INTEGER,
        have_replies INTEGER NOT NULL DEFAULT 0,
        last_replied_channel TEXT,
        channels TEXT NOT NULL DEFAULT '[]',
        opportunities TEXT NOT NULL DEFAULT '[]',
        labels TEXT NOT NULL DEFAULT '[]',
        messages TEXT NOT NULL DEFAULT '[]'
    )""",
    # The read matrix: every teammate's read and sender flags, per conversation.
    """CREATE TABLE participants (
        conversation INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        sender INTEGER NOT NULL,
        read INTEGER NOT NULL,
        PRIMARY KEY (conversation, user_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        full_name TEXT,
        email TEXT
    ) WITHOUT ROWID""",
    # One row per conversation in one user's inbox: what the list sorts, filters and
    # counts, so that none of it needs a join. ``seen`` is the full crawl that last saw it.
    """CREATE TABLE inbox (
        user_id TEXT NOT NULL,
        conversation INTEGER NOT NULL,
        activity INTEGER NOT NULL,
        replied INTEGER NOT NULL,
        created INTEGER NOT NULL,
        unread INTEGER NOT NULL,
        search TEXT NOT NULL,
        seen INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, conversation)
    ) WITHOUT ROWID""",
    # Covering indexes, one per sort: a screen of rows, filtered or not, is read from
    # the index alone, in order, and the walk stops as soon as the screen is full.
    """CREATE INDEX inbox_by_activity
        ON inbox (user_id, activity DESC, conversation DESC, unread, search)""",
    """CREATE INDEX inbox_by_replied
        ON inbox (user_id, replied DESC, conversation DESC, unread, search)""",
    """CREATE INDEX inbox_by_created
        ON inbox (user_id, created DESC, conversation DESC, unread, search)""",
    "CREATE INDEX inbox_by_conversation ON inbox (conversation)",
    # Counts kept by triggers: the status line's "611 unread of 1,994" costs one lookup.
    """CREATE TABLE inbox_counts (
        user_id TEXT PRIMARY KEY,
        total INTEGER NOT NULL DEFAULT 0,
        unread INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    """CREATE TRIGGER inbox_counted_in AFTER INSERT ON inbox BEGIN
        INSERT INTO inbox_counts (user_id, total, unread) VALUES (NEW.user_id, 1, NEW.unread)
        ON CONFLICT (user_id) DO UPDATE SET total = total + 1, unread = unread + NEW.unread;
    END""",
    """CREATE TRIGGER inbox_counted_out AFTER DELETE ON inbox BEGIN
        UPDATE inbox_counts SET total = total - 1, unread = unread - OLD.unread
        WHERE user_id = OLD.user_id;
    END""",
    """CREATE TRIGGER inbox_counted_change AFTER UPDATE OF unread ON inbox
        WHEN NEW.unread != OLD.unread BEGIN
        UPDATE inbox_counts SET unread = unread + NEW.unread - OLD.unread
        WHERE user_id = NEW.user_id;
    END""",
    # Where each user's sync stands.
    """CREATE TABLE sync_state (
        user_id TEXT PRIMARY KEY,
        total_items INTEGER,
        page_size INTEGER NOT NULL,
        pages_seen INTEGER NOT NULL DEFAULT 0,
        complete INTEGER NOT NULL DEFAULT 0,
        next_page INTEGER,
        crawl INTEGER NOT NULL DEFAULT 0,
        crawl_total INTEGER,
        crawl_steady INTEGER NOT NULL DEFAULT 1,
        full_crawl_at REAL,
        refreshed_at REAL
    ) WITHOUT ROWID""",
    # Threads: one row per message, with the text made from its HTML once, at store time.
    """CREATE TABLE threads (
        contact_id TEXT NOT NULL,
        viewer TEXT NOT NULL,
        fetched_at REAL NOT NULL,
        total INTEGER,
        skipped TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (contact_id, viewer)
    ) WITHOUT ROWID""",
    """CREATE TABLE messages (
        contact_id TEXT NOT NULL,
        viewer TEXT NOT NULL,
        position INTEGER NOT NULL,
        id TEXT,
        type TEXT,
        created_at INTEGER,
        subject TEXT,
        html TEXT,
        text TEXT,
        sender_user_id TEXT,
        sender_name TEXT,
        sender_email TEXT,
        lead_email TEXT,
        PRIMARY KEY (contact_id, viewer, position)
    ) WITHOUT ROWID""",
    """CREATE TABLE labels (
        id TEXT PRIMARY KEY,
        name TEXT,
        color TEXT
    ) WITHOUT ROWID""",
    """CREATE TABLE team (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        record TEXT NOT NULL
    )""",
]

_V2 = [
    # Every change the app makes in lemlist, in the order it was made: applied locally at
    # once, sent by a worker, undoable while pending. ``grp`` is one user action (a bulk
    # mark-read is one group); ``previous`` is the local value it replaced, for undo;
    # ``undoes`` names the group an inverse was sent for.
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        grp INTEGER NOT NULL,
        kind TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        conversation_id TEXT,
        user_id TEXT,
        target TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        previous TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        sent_at REAL,
        undone INTEGER NOT NULL DEFAULT 0,
        undoes INTEGER
    )""",
    "CREATE INDEX outbox_by_state ON outbox (state, id)",
    "CREATE INDEX outbox_by_group ON outbox (grp)",
    # Labels the app attached (lemlist's conversation objects carry none).
    """CREATE TABLE contact_labels (
        contact_id TEXT NOT NULL,
        label_id TEXT NOT NULL,
        PRIMARY KEY (contact_id, label_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX contact_labels_by_label ON contact_labels (label_id)",
    # What a reply and interest need from a thread's message.
    "ALTER TABLE messages ADD COLUMN lead_id TEXT",
    "ALTER TABLE messages ADD COLUMN campaign_id TEXT",
    "ALTER TABLE messages ADD COLUMN mailbox_id TEXT",
    # Interest the app set on a lead: 1 interested, 0 not interested.
    """CREATE TABLE lead_interest (
        lead_id TEXT PRIMARY KEY,
        interested INTEGER NOT NULL
    ) WITHOUT ROWID""",
]

_V3 = [
    # A contact's conversations: its labels (the detail, the outbox's local state) are
    # a lookup, not a scan of every conversation (149 ms at 1M).
    "CREATE INDEX conversations_by_contact ON conversations (contact_id)",
]

_V4 = [
    # Replies written in the app, from the first keystroke saved to their fate: ``draft``
    # (here only, offered again on R), ``queued`` / ``saving`` (an outbox row sends it /
    # saves it as a lemlist draft), ``sent``, ``saved`` (a lemlist draft, ``draft_id``),
    # ``unknown`` (the send's outcome is unknown: never sent again without the user),
    # ``discarded``. ``fields``: the send's other fields (mailbox, lead, ...) as JSON.
    """CREATE TABLE replies (
        id INTEGER PRIMARY KEY,
        contact_id TEXT NOT NULL,
        conversation_id TEXT,
        user_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        subject TEXT,
        body TEXT NOT NULL,
        fields TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL DEFAULT 'draft',
        draft_id TEXT,
        error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    "CREATE INDEX replies_by_contact ON replies (contact_id, user_id, state)",
]

TEAM = "*"
"""The team view's ``inbox.user_id`` (no lemlist user id holds a ``*``): one row per
conversation held in anyone's inbox, its ``unread`` set while no teammate has read it."""

_NOBODY_READ = "NOT EXISTS (SELECT 1 FROM participants WHERE conversation = {0} AND read = 1)"

_V5 = [
    # The team view: triggers keep a row under TEAM for every conversation of any user's
    # inbox, so that it sorts, filters and counts like one user's inbox (same indexes,
    # same counts), whoever's page brought it and whatever removes it.
    f"""INSERT OR IGNORE INTO inbox (user_id, conversation, activity, replied, created,
        unread, search, seen)
        SELECT '{TEAM}', conversation, activity, replied, created,
        {_NOBODY_READ.format("inbox.conversation")}, search, 0
        FROM inbox WHERE user_id != '{TEAM}'""",
    f"""CREATE TRIGGER team_row_in AFTER INSERT ON inbox WHEN NEW.user_id != '{TEAM}' BEGIN
        INSERT INTO inbox (user_id, conversation, activity, replied, created, unread,
            search, seen)
        VALUES ('{TEAM}', NEW.conversation, NEW.activity, NEW.replied, NEW.created,
            {_NOBODY_READ.format("NEW.conversation")}, NEW.search, 0)
        ON CONFLICT (user_id, conversation) DO NOTHING;
    END""",
    f"""CREATE TRIGGER team_row_moved AFTER UPDATE OF activity, replied, created, search
        ON inbox WHEN NEW.user_id != '{TEAM}' BEGIN
        UPDATE inbox SET activity = NEW.activity, replied = NEW.replied,
            created = NEW.created, search = NEW.search
        WHERE user_id = '{TEAM}' AND conversation = NEW.conversation
            AND (activity != NEW.activity OR replied != NEW.replied
                 OR created != NEW.created OR search != NEW.search);
    END""",
    f"""CREATE TRIGGER team_row_out AFTER DELETE ON inbox WHEN OLD.user_id != '{TEAM}' BEGIN
        DELETE FROM inbox WHERE user_id = '{TEAM}' AND conversation = OLD.conversation
            AND NOT EXISTS (SELECT 1 FROM inbox WHERE conversation = OLD.conversation
                            AND user_id != '{TEAM}');
    END""",
    *(
        f"""CREATE TRIGGER team_read_{name} AFTER {event} ON participants BEGIN
        UPDATE inbox SET unread = {_NOBODY_READ.format(f"{row}.conversation")}
        WHERE user_id = '{TEAM}' AND conversation = {row}.conversation
            AND unread != {_NOBODY_READ.format(f"{row}.conversation")};
    END"""
        for name, event, row in (
            ("in", "INSERT", "NEW"),
            ("changed", "UPDATE OF read", "NEW"),
            ("out", "DELETE", "OLD"),
        )
    ),
]

_V6 = [
    # The read matrix by teammate: the exact count of ``user:NAME`` or ``unread-by:NAME``
    # reads that teammate's entries alone (a third of a 3-person team's matrix), not one
    # lookup per conversation of the team view.
    "CREATE INDEX participants_by_user ON participants (user_id, sender, read, conversation)",
]

MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
    (6, _V6),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
