-- hookmeter database schema, version 17. A new database gets this file; an
-- older one gets the steps in src/store/migrations/ and then this file.
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
    payload_json          TEXT,                         -- NULL today: a hook's payload is in hook_events, a transcript line stays in its file
    fast                  INTEGER NOT NULL DEFAULT 0,   -- 1: priced in fast mode (the model's fast multiplier); kept so reprice can apply it again
    service_tier          TEXT,                         -- the service tier the usage reported (flex, priority, batch), NULL for standard; kept so reprice can apply it again
    inference_geo         TEXT,                         -- where inference ran, when the usage says and it is not the standard (us), NULL otherwise
    unpriced_modifiers    TEXT,                         -- the modifiers the price table had no fact for, priced at the standard rates (service_tier=flex,inference_geo=us,speed=fast); NULL when none
    model_key             TEXT,                         -- the name reports group by: the price entry that priced it (`model` itself for the fallback and local models); NULL (a row written by hand) reads as `model`
    prompt_id             TEXT,                         -- the prompt the request answers (Claude Code promptId, Codex turn id, OpenCode parent message id); NULL when the source names none
    git_branch            TEXT,                         -- the branch of the session's working directory (Claude Code gitBranch, Codex session git.branch); NULL when unknown
    rev                   INTEGER NOT NULL DEFAULT 0    -- change number: set from meta.next_rev by whoever inserts or updates the row; the push sends rows above its cursor
);
CREATE INDEX IF NOT EXISTS idx_cost_records_timestamp  ON cost_records(timestamp);
CREATE INDEX IF NOT EXISTS idx_cost_records_session_id ON cost_records(session_id);
CREATE INDEX IF NOT EXISTS idx_cost_records_agent_id   ON cost_records(agent_id);
CREATE INDEX IF NOT EXISTS idx_cost_records_model      ON cost_records(model);
-- Partial: most records have no task, and `task_id = ?` implies NOT NULL.
CREATE INDEX IF NOT EXISTS idx_cost_records_task_id    ON cost_records(task_id) WHERE task_id IS NOT NULL;
-- Partial: the few records priced at the fallback rates (an unknown model),
-- which every report shows apart; the writer touches it only for those.
CREATE INDEX IF NOT EXISTS idx_cost_records_fallback   ON cost_records(timestamp) WHERE pricing_source = 'fallback';
-- Partial: the few records whose billing modifier had no price (doctor counts them).
CREATE INDEX IF NOT EXISTS idx_cost_records_unpriced   ON cost_records(timestamp) WHERE unpriced_modifiers IS NOT NULL;
-- The push reads the rows changed since its cursor, in change order.
CREATE INDEX IF NOT EXISTS idx_cost_records_rev        ON cost_records(rev);

-- Small facts about this database, one row each: `next_rev` (the next
-- change number; the writer reads it once per transaction and writes it
-- back before the commit), `machine_id` (a uuid made on first need: who
-- this database is to a central server), and the push's own state:
-- `push_cursor` (the last change number the server committed),
-- `push_last_success`, `push_last_error`.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_rev', '1');

-- Cost records deleted here (one source per session: an OTel record given
-- up for the log's, a transcript record replaced), kept until the push has
-- deleted them centrally too; only once meta has a machine_id (before the
-- first push there is nothing to delete centrally). `rev` comes from the same counter as
-- cost_records.rev, so a row that reuses a deleted id comes after it.
CREATE TABLE IF NOT EXISTS record_tombstones (
    rev      INTEGER PRIMARY KEY,
    local_id INTEGER NOT NULL                           -- the deleted cost_records.id
);

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
    raw_text    TEXT NOT NULL,                          -- lossy UTF-8 of the bytes received (an over-limit line: its first bytes)
    reason_code TEXT NOT NULL DEFAULT 'other'           -- the reason's kind, a short fixed label (the /metrics reason)
);

-- Where each Claude Code transcript was read up to.
CREATE TABLE IF NOT EXISTS transcript_offsets (
    path       TEXT PRIMARY KEY,                        -- canonical path
    offset     INTEGER NOT NULL,                        -- bytes of complete lines consumed
    inode      INTEGER NOT NULL,                        -- another inode at this path = a new file
    updated_at TEXT NOT NULL
);

