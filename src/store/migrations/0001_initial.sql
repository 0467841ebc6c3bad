-- hookmeter database schema, version 1, as first released. Kept to test that
-- the migration steps lead to the same database as a fresh schema.sql.
-- Applied by the daemon at start inside one transaction, guarded by
-- PRAGMA user_version, so running it again is harmless. Every statement is
-- idempotent (IF NOT EXISTS) for the same reason.

-- One row per priced usage: what reports, the API and ops with sqlite3 read.
CREATE TABLE IF NOT EXISTS cost_records (
    id                    INTEGER PRIMARY KEY,          -- monotonic: tail with WHERE id > ?
    timestamp             TEXT    NOT NULL,             -- RFC 3339 UTC, milliseconds, Z
    session_id            TEXT,
    agent_id              TEXT    NOT NULL,
    task_id               TEXT,
    project               TEXT,                         -- last component of the event's cwd
    provider              TEXT    NOT NULL,
    model                 TEXT    NOT NULL,
    input_tokens          INTEGER NOT NULL DEFAULT 0,   -- non-cached prompt tokens
    output_tokens         INTEGER NOT NULL DEFAULT 0,   -- reasoning included
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens    INTEGER NOT NULL DEFAULT 0,   -- all lifetimes, 1h included
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens      INTEGER NOT NULL DEFAULT 0,   -- part of output_tokens
    estimated_cost_usd    REAL    NOT NULL,
    reported_cost_usd     REAL,
    pricing_source        TEXT    NOT NULL,             -- embedded|user|env|local|fallback|reported
    tool_name             TEXT,
    hook_event_id         TEXT    NOT NULL UNIQUE,      -- redelivery updates, never duplicates
    source                TEXT    NOT NULL,             -- hook|transcript|import|http
    service               TEXT    NOT NULL DEFAULT 'llm',
    labels_json           TEXT,
    payload_json          TEXT                          -- NULL today: a hook's payload is in hook_events, a transcript line stays in its file
);
CREATE INDEX IF NOT EXISTS idx_cost_records_timestamp  ON cost_records(timestamp);
CREATE INDEX IF NOT EXISTS idx_cost_records_session_id ON cost_records(session_id);
CREATE INDEX IF NOT EXISTS idx_cost_records_agent_id   ON cost_records(agent_id);
CREATE INDEX IF NOT EXISTS idx_cost_records_model      ON cost_records(model);
-- Partial: most records have no task, and `task_id = ?` implies NOT NULL.
CREATE INDEX IF NOT EXISTS idx_cost_records_task_id    ON cost_records(task_id) WHERE task_id IS NOT NULL;

-- Every accepted event, with or without usage.
CREATE TABLE IF NOT EXISTS hook_events (
    id             INTEGER PRIMARY KEY,
    hook_event_id  TEXT    NOT NULL UNIQUE,
    received_at    TEXT    NOT NULL,
    timestamp      TEXT    NOT NULL,
    event_name     TEXT,
    session_id     TEXT,
    tool_name      TEXT,
    agent_id       TEXT    NOT NULL,
    task_id        TEXT,
    model          TEXT,                                -- as found in the payload; seeds the session's last known model
    source         TEXT    NOT NULL,
    records        INTEGER NOT NULL DEFAULT 0,          -- cost records this event produced
    labels_json    TEXT,
    payload_json   TEXT                                 -- per store_payloads, redacted
);
CREATE INDEX IF NOT EXISTS idx_hook_events_session ON hook_events(session_id, id);

-- Everything the daemon could not use, kept verbatim with the reason.
CREATE TABLE IF NOT EXISTS rejected_events (
    id          INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    source      TEXT NOT NULL,                          -- socket|spool|http|send
    origin      TEXT,                                   -- spool file name and line, when known
    reason      TEXT NOT NULL,
    raw_text    TEXT NOT NULL                           -- lossy UTF-8 of the bytes received (an over-limit line: its first bytes)
);

-- Where each Claude Code transcript was read up to.
CREATE TABLE IF NOT EXISTS transcript_offsets (
    path       TEXT PRIMARY KEY,                        -- canonical path
    offset     INTEGER NOT NULL,                        -- bytes of complete lines consumed
    inode      INTEGER NOT NULL,                        -- another inode at this path = a new file
    updated_at TEXT NOT NULL
);

-- Each API call counted once: (message.id, requestId) -> the key of the
-- record that counts it. A resumed session copies earlier messages under a
-- new sessionId; those copies merge into the first record.
CREATE TABLE IF NOT EXISTS api_messages (
    message_id TEXT NOT NULL,
    request_id TEXT NOT NULL,                           -- '' when the line has none
    key        TEXT NOT NULL,
    PRIMARY KEY (message_id, request_id)
) WITHOUT ROWID;

CREATE VIEW IF NOT EXISTS v_daily_cost AS
    SELECT substr(timestamp, 1, 10) AS day, provider, model,
           count(*) AS records, sum(estimated_cost_usd) AS cost_usd,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens
    FROM cost_records GROUP BY day, provider, model;

CREATE VIEW IF NOT EXISTS v_session_cost AS
    SELECT session_id, min(timestamp) AS first_at, max(timestamp) AS last_at,
           count(*) AS records, sum(estimated_cost_usd) AS cost_usd,
           sum(input_tokens + cache_read_tokens + cache_write_tokens) AS prompt_tokens,
           sum(output_tokens) AS output_tokens, group_concat(DISTINCT model) AS models
    FROM cost_records GROUP BY session_id;
