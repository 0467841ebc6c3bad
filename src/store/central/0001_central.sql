-- The central schema, version 1 (docs/push.md). Run by `hookmeter push
-- --init` inside one transaction, under an advisory lock.
CREATE TABLE IF NOT EXISTS hookmeter.machines (
    machine_id        text PRIMARY KEY,
    host              text NOT NULL,
    user_name         text NOT NULL,
    labels            jsonb NOT NULL DEFAULT '{}'::jsonb,
    hookmeter_version text,
    first_push        timestamptz NOT NULL DEFAULT now(),
    last_push         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS hookmeter.cost_records (
    machine_id            text   NOT NULL REFERENCES hookmeter.machines,
    local_id              bigint NOT NULL,
    rev                   bigint NOT NULL,
    record_key            text   NOT NULL,
    ts                    timestamptz NOT NULL,
    user_name             text NOT NULL,
    host                  text NOT NULL,
    agent_id              text NOT NULL,
    session_id            text,
    task_id               text,
    project               text,
    git_branch            text,
    prompt_id             text,
    provider              text NOT NULL,
    model                 text NOT NULL,
    model_key             text,
    tool_name             text,
    source                text NOT NULL,
    input_tokens          bigint NOT NULL,
    output_tokens         bigint NOT NULL,
    cache_read_tokens     bigint NOT NULL,
    cache_write_tokens    bigint NOT NULL,
    cache_write_1h_tokens bigint NOT NULL,
    reasoning_tokens      bigint NOT NULL,
    estimated_cost_usd    double precision NOT NULL,
    reported_cost_usd     double precision,
    pricing_source        text NOT NULL,
    labels                jsonb,
    pushed_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (machine_id, local_id)
);
-- Every question is bounded in time: a period's spend, a day's trend.
CREATE INDEX IF NOT EXISTS cost_records_ts ON hookmeter.cost_records (ts);
-- Spend per person and per repository over a period.
CREATE INDEX IF NOT EXISTS cost_records_user_ts ON hookmeter.cost_records (user_name, ts);
CREATE INDEX IF NOT EXISTS cost_records_project_ts ON hookmeter.cost_records (project, ts);
-- A session's records (top sessions, drilling into one).
CREATE INDEX IF NOT EXISTS cost_records_session ON hookmeter.cost_records (session_id);

CREATE OR REPLACE VIEW hookmeter.daily_spend AS
    SELECT (ts AT TIME ZONE 'UTC')::date AS day, user_name, host, project, git_branch, agent_id,
           coalesce(model_key, model) AS model_key,
           count(*) AS records,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cache_read_tokens) AS cache_read_tokens,
           sum(cache_write_tokens) AS cache_write_tokens,
           sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
           sum(reasoning_tokens) AS reasoning_tokens,
           sum(estimated_cost_usd) AS cost_usd
    FROM hookmeter.cost_records
    GROUP BY 1, user_name, host, project, git_branch, agent_id, coalesce(model_key, model);

CREATE OR REPLACE VIEW hookmeter.sessions AS
    SELECT machine_id, session_id, min(user_name) AS user_name, min(project) AS project,
           min(agent_id) AS agent_id, min(ts) AS first_ts, max(ts) AS last_ts,
           count(*) AS records, sum(estimated_cost_usd) AS cost_usd
    FROM hookmeter.cost_records
    WHERE session_id IS NOT NULL
    GROUP BY machine_id, session_id;
