"""What a Ronda state database holds: its tables, the columns every version relies on, and the
columns added since the first release (``camera.store.database`` opens and migrates the file,
``camera.store.recovery`` rebuilds a damaged one from the same schema)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    label TEXT NOT NULL,
    subclass TEXT NOT NULL,
    score REAL NOT NULL,
    box TEXT NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    last_type TEXT NOT NULL,
    motion_only INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    thumbnail TEXT,
    recorded_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_recorded ON events(recorded_at);
CREATE TABLE IF NOT EXISTS event_updates (
    event_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    type TEXT NOT NULL,
    label TEXT NOT NULL,
    subclass TEXT NOT NULL,
    score REAL NOT NULL,
    box TEXT NOT NULL,
    frame_time REAL NOT NULL,
    has_thumbnail INTEGER NOT NULL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (event_id, sequence)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    event_id TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic BLOB NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    event_id TEXT,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    buried_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS clips (
    file TEXT PRIMARY KEY,
    start_time REAL NOT NULL,
    state TEXT NOT NULL,
    duration_s REAL,
    size_bytes INTEGER,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS event_clips (
    event_id TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    offset_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS event_clips_file ON event_clips(file);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


# The columns every version of Ronda wrote and reads; later versions may add columns (and
# tables), never remove these.  A Ronda table without them is a file of something else.
CORE_COLUMNS = {
    "events": {"id", "label", "subclass", "score", "box", "start_time", "recorded_at"},
    "outbox": {"seq", "topic", "payload", "qos", "retain", "created_at"},
    "counters": {"name", "value"},
}


# Columns added after the first release: (table, column, declaration).  ``CREATE TABLE IF NOT
# EXISTS`` leaves an existing database as it was, so each is added when missing.
ADDED_COLUMNS = (
    ("events", "zones", "TEXT NOT NULL DEFAULT '[]'"),
    ("events", "alerted", "INTEGER NOT NULL DEFAULT 1"),
)
