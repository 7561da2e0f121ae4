-- Every consent record a pupil has had, oldest first: the subject-access export lists the history
-- (REQ-PRV-4) and erasing the pupil deletes it with the current record.
CREATE TABLE consent_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pupil_id TEXT NOT NULL,
    record TEXT NOT NULL,
    updated_by TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX consent_history_pupil ON consent_history(pupil_id, id);

-- The records already held are the first entry of each pupil's history.
INSERT INTO consent_history (pupil_id, record, updated_by, updated_at)
    SELECT pupil_id, record, updated_by, updated_at FROM consent;
