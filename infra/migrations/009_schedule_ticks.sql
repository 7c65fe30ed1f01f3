-- Relay Database Schema v9: on.schedule (cron).
--
-- Idempotent like 002-008: Docker's initdb and `relay migrate` may both run it.
--
-- A scheduled workflow's tick is claimed by inserting its row, in the statement that inserts the run it
-- starts: however many schedulers see the tick, the primary key lets one of them start one run.
CREATE TABLE IF NOT EXISTS schedule_ticks (
    workflow_id TEXT NOT NULL,
    tick_at TIMESTAMPTZ NOT NULL,
    run_id TEXT NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, tick_at)
);

-- The workflows with a schedule: `on.schedule` of their current definition.
CREATE INDEX IF NOT EXISTS idx_workflows_on_schedule ON workflows ((definition -> 'on' ->> 'schedule'))
    WHERE definition -> 'on' ->> 'schedule' IS NOT NULL;