-- Each API call counted once: (message.id, requestId) -> the cost record that
-- counts it. A resumed or forked session copies earlier messages under a new
-- sessionId; those copies merge into one record, which is the original
-- session's whichever file was read first (docs/ingest.md#forked-sessions).
CREATE TABLE IF NOT EXISTS api_messages (
    message_id TEXT    NOT NULL,
    request_id TEXT    NOT NULL,                        -- '' when the line has none
    record_id  INTEGER NOT NULL,                        -- cost_records.id
    -- 1 while the record is attributed from a fork's copy of the line: the
    -- original, read later, takes it over.
    copied     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, request_id)
) WITHOUT ROWID;
-- A Claude Code OTel event finds the transcript's record of its request by
-- the request id alone (the event carries no message id).
CREATE INDEX IF NOT EXISTS api_messages_by_request ON api_messages (request_id);

-- Claude Code's `api_request` OTel events, one row per request id: what the
-- agent itself reported, beside the record that counts the request (one row
-- per request whatever the sources; docs/ingest.md#opentelemetry). A record
-- made from the event before any transcript line has an api_messages row
-- with message_id '' until the line arrives.
CREATE TABLE IF NOT EXISTS otel_requests (
    request_id            TEXT    PRIMARY KEY,
    record_id             INTEGER NOT NULL,             -- cost_records.id
    session_id            TEXT    NOT NULL,
    prompt_id             TEXT,
    input_tokens          INTEGER NOT NULL,
    output_tokens         INTEGER NOT NULL,
    cache_read_tokens     INTEGER NOT NULL,
    cache_creation_tokens INTEGER NOT NULL,             -- 5-minute and 1-hour writes together
    cost_usd              REAL,                         -- the agent's own price
    received_at           TEXT    NOT NULL,
    -- NULL until a transcript line of the request is seen; then 1 when its
    -- counts equal the event's, 0 when they differ (the event's stand).
    agrees                INTEGER
) WITHOUT ROWID;

-- Hourly totals of cost_records by the dimensions summaries group and filter
-- on most. The writer keeps them in the same transaction as the records it
-- inserts and updates (one upsert per touched group and batch; a per-row
-- trigger would cost half the ingest rate), and the trigger below takes
-- deleted records out, so an operator pruning rows keeps them right.
-- `hookmeter reprice` keeps them too. Hours are UTC: a day in any zone whose
-- offset is whole hours is a set of whole hours.
CREATE TABLE IF NOT EXISTS cost_rollup_hourly (
    hour                  TEXT    NOT NULL,             -- 'YYYY-MM-DDTHH', UTC: substr(timestamp, 1, 13)
    provider              TEXT    NOT NULL,
    model                 TEXT    NOT NULL,             -- as the records name it
    model_key             TEXT    NOT NULL,             -- the records' coalesce(model_key, model): what reports group by
    agent_id              TEXT    NOT NULL,
    project               TEXT    NOT NULL,             -- '' for records without a project
    records               INTEGER NOT NULL,
    cost_usd              REAL    NOT NULL,
    input_tokens          INTEGER NOT NULL,
    output_tokens         INTEGER NOT NULL,
    cache_read_tokens     INTEGER NOT NULL,
    cache_write_tokens    INTEGER NOT NULL,
    cache_write_1h_tokens INTEGER NOT NULL,
    reasoning_tokens      INTEGER NOT NULL,
    PRIMARY KEY (hour, provider, model, model_key, agent_id, project)
) WITHOUT ROWID;

-- The same totals per UTC day, kept the same way: a summary or a page count
-- over months reads days here and only the hours at its ends above.
CREATE TABLE IF NOT EXISTS cost_rollup_daily (
    day                   TEXT    NOT NULL,             -- 'YYYY-MM-DD', UTC: substr(timestamp, 1, 10)
    provider              TEXT    NOT NULL,
    model                 TEXT    NOT NULL,             -- as the records name it
    model_key             TEXT    NOT NULL,             -- the records' coalesce(model_key, model): what reports group by
    agent_id              TEXT    NOT NULL,
    project               TEXT    NOT NULL,
    records               INTEGER NOT NULL,
    cost_usd              REAL    NOT NULL,
    input_tokens          INTEGER NOT NULL,
    output_tokens         INTEGER NOT NULL,
    cache_read_tokens     INTEGER NOT NULL,
    cache_write_tokens    INTEGER NOT NULL,
    cache_write_1h_tokens INTEGER NOT NULL,
    reasoning_tokens      INTEGER NOT NULL,
    PRIMARY KEY (day, provider, model, model_key, agent_id, project)
) WITHOUT ROWID;

