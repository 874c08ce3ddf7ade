-- dbosgen schema, version 5 (Postgres): the DEAD_LETTER state, for a
-- workflow recovered more times than its max_recovery allows. It is
-- terminal like SUCCESS, ERROR and CANCELLED; Resume puts it back to work.
ALTER TABLE dbos.workflows DROP CONSTRAINT workflows_state_check;
ALTER TABLE dbos.workflows ADD CONSTRAINT workflows_state_check
    CHECK (state IN ('ENQUEUED', 'PENDING', 'SUCCESS', 'ERROR', 'CANCELLED', 'DEAD_LETTER'));
