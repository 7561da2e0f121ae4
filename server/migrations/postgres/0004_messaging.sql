-- PostgreSQL twin of ../sqlite/0004_messaging.sql: same tables, BIGINT integers, identity ids.
-- Messaging (REQ-MSG-1..7) and quiet-hour-aware push (REQ-NOT-1..5).

-- The school's own time zone: default hours of its people are read in it.
ALTER TABLE schools ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Europe/London';

-- One 1:1 thread per parent and staff member (its id is messaging::thread_id of the pair).
CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    parent_id TEXT NOT NULL REFERENCES users(id),
    staff_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX threads_pair ON threads(parent_id, staff_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL REFERENCES threads(id),
    sender_id TEXT NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    delivered_at TEXT,
    read_at TEXT
);
CREATE INDEX messages_thread ON messages(thread_id, sent_at);

CREATE TABLE announcements (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    class_id TEXT NOT NULL REFERENCES classes(id),
    sender_id TEXT NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL
);

-- Reports of inappropriate messages, for leaders (REQ-MSG-5).
CREATE TABLE message_reports (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    message_id TEXT NOT NULL REFERENCES messages(id),
    reporter_id TEXT NOT NULL REFERENCES users(id),
    reason TEXT,
    reported_at TEXT NOT NULL
);
CREATE INDEX message_reports_school ON message_reports(school_id, reported_at);

-- Leaders' warnings to a parent about their messages (REQ-MSG-5).
CREATE TABLE messaging_warnings (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    issued_by TEXT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE INDEX messaging_warnings_user ON messaging_warnings(user_id);

-- Each person's hours and lock-screen choice (JSON of messaging::NotifySettings); absent: defaults.
CREATE TABLE notify_settings (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    settings TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Where each person's pushes go.
CREATE TABLE push_devices (
    user_id TEXT NOT NULL REFERENCES users(id),
    platform TEXT NOT NULL,
    token TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, platform, token)
);

-- The planner's decision for each recipient of each event (JSON of notify::PlannedNotification):
-- deliver now, hold until, or digest; sent_at is set when the dispatcher hands it to a sender.
CREATE TABLE push_plans (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    deliver_at TEXT NOT NULL,
    decision TEXT NOT NULL,
    plan TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX push_plans_due ON push_plans(sent_at, deliver_at);

-- What the dispatcher sent, and when (one row per notification or digest per device).
CREATE TABLE push_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    deliver_at TEXT NOT NULL,
    events TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    emergency BIGINT NOT NULL,
    outcome TEXT NOT NULL
);
