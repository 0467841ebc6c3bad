-- The daily rollup summed from the hourly one (filled first), and the daily
-- totals from it: what the writer keeps beside them. Used to upgrade a
-- database (migrations to v4 and v8), by store::rollup::rebuild, and by the
-- benchmark's database generator.
INSERT INTO cost_rollup_daily
    SELECT substr(hour, 1, 10), provider, model, model_key, agent_id, project,
           sum(records), total(cost_usd), sum(input_tokens), sum(output_tokens),
           sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens),
           sum(reasoning_tokens)
    FROM cost_rollup_hourly
    GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO cost_totals_daily
    SELECT day, sum(records), total(cost_usd), sum(input_tokens), sum(output_tokens),
           sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens),
           sum(reasoning_tokens)
    FROM cost_rollup_daily
    GROUP BY 1;
