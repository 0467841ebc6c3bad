-- Version 2 -> 3, after schema.sql has created the rollup and counter tables
-- and their triggers: fill them from the rows already stored.
INSERT INTO cost_rollup_hourly
    SELECT substr(timestamp, 1, 13), provider, model, agent_id, coalesce(project, ''),
           count(*), sum(estimated_cost_usd), sum(input_tokens), sum(output_tokens),
           sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens),
           sum(reasoning_tokens)
    FROM cost_records
    GROUP BY 1, 2, 3, 4, 5;
INSERT INTO event_counts
    SELECT 'accepted', source, '', count(*) FROM hook_events GROUP BY source;
INSERT INTO event_counts
    SELECT 'rejected', source, reason_code, count(*) FROM rejected_events GROUP BY source, reason_code;
