-- Relay Database Schema v7: task_attempts' cascade by trigger instead of a foreign key.
--
-- Idempotent like 002-006: Docker's initdb and `relay migrate` may both run it.
--
-- The worker writes a task's attempt row in the same statement that ends the attempt on task_runs
-- (`WITH done AS (UPDATE task_runs ... RETURNING ...) INSERT INTO task_attempts SELECT ... FROM done`),
-- so every attempt row names a task_run that exists by construction. The foreign key re-checked it
-- anyway, once per inserted row at the end of the statement: about 4 ms of a 12 ms, 200-row success
-- batch (auto_explain, 10k fan-out). What the key also gave, deleting a task_run's attempts with it,
-- is kept by a statement-level trigger, which costs nothing on insert.
ALTER TABLE task_attempts DROP CONSTRAINT IF EXISTS task_attempts_task_run_id_fkey;

CREATE OR REPLACE FUNCTION relay_delete_task_attempts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM task_attempts a USING deleted_task_runs d WHERE a.task_run_id = d.id;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS task_runs_delete_attempts ON task_runs;
CREATE TRIGGER task_runs_delete_attempts
    AFTER DELETE ON task_runs
    REFERENCING OLD TABLE AS deleted_task_runs
    FOR EACH STATEMENT EXECUTE FUNCTION relay_delete_task_attempts();
