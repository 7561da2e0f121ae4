//! Cached comments and likes of posts (REQ-STO-4): comment text sealed at rest, local writes
//! pending until the server has them, and everything of a post gone when the post goes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{CoreError, StorageContext};
use crate::store::seal::Sealer;

/// A comment on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedComment {
    pub id: String,
    pub post_id: String,
    pub author: String,
    /// The author's name from the server (empty for one's own pending comment).
    pub author_name: String,
    pub body: String,
    pub commented_at: DateTime<Utc>,
    /// Not yet accepted by the server.
    pub pending: bool,
}

/// Likes and comments of one post, as a feed row shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostStats {
    pub likes: u32,
    pub liked_by_me: bool,
    pub comments: u32,
    /// Class staff turned comments off on this post.
    pub comments_off: bool,
}

fn place(id: &str) -> String {
    format!("comment:{id}")
}

fn name_place(id: &str) -> String {
    format!("comment-author:{id}")
}

/// Stores a comment (a local one as pending; a pulled one replaces it, acknowledged).
pub fn upsert_comment(
    conn: &Connection,
    sealer: &Sealer,
    c: &CachedComment,
) -> Result<(), CoreError> {
    conn.prepare_cached(
        "INSERT INTO comments (id, post_id, author, body, commented_at, pending, author_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET body = excluded.body, author_name = excluded.author_name,
             commented_at = excluded.commented_at, pending = excluded.pending",
    )
    .ctx("preparing a comment upsert")?
    .execute(params![
        c.id,
        c.post_id,
        c.author,
        sealer.seal(c.body.as_bytes(), &place(&c.id))?,
        c.commented_at.to_rfc3339(),
        c.pending as i64,
        sealer.seal(c.author_name.as_bytes(), &name_place(&c.id))?
    ])
    .ctx("storing a comment")?;
    Ok(())
}

/// The server accepted a local comment.
pub fn confirm_comment(conn: &Connection, id: &str) -> Result<(), CoreError> {
    conn.execute("UPDATE comments SET pending = 0 WHERE id = ?1", [id])
        .ctx("confirming a comment")?;
    Ok(())
}

/// Deletes a comment; returns its post's id if it was here.
pub fn delete_comment(conn: &Connection, id: &str) -> Result<Option<String>, CoreError> {
    conn.query_row(
        "DELETE FROM comments WHERE id = ?1 RETURNING post_id",
        [id],
        |r| r.get(0),
    )
    .optional()
    .ctx("deleting a comment")
}

/// Hides a comment while its deletion waits for the server (or shows it again).
pub fn set_comment_hidden(conn: &Connection, id: &str, hidden: bool) -> Result<(), CoreError> {
    conn.execute(
        "UPDATE comments SET hidden = ?2 WHERE id = ?1",
        params![id, hidden as i64],
    )
    .ctx("hiding a comment")?;
    Ok(())
}

/// One row of `comments` as stored: id, post, author, sealed body, time, pending, sealed name.
type CommentRow = (
    String,
    String,
    String,
    Vec<u8>,
    String,
    i64,
    Option<Vec<u8>>,
);

fn read_comment(sealer: &Sealer, row: CommentRow) -> Result<CachedComment, CoreError> {
    let (id, post_id, author, body, at, pending, name) = row;
    let plain = sealer.open(&body, &place(&id))?;
    let author_name = match name {
        Some(sealed) => String::from_utf8(sealer.open(&sealed, &name_place(&id))?)
            .map_err(|e| CoreError::Io(format!("corrupt cached comment author: {e}")))?,
        None => String::new(),
    };
    Ok(CachedComment {
        author_name,
        body: String::from_utf8(plain)
            .map_err(|e| CoreError::Io(format!("corrupt cached comment: {e}")))?,
        commented_at: DateTime::parse_from_rfc3339(&at)
            .map_err(|e| CoreError::Io(format!("corrupt comment time: {e}")))?
            .with_timezone(&Utc),
        id,
        post_id,
        author,
        pending: pending != 0,
    })
}

const COMMENT_COLUMNS: &str = "id, post_id, author, body, commented_at, pending, author_name";

