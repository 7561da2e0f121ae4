-- PostgreSQL twin of ../sqlite/0007_message_policy.sql.
-- Message policy (issue 8, issue 5 §6): admin emergencies (REQ-NOT-4), removing a parent from the
-- school (REQ-MSG-5), the school's working hours (REQ-NOT-1) and the safeguarding record (REQ-PRV-5).

-- The school's working hours (JSON of notify::WorkingHours); NULL: Mon–Fri 08:00–17:00.
ALTER TABLE schools ADD COLUMN working_hours TEXT;

-- When leaders removed this parent from the school: their sessions end and a sign-in is refused.
ALTER TABLE users ADD COLUMN removed_at TEXT;

-- School-wide emergency announcements, sent by the admin alone.
CREATE TABLE emergencies (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    sent_by TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    recipients BIGINT NOT NULL
);

-- The restricted safeguarding record: a self-contained copy of each report and its thread
-- (JSON of safeguarding::SafeguardingRecord), exempt from retention and pupil erasure.
CREATE TABLE safeguarding_records (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX safeguarding_records_school ON safeguarding_records(school_id, reported_at);
