//! Cached posts (REQ-STO-1..3, STO-6): one row per post, its content sealed, indexed by feed.

use homeroom_protocol::posts::{Audience, PostRecord};
use rusqlite::{params, Connection};

use crate::error::{CoreError, StorageContext};
use crate::store::seal::Sealer;

/// A post on this device, and whether the server has it yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPost {
    pub record: PostRecord,
    pub pending: bool,
}

fn place(id: &str) -> String {
    format!("post:{id}")
}

/// The feed name and scope a post is filed under.
pub fn feed_of(audience: &Audience) -> (&'static str, String) {
    match audience {
        Audience::ClassStory { class_id } => ("class_story", class_id.clone()),
        Audience::SchoolStory => ("school_story", String::new()),
        Audience::Portfolio { pupil_id } => ("portfolio", pupil_id.clone()),
    }
}

/// Stores a post (a local one as pending; a pulled one replaces it, acknowledged).
pub fn upsert(
    conn: &Connection,
    sealer: &Sealer,
    post: &PostRecord,
    pending: bool,
) -> Result<(), CoreError> {
    let id = post.id.to_string();
    let body = serde_json::to_vec(post).map_err(|e| CoreError::Io(format!("encode post: {e}")))?;
    let (feed, scope) = feed_of(&post.audience);
    conn.prepare_cached(
        "INSERT INTO posts (id, feed, scope_id, body, media_sha256, posted_at, pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET feed = excluded.feed, scope_id = excluded.scope_id,
             body = excluded.body, media_sha256 = excluded.media_sha256,
             posted_at = excluded.posted_at, pending = excluded.pending",
    )
    .ctx("preparing a post upsert")?
    .execute(params![
        id,
        feed,
        scope,
        sealer.seal(&body, &place(&id))?,
        post.media_sha256,
        post.posted_at.to_rfc3339(),
        pending as i64
    ])
    .ctx("storing a post")?;
    Ok(())
}

