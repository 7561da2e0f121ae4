-- PostgreSQL twin of ../sqlite/0008_message_attachments.sql: same table, BIGINT integers.
-- Message attachments (REQ-MSG-1): each names complete media of the school by SHA-256; the
-- media route serves it to the thread's two people, and to leaders once the message is reported.
CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages(id),
    position BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (message_id, position)
);
CREATE INDEX message_attachments_sha ON message_attachments(sha256);
