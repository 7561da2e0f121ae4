//! Versioned schema changes, one transaction each, tracked in SQLite's `user_version`.

use rusqlite::Connection;

use crate::error::{CoreError, StorageContext};

/// Each entry moves the schema one version up; never edit a shipped entry, add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the walking skeleton's cache. Sealed columns (BLOB) hold nonce + AES-256-GCM ciphertext.
    "CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
     CREATE TABLE awards (
         id TEXT PRIMARY KEY,
         pupil_id TEXT NOT NULL,
         class_id TEXT NOT NULL,
         skill_id TEXT NOT NULL,
         points INTEGER NOT NULL,
         note BLOB,
         awarded_by TEXT NOT NULL,
         awarded_at TEXT NOT NULL,
         pending INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX awards_pupil ON awards(pupil_id, awarded_at);
     CREATE TABLE outbox (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         client_id TEXT NOT NULL UNIQUE,
         op BLOB NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         created_at TEXT NOT NULL
     );
     CREATE TABLE rejected_writes (
         client_id TEXT PRIMARY KEY,
         op BLOB NOT NULL,
         code TEXT NOT NULL,
         reason TEXT NOT NULL,
         rejected_at TEXT NOT NULL
     );",
    // 2: undo (REQ-PTS-3) hides an award until the server agrees, and shows it again if not.
    "ALTER TABLE awards ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;",
    // 3: messaging (issue 8, REQ-MSG-1..3): bodies sealed at rest; pending until the server has it.
    "CREATE TABLE messages (
         id TEXT PRIMARY KEY,
         thread_id TEXT NOT NULL,
         parent_id TEXT NOT NULL,
         staff_id TEXT NOT NULL,
         sender_id TEXT NOT NULL,
         body BLOB NOT NULL,
         sent_at TEXT NOT NULL,
         delivered_at TEXT,
         read_at TEXT,
         pending INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX messages_thread ON messages(thread_id, sent_at);
     CREATE TABLE announcements (
         id TEXT PRIMARY KEY,
         class_id TEXT NOT NULL,
         sender_id TEXT NOT NULL,
         body BLOB NOT NULL,
         sent_at TEXT NOT NULL,
         pending INTEGER NOT NULL DEFAULT 0
     );",
    // 4: consent filter and photo posts (issue 7, issue 4 media): posts (sealed; consent
    // records travel in the sealed directory), allowing verdicts bound to the exact bytes, the resumable upload chain, and the
    // index of downloaded photos (sealed files on disk) for the LRU budget.
    "CREATE TABLE posts (
         id TEXT PRIMARY KEY,
         feed TEXT NOT NULL,
         scope_id TEXT NOT NULL,
         body BLOB NOT NULL,
         media_sha256 TEXT,
         posted_at TEXT NOT NULL,
         pending INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX posts_feed ON posts(feed, scope_id, posted_at);
     CREATE TABLE photo_verdicts (
         sha256 TEXT PRIMARY KEY,
         audience TEXT NOT NULL,
         tagged TEXT NOT NULL,
         path TEXT NOT NULL,
         created_at TEXT NOT NULL
     );
     CREATE TABLE media_uploads (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         sha256 TEXT NOT NULL UNIQUE,
         path TEXT NOT NULL,
         size INTEGER NOT NULL,
         acked INTEGER NOT NULL DEFAULT 0,
         done INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE media_cache (
         sha256 TEXT PRIMARY KEY,
         bytes INTEGER NOT NULL,
         last_used INTEGER NOT NULL
     );",
    // 5: comments and likes on posts (REQ-STO-4, issue 4 store): comment text sealed; pending
    // until the server has it; `hidden` while a deletion waits for the server; comments off per post.
    "CREATE TABLE comments (
         id TEXT PRIMARY KEY,
         post_id TEXT NOT NULL,
         author TEXT NOT NULL,
         author_name BLOB,
         body BLOB NOT NULL,
         commented_at TEXT NOT NULL,
         pending INTEGER NOT NULL DEFAULT 0,
         hidden INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX comments_post ON comments(post_id, commented_at);
     CREATE TABLE likes (
         post_id TEXT NOT NULL,
         user_id TEXT NOT NULL,
         pending INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (post_id, user_id)
     );
     ALTER TABLE posts ADD COLUMN comments_off INTEGER NOT NULL DEFAULT 0;",
    // 6: message attachments (issue 8, REQ-MSG-1): the list sealed beside the body; an upload
    // may be a sealed file (attachments never sit in plaintext); an outbox entry names the media
    // it waits for.
    "ALTER TABLE messages ADD COLUMN attachments BLOB;
     ALTER TABLE media_uploads ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE outbox ADD COLUMN needs_media TEXT;",
    // 7: learning goals and EHCP outcomes (REQ-PTS-8): the server's record of each goal,
    // sealed (an EHCP outcome is SEN data); unsent edits live in the outbox and are laid over
    // these records when read, so a refused edit simply disappears.
    "CREATE TABLE goals (
         id TEXT PRIMARY KEY,
         pupil_id TEXT NOT NULL,
         record BLOB NOT NULL,
         pending INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX goals_pupil ON goals(pupil_id);",
    // 8: an award tap writes three b-tree pages, not six (issue 4, the on-device award within 2x
    // of a bare insert). Awards are keyed by their id alone (WITHOUT ROWID: no second id index);
    // the outbox keeps its order in `seq` without AUTOINCREMENT's counter row (a new entry still
    // gets max(seq) + 1, after every unsent one) and without an index on `client_id` (sent
    // entries are removed by `seq` and client id together).
    "CREATE TABLE awards_v8 (
         id TEXT PRIMARY KEY NOT NULL,
         pupil_id TEXT NOT NULL,
         class_id TEXT NOT NULL,
         skill_id TEXT NOT NULL,
         points INTEGER NOT NULL,
         note BLOB,
         awarded_by TEXT NOT NULL,
         awarded_at TEXT NOT NULL,
         pending INTEGER NOT NULL DEFAULT 0,
         hidden INTEGER NOT NULL DEFAULT 0
     ) WITHOUT ROWID;
     INSERT INTO awards_v8 (id, pupil_id, class_id, skill_id, points, note, awarded_by, awarded_at, pending, hidden)
         SELECT id, pupil_id, class_id, skill_id, points, note, awarded_by, awarded_at, pending, hidden FROM awards;
     DROP TABLE awards;
     ALTER TABLE awards_v8 RENAME TO awards;
     CREATE INDEX awards_pupil ON awards(pupil_id, awarded_at);
     CREATE TABLE outbox_v8 (
         seq INTEGER PRIMARY KEY,
         client_id TEXT NOT NULL,
         op BLOB NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         created_at TEXT NOT NULL,
         needs_media TEXT
     );
     INSERT INTO outbox_v8 (seq, client_id, op, attempts, created_at, needs_media)
         SELECT seq, client_id, op, attempts, created_at, needs_media FROM outbox;
     DROP TABLE outbox;
     ALTER TABLE outbox_v8 RENAME TO outbox;",
];

