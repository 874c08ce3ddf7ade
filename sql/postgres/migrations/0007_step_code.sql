-- dbosgen schema, version 7 (Postgres): step error codes.
--
-- code classifies a failed step's error for replay: the runtime's name for
-- the sentinel error the step's error wraps, or '' (a step that succeeded,
-- or an error of no known kind). Replay used to re-classify a recorded
-- error by matching its message. The store only keeps the code. Steps
-- recorded before this version have ''.
ALTER TABLE dbos.steps ADD COLUMN code TEXT NOT NULL DEFAULT '';
