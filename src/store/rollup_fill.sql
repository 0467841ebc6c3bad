-- The hourly rollup computed from cost_records in one pass: what the writer
-- keeps record by record. Used to upgrade a database (migration to v3), by
-- store::rollup::rebuild, and by the benchmark's database generator.
INSERT INTO cost_rollup_hourly
    SELECT substr(timestamp, 1, 13), provider, model, coalesce(model_key, model), agent_id,
           coalesce(project, ''),
           count(*), total(estimated_cost_usd), sum(input_tokens), sum(output_tokens),
           sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens),
           sum(reasoning_tokens)
    FROM cost_records
    GROUP BY 1, 2, 3, 4, 5, 6;
