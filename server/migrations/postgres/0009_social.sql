-- PostgreSQL twin of ../sqlite/0009_social.sql: same tables, BIGINT integers.
-- Comments and likes on posts (REQ-STO-4), and comments turned off per post.

CREATE TABLE post_comments (
    id TEXT PRIMARY KEY,
    post_id TEXT NOT NULL,
    school_id TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    commented_at TEXT NOT NULL
);
CREATE INDEX post_comments_post ON post_comments(post_id);

CREATE TABLE post_likes (
    post_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    liked_at TEXT NOT NULL,
    PRIMARY KEY (post_id, user_id)
);

ALTER TABLE posts ADD COLUMN comments_off BIGINT NOT NULL DEFAULT 0;

-- What a log entry is about (a comment id, a like, a post's comment switch), so a removal or a
-- newer state deletes the older entry: deleted comment text does not linger in the log.
ALTER TABLE changes ADD COLUMN ref_id TEXT;
CREATE INDEX changes_ref ON changes(ref_id);
