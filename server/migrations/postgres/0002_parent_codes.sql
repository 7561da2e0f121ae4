-- PostgreSQL twin of ../sqlite/0002_parent_codes.sql: same tables, BIGINT integers, identity for the log sequence.
-- Parent codes (REQ-ACC-2): stored only as hashes; single use, expiring, revocable.
CREATE TABLE parent_codes (
    code_hash TEXT PRIMARY KEY,
    pupil_id TEXT NOT NULL REFERENCES pupils(id),
    issued_by TEXT NOT NULL REFERENCES users(id),
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX parent_codes_pupil ON parent_codes(pupil_id);
