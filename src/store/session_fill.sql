-- The per-session rollups computed from cost_records in one pass each: what
-- the writer keeps as it stores records. Used to upgrade a database
-- (migration to v17), by store::rollup::rebuild, and by the benchmark's
-- database generator. The same columns as the delete trigger's
-- recomputation in schema.sql and the writer's in rollup.rs.
INSERT INTO cost_sessions
    SELECT session_id, min(timestamp), max(timestamp), count(*), total(estimated_cost_usd),
           sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
           sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(reasoning_tokens),
           max(project),
           sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens)
    FROM cost_records WHERE session_id IS NOT NULL
    GROUP BY session_id;
INSERT INTO cost_session_models
    SELECT session_id, coalesce(model_key, model), agent_id, count(*), total(estimated_cost_usd)
    FROM cost_records WHERE session_id IS NOT NULL
    GROUP BY 1, 2, 3;
