-- Month and all-time points reports a member of staff shared with a pupil's parents, as they
-- were when shared (REQ-PTS-4).
CREATE TABLE report_shares (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL,
    pupil_id TEXT NOT NULL,
    period TEXT NOT NULL,
    shared_by TEXT NOT NULL,
    shared_at TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX report_shares_pupil ON report_shares(school_id, pupil_id, shared_at);