fn comments_where(
    conn: &Connection,
    sealer: &Sealer,
    filter: &str,
    arg: &str,
) -> Result<Vec<CachedComment>, CoreError> {
    let sql = format!(
        "SELECT {COMMENT_COLUMNS} FROM comments WHERE hidden = 0 AND {filter}
         ORDER BY commented_at, id"
    );
    let mut stmt = conn.prepare_cached(&sql).ctx("preparing a comment query")?;
    let rows = stmt
        .query_map([arg], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .ctx("reading comments")?;
    let mut out = Vec::new();
    for row in rows {
        out.push(read_comment(sealer, row.ctx("reading a comment")?)?);
    }
    Ok(out)
}

/// A post's visible comments, oldest first.
pub fn comments_of(
    conn: &Connection,
    sealer: &Sealer,
    post_id: &str,
) -> Result<Vec<CachedComment>, CoreError> {
    comments_where(conn, sealer, "post_id = ?1", post_id)
}

/// One visible comment.
pub fn comment(
    conn: &Connection,
    sealer: &Sealer,
    id: &str,
) -> Result<Option<CachedComment>, CoreError> {
    Ok(comments_where(conn, sealer, "id = ?1", id)?.pop())
}

/// Records `user`'s like of a post (or removes it).
pub fn set_like(
    conn: &Connection,
    post_id: &str,
    user: &str,
    liked: bool,
    pending: bool,
) -> Result<(), CoreError> {
    if liked {
        conn.execute(
            "INSERT INTO likes (post_id, user_id, pending) VALUES (?1, ?2, ?3)
             ON CONFLICT(post_id, user_id) DO UPDATE SET pending = excluded.pending",
            params![post_id, user, pending as i64],
        )
        .ctx("storing a like")?;
    } else {
        conn.execute(
            "DELETE FROM likes WHERE post_id = ?1 AND user_id = ?2",
            params![post_id, user],
        )
        .ctx("deleting a like")?;
    }
    Ok(())
}

/// Whether `user` likes the post on this device.
pub fn likes(conn: &Connection, post_id: &str, user: &str) -> Result<bool, CoreError> {
    conn.query_row(
        "SELECT COUNT(*) FROM likes WHERE post_id = ?1 AND user_id = ?2",
        params![post_id, user],
        |r| r.get::<_, i64>(0),
    )
    .ctx("reading a like")
    .map(|n| n > 0)
}

/// The server accepted a local like.
pub fn confirm_like(conn: &Connection, post_id: &str, user: &str) -> Result<(), CoreError> {
    conn.execute(
        "UPDATE likes SET pending = 0 WHERE post_id = ?1 AND user_id = ?2",
        params![post_id, user],
    )
    .ctx("confirming a like")?;
    Ok(())
}

/// Whether comments are turned off on a cached post (`None`: no such post here).
pub fn comments_off(conn: &Connection, post_id: &str) -> Result<Option<bool>, CoreError> {
    conn.query_row(
        "SELECT comments_off FROM posts WHERE id = ?1",
        [post_id],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .ctx("reading a post's comment switch")
    .map(|o| o.map(|n| n != 0))
}

/// Turns comments on a cached post off or on.
pub fn set_comments_off(conn: &Connection, post_id: &str, off: bool) -> Result<(), CoreError> {
    conn.execute(
        "UPDATE posts SET comments_off = ?2 WHERE id = ?1",
        params![post_id, off as i64],
    )
    .ctx("switching a post's comments")?;
    Ok(())
}

/// Like and comment counts of every post of one feed, by post id.
pub fn stats(
    conn: &Connection,
    feed: &str,
    scope: &str,
    me: &str,
) -> Result<HashMap<String, PostStats>, CoreError> {
    let mut out: HashMap<String, PostStats> = HashMap::new();
    let mut stmt = conn
        .prepare_cached(
            "SELECT l.post_id, COUNT(*), SUM(l.user_id = ?3) FROM likes l
             JOIN posts p ON p.id = l.post_id WHERE p.feed = ?1 AND p.scope_id = ?2
             GROUP BY l.post_id",
        )
        .ctx("preparing like counts")?;
    let rows = stmt
        .query_map(params![feed, scope, me], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .ctx("counting likes")?;
    for row in rows {
        let (id, n, mine) = row.ctx("reading a like count")?;
        let s = out.entry(id).or_default();
        s.likes = u32::try_from(n).unwrap_or(u32::MAX);
        s.liked_by_me = mine > 0;
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT c.post_id, COUNT(*) FROM comments c
             JOIN posts p ON p.id = c.post_id
             WHERE p.feed = ?1 AND p.scope_id = ?2 AND c.hidden = 0 GROUP BY c.post_id",
        )
        .ctx("preparing comment counts")?;
    let rows = stmt
        .query_map(params![feed, scope], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .ctx("counting comments")?;
    for row in rows {
        let (id, n) = row.ctx("reading a comment count")?;
        out.entry(id).or_default().comments = u32::try_from(n).unwrap_or(u32::MAX);
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT id FROM posts WHERE feed = ?1 AND scope_id = ?2 AND comments_off <> 0",
        )
        .ctx("preparing the comment switches")?;
    let rows = stmt
        .query_map(params![feed, scope], |r| r.get::<_, String>(0))
        .ctx("reading the comment switches")?;
    for id in rows {
        out.entry(id.ctx("reading a comment switch")?)
            .or_default()
            .comments_off = true;
    }
    Ok(out)
}

/// Likes and comments of one post (a page of a feed asks for just its posts).
pub fn stats_of(conn: &Connection, post_id: &str, me: &str) -> Result<PostStats, CoreError> {
    conn.prepare_cached(
        "SELECT (SELECT COUNT(*) FROM likes WHERE post_id = ?1),
                (SELECT COUNT(*) FROM likes WHERE post_id = ?1 AND user_id = ?2),
                (SELECT COUNT(*) FROM comments WHERE post_id = ?1 AND hidden = 0),
                (SELECT comments_off FROM posts WHERE id = ?1)",
    )
    .ctx("preparing a post's counts")?
    .query_row(params![post_id, me], |r| {
        Ok(PostStats {
            likes: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(u32::MAX),
            liked_by_me: r.get::<_, i64>(1)? > 0,
            comments: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
            comments_off: r.get::<_, Option<i64>>(3)?.unwrap_or(0) != 0,
        })
    })
    .ctx("counting a post's likes and comments")
}

/// Deletes comments and likes whose post is no longer on the device (withdrawn, or a feed this
/// person lost: REQ-CON-4, ACC-5).
pub fn purge_orphans(conn: &Connection) -> Result<(), CoreError> {
    conn.execute_batch(
        "DELETE FROM comments WHERE post_id NOT IN (SELECT id FROM posts);
         DELETE FROM likes WHERE post_id NOT IN (SELECT id FROM posts);",
    )
    .ctx("purging comments of removed posts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{posts, Store};
    use homeroom_protocol::posts::{Audience, PostRecord};
    use uuid::Uuid;

    #[test]
    fn a_removed_posts_comments_and_likes_leave_the_device_sto4_con4() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("c.sqlite3"), &[3u8; 32]).unwrap();
        let conn = store.conn();
        let post = PostRecord {
            id: Uuid::new_v4(),
            audience: Audience::ClassStory {
                class_id: "classA".into(),
            },
            author: "tA".into(),
            caption: "Trip".into(),
            media_sha256: None,
            tagged: vec![],
            posted_at: Utc::now(),
        };
        posts::upsert(&conn, store.sealer(), &post, false).unwrap();
        let pid = post.id.to_string();
        let c = CachedComment {
            id: Uuid::new_v4().to_string(),
            post_id: pid.clone(),
            author: "pa1".into(),
            author_name: "Sara Ahmed".into(),
            body: "Lovely".into(),
            commented_at: Utc::now(),
            pending: false,
        };
        upsert_comment(&conn, store.sealer(), &c).unwrap();
        set_like(&conn, &pid, "pa1", true, false).unwrap();
        set_like(&conn, &pid, "tA", true, true).unwrap();
        let s = stats(&conn, "class_story", "classA", "pa1").unwrap()[&pid];
        assert_eq!(
            s,
            PostStats {
                likes: 2,
                liked_by_me: true,
                comments: 1,
                comments_off: false,
            }
        );
        assert_eq!(stats_of(&conn, &pid, "pa1").unwrap(), s);
        assert_eq!(comments_of(&conn, store.sealer(), &pid).unwrap(), vec![c]);
        posts::delete(&conn, &pid).unwrap();
        purge_orphans(&conn).unwrap();
        let left: i64 = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM comments) + (SELECT COUNT(*) FROM likes)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }
}
