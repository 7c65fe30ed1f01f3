-- Relay Database Schema v13: the reason given with POST /runs/:id/cancel, kept with the run.
--
-- Idempotent like 002-012 (IF NOT EXISTS): Docker's initdb and `relay migrate` may both run it.
--
-- Written by ingest with cancel_requested_at (the first reason given is kept); the scheduler copies it
-- into runs.error ("cancelled: <reason>") when it cancels the run, also when RunCancelRequested was
-- lost and the reconciler re-announced it (the event's own reason is then gone).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS cancel_reason TEXT;
