-- PostgreSQL twin of ../sqlite/0006_devices.sql.
-- School-registered devices (REQ-ACC-6): staff sign in only on a device an admin enrolled. The
-- device proves it with a key shown once at enrolment; only its hash is kept.
CREATE TABLE enrolled_devices (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    key_hash TEXT NOT NULL,
    label TEXT NOT NULL,
    enrolled_by TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    revoked_at TEXT,
    UNIQUE (school_id, key_hash)
);
