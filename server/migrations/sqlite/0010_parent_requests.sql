-- A third (or later) parent waits for the admin (REQ-ACC-3): a redeemed code for a pupil who
-- already has two parents makes an account and one of these, not a link.
CREATE TABLE parent_link_requests (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools(id),
    pupil_id TEXT NOT NULL REFERENCES pupils(id),
    parent_id TEXT NOT NULL REFERENCES users(id),
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX parent_link_requests_school ON parent_link_requests(school_id, status);
CREATE INDEX parent_link_requests_parent ON parent_link_requests(parent_id);
