-- Relay Database Schema v8: POST /events.
--
-- Idempotent like 002-007: Docker's initdb and `relay migrate` may both run it.
--
-- An event sent with an id is recorded, with the runs it started, in the transaction that inserts those
-- runs: the same id again (a sender's retry) starts nothing and is answered with the same runs. An event
-- without an id is not stored; its runs keep its payload as their input.
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    payload JSONB NOT NULL,
    run_ids TEXT[] NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The workflows subscribed to an event type: `on.event` of their current definition.
CREATE INDEX IF NOT EXISTS idx_workflows_on_event ON workflows ((definition -> 'on' ->> 'event'))
    WHERE definition -> 'on' ->> 'event' IS NOT NULL;