/// Deletes a post; returns its photo's hash, if it had one, so the cached photo can go too.
pub fn delete(conn: &Connection, id: &str) -> Result<Option<String>, CoreError> {
    let sha: Option<Option<String>> = conn
        .query_row(
            "DELETE FROM posts WHERE id = ?1 RETURNING media_sha256",
            [id],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .ctx("deleting a post")?;
    Ok(sha.flatten())
}

/// Whether any cached post still shows this photo.
pub fn media_in_use(conn: &Connection, sha256: &str) -> Result<bool, CoreError> {
    conn.query_row(
        "SELECT COUNT(*) FROM posts WHERE media_sha256 = ?1",
        [sha256],
        |r| r.get::<_, i64>(0),
    )
    .ctx("checking a photo's posts")
    .map(|n| n > 0)
}

/// One feed, newest first.
pub fn feed(
    conn: &Connection,
    sealer: &Sealer,
    audience: &Audience,
) -> Result<Vec<CachedPost>, CoreError> {
    feed_page(conn, sealer, audience, None, u32::MAX)
}

/// Up to `limit` posts of one feed, newest first, older than the post `after` (a scroll
/// position; `None` starts at the top). Keyset paging keeps a screenful cheap however long the
/// feed is (issue 4: the first page from a cold cache).
pub fn feed_page(
    conn: &Connection,
    sealer: &Sealer,
    audience: &Audience,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<CachedPost>, CoreError> {
    let (feed, scope) = feed_of(audience);
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, body, pending FROM posts WHERE feed = ?1 AND scope_id = ?2
               AND (?3 IS NULL OR (posted_at, id) < (SELECT posted_at, id FROM posts WHERE id = ?3))
             ORDER BY posted_at DESC, id DESC LIMIT ?4",
        )
        .ctx("preparing a feed query")?;
    let rows = stmt
        .query_map(params![feed, scope, after, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .ctx("reading a feed")?;
    let mut out = Vec::new();
    for row in rows {
        let (id, body, pending) = row.ctx("reading a post")?;
        let plain = sealer.open(&body, &place(&id))?;
        let record = serde_json::from_slice(&plain)
            .map_err(|e| CoreError::Io(format!("corrupt cached post: {e}")))?;
        out.push(CachedPost {
            record,
            pending: pending != 0,
        });
    }
    Ok(out)
}

/// Deletes every cached post in a feed this person may no longer read (REQ-ACC-5); returns the
/// photo hashes those posts showed.
pub fn purge_unreadable(
    conn: &Connection,
    may_read: impl Fn(&Audience) -> bool,
) -> Result<Vec<String>, CoreError> {
    let feeds: Vec<(String, String)> = conn
        .prepare("SELECT DISTINCT feed, scope_id FROM posts")
        .ctx("preparing the feed list")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx("listing feeds")?
        .collect::<Result<_, _>>()
        .ctx("reading a feed name")?;
    let mut photos = Vec::new();
    for (feed, scope) in feeds {
        let audience = match feed.as_str() {
            "class_story" => Audience::ClassStory {
                class_id: scope.clone(),
            },
            "school_story" => Audience::SchoolStory,
            _ => Audience::Portfolio {
                pupil_id: scope.clone(),
            },
        };
        if may_read(&audience) {
            continue;
        }
        let mut stmt = conn
            .prepare("DELETE FROM posts WHERE feed = ?1 AND scope_id = ?2 RETURNING media_sha256")
            .ctx("preparing a feed purge")?;
        let gone = stmt
            .query_map(params![feed, scope], |r| r.get::<_, Option<String>>(0))
            .ctx("purging a feed")?;
        for sha in gone {
            photos.extend(sha.ctx("reading a purged post")?);
        }
    }
    Ok(photos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use chrono::Utc;
    use uuid::Uuid;

    fn post(audience: Audience, sha: &str) -> PostRecord {
        PostRecord {
            id: Uuid::new_v4(),
            audience,
            author: "tA".into(),
            caption: "c".into(),
            media_sha256: Some(sha.into()),
            tagged: vec![],
            posted_at: Utc::now(),
        }
    }

    #[test]
    fn feeds_one_may_no_longer_read_are_purged_with_their_photos_acc5() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("c.sqlite3"), &[3u8; 32]).unwrap();
        let conn = store.conn();
        let class = Audience::ClassStory {
            class_id: "classA".into(),
        };
        let folio = Audience::Portfolio {
            pupil_id: "a3".into(),
        };
        upsert(&conn, store.sealer(), &post(class.clone(), "aa"), false).unwrap();
        upsert(&conn, store.sealer(), &post(folio.clone(), "bb"), false).unwrap();
        let gone = purge_unreadable(&conn, |a| *a == class).unwrap();
        assert_eq!(gone, vec!["bb".to_owned()]);
        assert_eq!(feed(&conn, store.sealer(), &class).unwrap().len(), 1);
        assert!(feed(&conn, store.sealer(), &folio).unwrap().is_empty());
        assert!(!media_in_use(&conn, "bb").unwrap());
    }

    #[test]
    fn feed_pages_walk_the_whole_feed_newest_first_without_gaps_or_repeats() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("c.sqlite3"), &[3u8; 32]).unwrap();
        let conn = store.conn();
        let class = Audience::ClassStory {
            class_id: "classA".into(),
        };
        let start = Utc::now();
        let mut ids = Vec::new();
        for i in 0..23 {
            let mut p = post(class.clone(), "aa");
            // Two posts share each timestamp: paging must order ties by id, not lose them.
            p.posted_at = start + chrono::Duration::seconds(i / 2);
            ids.push((p.posted_at, p.id));
            upsert(&conn, store.sealer(), &p, false).unwrap();
        }
        ids.sort();
        ids.reverse();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = feed_page(&conn, store.sealer(), &class, after.as_deref(), 5).unwrap();
            assert!(page.len() <= 5);
            if page.is_empty() {
                break;
            }
            after = Some(page.last().unwrap().record.id.to_string());
            seen.extend(page.iter().map(|p| (p.record.posted_at, p.record.id)));
        }
        assert_eq!(seen, ids);
        assert_eq!(feed(&conn, store.sealer(), &class).unwrap().len(), 23);
    }
}
