-- dbosgen schema, version 13 (Postgres): the ticks of scheduled workflows.
--
-- A scheduled workflow (//dbos:workflow schedule="...") is created at each
-- tick of its cron schedule by whichever process inserts the tick's
-- workflow first (its ID is derived from the function's name and the tick
-- time). schedules keeps, per registered function name, the latest tick
-- created: a process launching with backfill=true creates the ticks after
-- it that nobody created while no process ran. It is not the workflows
-- table's newest row, since retention may delete those.
CREATE TABLE dbos.schedules (
    name         TEXT PRIMARY KEY,
    last_tick_ms BIGINT NOT NULL
);