/// Brings the schema up to date; a cache from a newer app version is refused, not guessed at.
pub fn migrate(conn: &mut Connection) -> Result<(), CoreError> {
    let current: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .ctx("reading the schema version")? as usize;
    if current > MIGRATIONS.len() {
        return Err(CoreError::Io(format!(
            "the cache was written by a newer app (schema {current}, this app knows {})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction().ctx("starting a migration")?;
        tx.execute_batch(sql).ctx("migrating the cache")?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .ctx("recording the schema version")?;
        tx.commit().ctx("committing a migration")?;
    }
    if current < MIGRATIONS.len() {
        conn.execute_batch("PRAGMA optimize;")
            .ctx("optimizing after migration")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies the first `n` migrations only: a cache as an older app left it.
    fn at_version(conn: &mut Connection, n: usize) {
        for (i, sql) in MIGRATIONS.iter().enumerate().take(n) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", (i + 1) as i64)
                .unwrap();
        }
    }

    // Issue 4 (REQ-OFF-1): rebuilding awards and the outbox keeps every unsent write, in order,
    // and a write queued after the upgrade still goes after them.
    #[test]
    fn upgrading_to_v8_keeps_awards_and_the_outbox_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        at_version(&mut conn, 7);
        conn.execute_batch(
            "INSERT INTO awards (id, pupil_id, class_id, skill_id, points, awarded_by, awarded_at, pending, hidden)
                 VALUES ('w1', 'a1', 'classA', 'classA-teamwork', 1, 'tA', '2026-11-24T09:00:00Z', 1, 0),
                        ('w2', 'a2', 'classA', 'classA-teamwork', 2, 'tA', '2026-11-24T09:01:00Z', 0, 1);
             INSERT INTO outbox (client_id, op, created_at, needs_media) VALUES
                 ('c1', x'01', '2026-11-24T09:00:00Z', NULL),
                 ('c2', x'02', '2026-11-24T09:01:00Z', 'abc');
             DELETE FROM outbox WHERE client_id = 'c1';
             INSERT INTO outbox (client_id, op, created_at) VALUES ('c3', x'03', '2026-11-24T08:00:00Z');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let awards: Vec<(String, i64, i64, i64)> = conn
            .prepare("SELECT id, points, pending, hidden FROM awards ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            awards,
            vec![("w1".into(), 1, 1, 0), ("w2".into(), 2, 0, 1)],
            "every award and its flags survive the rebuild"
        );
        conn.execute(
            "INSERT INTO outbox (client_id, op, created_at) VALUES ('c4', x'04', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        let queue: Vec<(String, Option<String>)> = conn
            .prepare("SELECT client_id, needs_media FROM outbox ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            queue,
            vec![
                ("c2".into(), Some("abc".into())),
                ("c3".into(), None),
                ("c4".into(), None)
            ],
            "queue order is by sequence, not by the (skewed) clock, across the upgrade"
        );
        let indexes: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('awards', 'outbox') ORDER BY name",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            indexes,
            vec!["awards_pupil".to_string()],
            "a tap maintains the pupil index and nothing else beside the two tables"
        );
    }
}
