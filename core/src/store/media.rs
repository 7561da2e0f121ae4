//! Photo bookkeeping: allowing verdicts bound to exact bytes (REQ-CON-2), the resumable upload
//! chain (issue 4: media before the post that refers to it), and the downloaded-photo index.

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{CoreError, StorageContext};

/// An allowing verdict: these bytes may go to this audience with exactly these tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub sha256: String,
    /// The audience as its JSON (compared as text).
    pub audience: String,
    /// Tags, sorted, as JSON.
    pub tagged: String,
    pub path: String,
}

/// Records an allowing verdict for the bytes named `sha256`.
pub fn put_verdict(conn: &Connection, v: &Verdict) -> Result<(), CoreError> {
    conn.execute(
        "INSERT INTO photo_verdicts (sha256, audience, tagged, path, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(sha256) DO UPDATE SET audience = excluded.audience, tagged = excluded.tagged,
             path = excluded.path, created_at = excluded.created_at",
        params![v.sha256, v.audience, v.tagged, v.path, Utc::now().to_rfc3339()],
    )
    .ctx("recording a photo verdict")?;
    Ok(())
}

/// The allowing verdict for these bytes, if there is one.
pub fn verdict(conn: &Connection, sha256: &str) -> Result<Option<Verdict>, CoreError> {
    conn.query_row(
        "SELECT sha256, audience, tagged, path FROM photo_verdicts WHERE sha256 = ?1",
        [sha256],
        |r| {
            Ok(Verdict {
                sha256: r.get(0)?,
                audience: r.get(1)?,
                tagged: r.get(2)?,
                path: r.get(3)?,
            })
        },
    )
    .optional()
    .ctx("reading a photo verdict")
}

/// One queued upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub sha256: String,
    pub path: String,
    pub size: u64,
    /// Bytes the server has acknowledged.
    pub acked: u64,
    /// The file is sealed with the cache key (a message attachment): open it before sending.
    pub sealed: bool,
}

/// Queues an upload (once per hash); call in the transaction that queues the post.
pub fn enqueue_upload(
    conn: &Connection,
    sha256: &str,
    path: &str,
    size: u64,
) -> Result<(), CoreError> {
    conn.execute(
        "INSERT INTO media_uploads (sha256, path, size) VALUES (?1, ?2, ?3)
         ON CONFLICT(sha256) DO NOTHING",
        params![sha256, path, size as i64],
    )
    .ctx("queueing an upload")?;
    Ok(())
}

/// Queues the upload of a sealed file (a message attachment, REQ-MSG-1), once per hash.
pub fn enqueue_sealed_upload(
    conn: &Connection,
    sha256: &str,
    path: &str,
    size: u64,
) -> Result<(), CoreError> {
    conn.execute(
        "INSERT INTO media_uploads (sha256, path, size, sealed) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT(sha256) DO NOTHING",
        params![sha256, path, size as i64],
    )
    .ctx("queueing an upload")?;
    Ok(())
}

/// The server refused an upload for good (too large, not allowed): stop trying, so the writes
/// waiting for it go and are refused with a reason instead of waiting forever.
pub fn give_up(conn: &Connection, sha256: &str) -> Result<(), CoreError> {
    conn.execute(
        "UPDATE media_uploads SET done = 2 WHERE sha256 = ?1",
        [sha256],
    )
    .ctx("giving up an upload")?;
    Ok(())
}

/// Unfinished uploads, oldest first.
pub fn pending_uploads(conn: &Connection) -> Result<Vec<Upload>, CoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT sha256, path, size, acked, sealed FROM media_uploads WHERE done = 0 ORDER BY seq",
        )
        .ctx("preparing the upload query")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Upload {
                sha256: r.get(0)?,
                path: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                acked: r.get::<_, i64>(3)? as u64,
                sealed: r.get::<_, i64>(4)? != 0,
            })
        })
        .ctx("reading uploads")?;
    rows.collect::<Result<_, _>>().ctx("reading an upload")
}

/// Remembers how far the server has acknowledged, so a kill or a dropped connection resumes here.
pub fn set_acked(conn: &Connection, sha256: &str, acked: u64, done: bool) -> Result<(), CoreError> {
    conn.execute(
        "UPDATE media_uploads SET acked = ?2, done = ?3 WHERE sha256 = ?1",
        params![sha256, acked as i64, done as i64],
    )
    .ctx("recording upload progress")?;
    Ok(())
}

/// Notes a photo now in the download cache, or touched again (for LRU eviction).
pub fn touch_cached(conn: &Connection, sha256: &str, bytes: u64) -> Result<(), CoreError> {
    conn.execute(
        "INSERT INTO media_cache (sha256, bytes, last_used) VALUES (?1, ?2, ?3)
         ON CONFLICT(sha256) DO UPDATE SET last_used = excluded.last_used",
        params![sha256, bytes as i64, next_use(conn)?],
    )
    .ctx("indexing a cached photo")?;
    Ok(())
}

/// A counter, not the clock: a device clock change never reorders the LRU.
fn next_use(conn: &Connection) -> Result<i64, CoreError> {
    conn.query_row(
        "SELECT COALESCE(MAX(last_used), 0) + 1 FROM media_cache",
        [],
        |r| r.get(0),
    )
    .ctx("reading the LRU counter")
}

/// Forgets a cached photo; returns whether it was cached.
pub fn forget_cached(conn: &Connection, sha256: &str) -> Result<bool, CoreError> {
    conn.execute("DELETE FROM media_cache WHERE sha256 = ?1", [sha256])
        .ctx("unindexing a cached photo")
        .map(|n| n > 0)
}

/// Least recently used photos to evict so the cache fits in `budget` bytes.
pub fn over_budget(conn: &Connection, budget: u64) -> Result<Vec<String>, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT sha256, bytes FROM media_cache ORDER BY last_used DESC")
        .ctx("preparing the LRU query")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })
        .ctx("reading the LRU")?;
    let mut used = 0u64;
    let mut evict = Vec::new();
    for row in rows {
        let (sha, bytes) = row.ctx("reading an LRU row")?;
        used += bytes;
        if used > budget {
            evict.push(sha);
        }
    }
    Ok(evict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn the_least_recently_used_photos_leave_the_cache_first() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("c.sqlite3"), &[3u8; 32]).unwrap();
        let conn = store.conn();
        touch_cached(&conn, "old", 400).unwrap();
        touch_cached(&conn, "mid", 400).unwrap();
        touch_cached(&conn, "new", 400).unwrap();
        assert!(over_budget(&conn, 1200).unwrap().is_empty());
        // Reading "old" again makes it recent: "mid" is now the least recently used.
        touch_cached(&conn, "old", 400).unwrap();
        assert_eq!(over_budget(&conn, 800).unwrap(), vec!["mid".to_owned()]);
        assert_eq!(
            over_budget(&conn, 400).unwrap(),
            vec!["new".to_owned(), "mid".to_owned()]
        );
        assert!(forget_cached(&conn, "mid").unwrap());
        assert!(!forget_cached(&conn, "mid").unwrap());
    }
}
