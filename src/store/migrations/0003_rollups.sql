-- Version 2 -> 3, after schema.sql has created the rollup and counter
-- tables (the rollup itself is filled by ../rollup_fill.sql): count the
-- events already stored.
INSERT INTO event_counts
    SELECT 'accepted', source, '', count(*) FROM hook_events GROUP BY source;
INSERT INTO event_counts
    SELECT 'rejected', source, reason_code, count(*) FROM rejected_events GROUP BY source, reason_code;
