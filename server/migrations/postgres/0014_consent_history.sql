-- PostgreSQL twin of ../sqlite/0014_consent_history.sql: identity for the history's order.
CREATE TABLE consent_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pupil_id TEXT NOT NULL,
    record TEXT NOT NULL,
    updated_by TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX consent_history_pupil ON consent_history(pupil_id, id);

-- The records already held are the first entry of each pupil's history.
INSERT INTO consent_history (pupil_id, record, updated_by, updated_at)
    SELECT pupil_id, record, updated_by, updated_at FROM consent;