-- An agent's or a model's days without reading the other groups' rows
-- (covering: a page counts records from the index alone).
CREATE INDEX IF NOT EXISTS idx_cost_rollup_daily_agent ON cost_rollup_daily(agent_id, day, records);
CREATE INDEX IF NOT EXISTS idx_cost_rollup_daily_model ON cost_rollup_daily(model, day, records);
CREATE INDEX IF NOT EXISTS idx_cost_rollup_daily_model_key ON cost_rollup_daily(model_key, day, records);

-- All records of a UTC day, whatever their group: what an unfiltered total
-- or page reads, a row a day.
CREATE TABLE IF NOT EXISTS cost_totals_daily (
    day                   TEXT    NOT NULL PRIMARY KEY, -- 'YYYY-MM-DD', UTC
    records               INTEGER NOT NULL,
    cost_usd              REAL    NOT NULL,
    input_tokens          INTEGER NOT NULL,
    output_tokens         INTEGER NOT NULL,
    cache_read_tokens     INTEGER NOT NULL,
    cache_write_tokens    INTEGER NOT NULL,
    cache_write_1h_tokens INTEGER NOT NULL,
    reasoning_tokens      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS cost_rollup_on_delete AFTER DELETE ON cost_records BEGIN
    UPDATE cost_rollup_hourly SET
        records = records - 1,
        cost_usd = cost_usd - OLD.estimated_cost_usd,
        input_tokens = input_tokens - OLD.input_tokens,
        output_tokens = output_tokens - OLD.output_tokens,
        cache_read_tokens = cache_read_tokens - OLD.cache_read_tokens,
        cache_write_tokens = cache_write_tokens - OLD.cache_write_tokens,
        cache_write_1h_tokens = cache_write_1h_tokens - OLD.cache_write_1h_tokens,
        reasoning_tokens = reasoning_tokens - OLD.reasoning_tokens
    WHERE hour = substr(OLD.timestamp, 1, 13) AND provider = OLD.provider AND model = OLD.model
      AND model_key = coalesce(OLD.model_key, OLD.model)
      AND agent_id = OLD.agent_id AND project = coalesce(OLD.project, '');
    DELETE FROM cost_rollup_hourly
    WHERE hour = substr(OLD.timestamp, 1, 13) AND provider = OLD.provider AND model = OLD.model
      AND model_key = coalesce(OLD.model_key, OLD.model)
      AND agent_id = OLD.agent_id AND project = coalesce(OLD.project, '') AND records <= 0;
    UPDATE cost_rollup_daily SET
        records = records - 1,
        cost_usd = cost_usd - OLD.estimated_cost_usd,
        input_tokens = input_tokens - OLD.input_tokens,
        output_tokens = output_tokens - OLD.output_tokens,
        cache_read_tokens = cache_read_tokens - OLD.cache_read_tokens,
        cache_write_tokens = cache_write_tokens - OLD.cache_write_tokens,
        cache_write_1h_tokens = cache_write_1h_tokens - OLD.cache_write_1h_tokens,
        reasoning_tokens = reasoning_tokens - OLD.reasoning_tokens
    WHERE day = substr(OLD.timestamp, 1, 10) AND provider = OLD.provider AND model = OLD.model
      AND model_key = coalesce(OLD.model_key, OLD.model)
      AND agent_id = OLD.agent_id AND project = coalesce(OLD.project, '');
    DELETE FROM cost_rollup_daily
    WHERE day = substr(OLD.timestamp, 1, 10) AND provider = OLD.provider AND model = OLD.model
      AND model_key = coalesce(OLD.model_key, OLD.model)
      AND agent_id = OLD.agent_id AND project = coalesce(OLD.project, '') AND records <= 0;
    UPDATE cost_totals_daily SET
        records = records - 1,
        cost_usd = cost_usd - OLD.estimated_cost_usd,
        input_tokens = input_tokens - OLD.input_tokens,
        output_tokens = output_tokens - OLD.output_tokens,
        cache_read_tokens = cache_read_tokens - OLD.cache_read_tokens,
        cache_write_tokens = cache_write_tokens - OLD.cache_write_tokens,
        cache_write_1h_tokens = cache_write_1h_tokens - OLD.cache_write_1h_tokens,
        reasoning_tokens = reasoning_tokens - OLD.reasoning_tokens
    WHERE day = substr(OLD.timestamp, 1, 10);
    DELETE FROM cost_totals_daily WHERE day = substr(OLD.timestamp, 1, 10) AND records <= 0;
END;

-- One row per session: its records, totals, first and last record and
-- project (the greatest, as a GROUP BY over the records would pick), kept by
-- the writer in the transaction that stores the records, so a list of
-- sessions reads one row per session instead of every record
-- (src/store/rollup.rs). A session whose records change other than by
-- insertion is recomputed from cost_records; so is one losing a record to
-- a delete, by the trigger below.
CREATE TABLE IF NOT EXISTS cost_sessions (
    session_id            TEXT    PRIMARY KEY,
    first_at              TEXT    NOT NULL,             -- min(timestamp) of its records
    last_at               TEXT    NOT NULL,             -- max(timestamp)
    records               INTEGER NOT NULL,
    cost_usd              REAL    NOT NULL,
    input_tokens          INTEGER NOT NULL,
    output_tokens         INTEGER NOT NULL,
    cache_read_tokens     INTEGER NOT NULL,
    cache_write_tokens    INTEGER NOT NULL,
    cache_write_1h_tokens INTEGER NOT NULL,
    reasoning_tokens      INTEGER NOT NULL,
    project               TEXT,                         -- max(project): NULL when no record names one
    tokens                INTEGER NOT NULL              -- input + output + cache read + cache write: the "tokens" sort
) WITHOUT ROWID;

-- One index per order a list of sessions can be sorted in, each holding
-- every column: a page walks one index in its order, skipping the sessions
-- the range does not hold by the two ends each index carries, and reads no
-- row of the table (a lookup per session was most of a 30-day page's time
-- at 100,000 sessions). Descending, as the dashboard sorts by default.
-- first_at and last_at also find the sessions a range holds whole, and
-- those it cuts.
CREATE INDEX IF NOT EXISTS idx_cost_sessions_by_first ON cost_sessions(first_at DESC, session_id,
    last_at, records, cost_usd, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, project, tokens);
CREATE INDEX IF NOT EXISTS idx_cost_sessions_by_last ON cost_sessions(last_at DESC, session_id,
    first_at, records, cost_usd, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, project, tokens);
CREATE INDEX IF NOT EXISTS idx_cost_sessions_by_cost ON cost_sessions(cost_usd DESC, session_id,
    first_at, last_at, records, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, project, tokens);
CREATE INDEX IF NOT EXISTS idx_cost_sessions_by_records ON cost_sessions(records DESC, session_id,
    first_at, last_at, cost_usd, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, project, tokens);
CREATE INDEX IF NOT EXISTS idx_cost_sessions_by_tokens ON cost_sessions(tokens DESC, session_id,
    first_at, last_at, records, cost_usd, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, cache_write_1h_tokens, reasoning_tokens, project);

-- Per session, each model (as reports name it) and agent its records used,
-- with their count and cost: the models and agents a list of sessions
-- shows, most expensive first, without reading the session's records.
-- Kept by the writer in the records' transaction; being sums only, a
-- changed or deleted record is taken out of it, like the hourly rollup.
CREATE TABLE IF NOT EXISTS cost_session_models (
    session_id TEXT    NOT NULL,
    model_key  TEXT    NOT NULL,                        -- the records' coalesce(model_key, model)
    agent_id   TEXT    NOT NULL,
    records    INTEGER NOT NULL,
    cost_usd   REAL    NOT NULL,
    PRIMARY KEY (session_id, model_key, agent_id)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS cost_sessions_on_delete AFTER DELETE ON cost_records
WHEN OLD.session_id IS NOT NULL BEGIN
    DELETE FROM cost_sessions WHERE session_id = OLD.session_id;
    INSERT INTO cost_sessions
        SELECT session_id, min(timestamp), max(timestamp), count(*), total(estimated_cost_usd),
               sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
               sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(reasoning_tokens),
               max(project),
               sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)
        FROM cost_records WHERE session_id = OLD.session_id GROUP BY session_id;
    UPDATE cost_session_models SET
        records = records - 1,
        cost_usd = cost_usd - OLD.estimated_cost_usd
    WHERE session_id = OLD.session_id AND model_key = coalesce(OLD.model_key, OLD.model)
      AND agent_id = OLD.agent_id;
    DELETE FROM cost_session_models
    WHERE session_id = OLD.session_id AND model_key = coalesce(OLD.model_key, OLD.model)
      AND agent_id = OLD.agent_id AND records <= 0;
END;

-- Events accepted and rejected since the database was created, for
-- /metrics: counters that survive a restart without counting whole tables.
-- The writer adds to them as it stores events; pruning hook_events or
-- rejected_events leaves them as they are.
CREATE TABLE IF NOT EXISTS event_counts (
    outcome TEXT    NOT NULL,                           -- accepted|rejected
    source  TEXT    NOT NULL,                           -- hook|http|transcript|import, or socket|spool|http|send
    reason  TEXT    NOT NULL,                           -- rejected_events.reason_code; '' when accepted
    events  INTEGER NOT NULL,
    PRIMARY KEY (outcome, source, reason)
) WITHOUT ROWID;

-- Spending limits: one per scope and period (`hookmeter budget set`, or
-- `[[budgets]]` in the config file, re-applied at every start and SIGHUP).
CREATE TABLE IF NOT EXISTS budgets (
    scope      TEXT NOT NULL,                           -- '' (everything), agent:NAME, task:ID or project:NAME
    period     TEXT NOT NULL,                           -- daily|weekly|monthly|total
    limit_usd  REAL NOT NULL,
    updated_at TEXT NOT NULL,
    enforce    INTEGER NOT NULL DEFAULT 0,              -- 1: `hookmeter send` denies PreToolUse once spent
    origin     TEXT NOT NULL DEFAULT 'cli',             -- cli|config: config rows follow the file
    PRIMARY KEY (scope, period)
) WITHOUT ROWID;

-- Thresholds that fired: one row per budget, period, limit and threshold,
-- so each fires once, whatever restarts happen in between.
CREATE TABLE IF NOT EXISTS alerts (
    id            INTEGER PRIMARY KEY,
    scope         TEXT NOT NULL,
    period        TEXT NOT NULL,
    period_start  TEXT NOT NULL,                        -- RFC 3339 UTC; '' for a total
    limit_usd     REAL NOT NULL,
    threshold_pct REAL NOT NULL,                        -- 80 = 80 % of the limit
    spent_usd     REAL NOT NULL,                        -- when it fired
    fired_at      TEXT NOT NULL,
    -- Delivery to the webhook and the command, at least once
    -- (docs/budgets.md#delivery): pending until both took it, then
    -- delivered; given_up once alerts.deliver_for_secs passed; logged when
    -- neither was configured when it fired.
    delivery        TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    next_attempt_at TEXT,                               -- NULL: at once
    last_error      TEXT,                               -- webhook URL left out
    delivered_at    TEXT,
    message         TEXT,                               -- JSON {text, env}: what is sent
    UNIQUE (scope, period, period_start, limit_usd, threshold_pct)
);
CREATE INDEX IF NOT EXISTS alerts_pending ON alerts (id) WHERE delivery = 'pending';

-- Plan limits as an agent reports them (Claude Code's statusline
-- `rate_limits`): one row per observation that changed, not one per call.
-- `window` is five_hour or seven_day, whichever agent reported it.
CREATE TABLE IF NOT EXISTS plan_usage (
    id          INTEGER PRIMARY KEY,
    observed_at TEXT    NOT NULL,                       -- RFC 3339 UTC, ms: when the agent reported it
    agent_id    TEXT    NOT NULL,
    window      TEXT    NOT NULL,                       -- five_hour|seven_day
    used_pct    REAL    NOT NULL,                       -- 0-100 as reported
    resets_at   TEXT,                                   -- RFC 3339 UTC; NULL when not reported
    source      TEXT    NOT NULL,                       -- claude_statusline
    session_id  TEXT
);
CREATE INDEX IF NOT EXISTS idx_plan_usage_window ON plan_usage(window, observed_at);

-- The cost an agent states for a whole session (Claude Code's statusline
-- `cost.total_cost_usd`), the latest kept: what `reconcile` sets beside
-- hookmeter's own price of the session.
CREATE TABLE IF NOT EXISTS session_reported_costs (
    session_id     TEXT PRIMARY KEY,
    agent_id       TEXT NOT NULL,
    total_cost_usd REAL NOT NULL,
    observed_at    TEXT NOT NULL,                       -- RFC 3339 UTC, ms
    source         TEXT NOT NULL                        -- claude_statusline
) WITHOUT ROWID;

-- Per UTC day, from the rollup: as fast on ten million records as on ten.
CREATE VIEW IF NOT EXISTS v_daily_cost AS
    SELECT day, provider, model,
           sum(records) AS records, sum(cost_usd) AS cost_usd,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens
    FROM cost_rollup_daily GROUP BY day, provider, model;

CREATE VIEW IF NOT EXISTS v_session_cost AS
    SELECT session_id, min(timestamp) AS first_at, max(timestamp) AS last_at,
           count(*) AS records, sum(estimated_cost_usd) AS cost_usd,
           sum(input_tokens + cache_read_tokens + cache_write_tokens) AS prompt_tokens,
           sum(output_tokens) AS output_tokens, group_concat(DISTINCT model) AS models
    FROM cost_records GROUP BY session_id;
