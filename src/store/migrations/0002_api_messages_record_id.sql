-- Version 1 -> 2: api_messages points at its cost record by id instead of
-- repeating the record's text key; the table is a third of the size and the
-- writer reaches the record without a second index lookup.
CREATE TABLE api_messages_v2 (
    message_id TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    record_id  INTEGER NOT NULL,
    PRIMARY KEY (message_id, request_id)
) WITHOUT ROWID;
-- A row whose record is gone has nothing left to count: it is dropped.
INSERT INTO api_messages_v2 (message_id, request_id, record_id)
    SELECT a.message_id, a.request_id, c.id
    FROM api_messages a JOIN cost_records c ON c.hook_event_id = a.key;
DROP TABLE api_messages;
ALTER TABLE api_messages_v2 RENAME TO api_messages;
