-- Photo consent (REQ-CON-1), media uploaded by content hash (issue 4), and posts (REQ-STO-1..3).

-- One record per pupil: the shared ConsentRecord as JSON (uses, in_care, authority_grants).
CREATE TABLE consent (
    pupil_id TEXT PRIMARY KEY REFERENCES pupils(id),
    record TEXT NOT NULL,
    updated_by TEXT,
    updated_at TEXT NOT NULL
);

-- Uploads by SHA-256; bytes live on disk under the data dir, `received` of `size` so far.
CREATE TABLE media (
    sha256 TEXT NOT NULL,
    school_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    uploaded_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (school_id, sha256)
);

CREATE TABLE posts (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    author TEXT NOT NULL,
    caption TEXT NOT NULL,
    media_sha256 TEXT,
    posted_at TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0
);

-- Who is tagged in which post: consent changes find the posts to re-check here.
CREATE TABLE post_tags (
    post_id TEXT NOT NULL REFERENCES posts(id),
    pupil_id TEXT NOT NULL,
    PRIMARY KEY (post_id, pupil_id)
);
CREATE INDEX post_tags_pupil ON post_tags(pupil_id);

-- Change-log entries of posts carry their id, so a withdrawal can delete them from the log.
ALTER TABLE changes ADD COLUMN post_id TEXT;
CREATE INDEX changes_post ON changes(post_id);
