-- dbosgen schema, version 12 (Postgres): messages between workflows and
-- workflows' events (dbos.Topic and dbos.Event).
--
-- messages holds the messages sent to a workflow and not yet received:
-- Topic.Send inserts one row (for an existing destination workflow), and
-- Topic.Recv, in the receiving workflow, deletes the oldest row of its
-- (destination, topic) in the transaction that checkpoints it as the
-- step's outcome: each message is received once, in the order sent (seq).
CREATE TABLE dbos.messages (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination_id TEXT NOT NULL,
    topic          TEXT NOT NULL,
    payload        BYTEA NOT NULL,   -- the JSON of the value sent
    created_ms     BIGINT NOT NULL
);

-- A receiver's next message: the oldest of its (destination, topic).
CREATE INDEX messages_destination_idx ON dbos.messages (destination_id, topic, seq);

-- events holds each workflow's events: the latest value set for each key
-- (Event.Set upserts it in the transaction that checkpoints the step).
CREATE TABLE dbos.events (
    workflow_id TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       BYTEA NOT NULL,      -- the JSON of the value set
    updated_ms  BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, key)
);
