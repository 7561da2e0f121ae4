-- PostgreSQL twin of ../sqlite/0001_init.sql: same tables, BIGINT integers, identity for the log sequence.
-- The school's data and the append-only change log devices pull from.
CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    role TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT UNIQUE,
    password_hash TEXT,
    pupil_id TEXT,
    pupil_code_hash TEXT UNIQUE,
    messaging_removed BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    name TEXT NOT NULL,
    show_points_to_parents BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE class_staff (
    class_id TEXT NOT NULL REFERENCES classes(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    is_teacher BIGINT NOT NULL,
    PRIMARY KEY (class_id, user_id)
);

CREATE TABLE pupils (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    display_name TEXT NOT NULL,
    class_id TEXT REFERENCES classes(id)
);

CREATE TABLE parent_links (
    pupil_id TEXT NOT NULL REFERENCES pupils(id),
    parent_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (pupil_id, parent_id)
);

CREATE TABLE skills (
    id TEXT PRIMARY KEY,
    class_id TEXT NOT NULL REFERENCES classes(id),
    name TEXT NOT NULL,
    icon TEXT NOT NULL,
    weight BIGINT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    device_id TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

-- Every write a device pushed, by its client id: replays get the first answer again.
CREATE TABLE applied_writes (
    client_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

CREATE TABLE awards (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL,
    pupil_id TEXT NOT NULL REFERENCES pupils(id),
    class_id TEXT NOT NULL,
    skill_id TEXT NOT NULL,
    points BIGINT NOT NULL,
    note TEXT,
    awarded_by TEXT NOT NULL,
    awarded_at TEXT NOT NULL
);
CREATE INDEX awards_pupil ON awards(pupil_id);

-- The change log: numbered in commit order; pull filters it per person by the shared rules.
CREATE TABLE changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    pupil_id TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX changes_school_seq ON changes(school_id, seq);
