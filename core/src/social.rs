//! Comments and likes on the phone (REQ-STO-4) and the story views with listeners (issue 4 §4):
//! writes checked with the shared rules, applied at once and queued in the same transaction,
//! rolled back when the server refuses; feeds and comment lists as snapshot-then-diff views.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use homeroom_protocol::posts::{validate_post, Audience, NewPost, PostRecord};
use homeroom_protocol::social::{
    may_comment, may_like, may_moderate, may_remove_comment, validate_comment,
};
use homeroom_protocol::wire::{Change, ClientWrite, Directory, RejectCode, WriteOp, WriteOutcome};
use rusqlite::Connection;
use uuid::Uuid;

use crate::error::{CoreError, StorageContext};
use crate::homeroom::{Homeroom, Session};
use crate::store::outbox;
use crate::store::posts::{self, CachedPost};
use crate::store::seal::Sealer;
use crate::store::social::{self as store, CachedComment, PostStats};
use crate::views::{Delivery, Differ, Keyed, ViewUpdate};

/// One post of a feed with what people did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    pub post: CachedPost,
    pub stats: PostStats,
}

impl Keyed for FeedItem {
    fn key(&self) -> String {
        self.post.record.id.to_string()
    }
}

impl Keyed for CachedComment {
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// Told about a view: the snapshot first, then changes.
pub type Observer<T> = Arc<dyn Fn(ViewUpdate<T>) + Send + Sync>;

struct Sub<T, S> {
    id: u64,
    scope: S,
    observer: Observer<T>,
    differ: Mutex<Differ<T>>,
    delivery: Delivery<ViewUpdate<T>>,
}

/// The feed and comment-list subscriptions of one core.
#[derive(Default)]
pub struct SocialObservers {
    feeds: Mutex<Vec<Arc<Sub<FeedItem, Audience>>>>,
    comments: Mutex<Vec<Arc<Sub<CachedComment, String>>>>,
}

impl SocialObservers {
    /// Drops the subscription `id`, if it is one of these.
    pub fn remove(&self, id: u64) {
        lock(&self.feeds).retain(|s| s.id != id);
        lock(&self.comments).retain(|s| s.id != id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn post_id(id: &str) -> Result<Uuid, CoreError> {
    id.parse()
        .map_err(|_| CoreError::input("post_id", "not a post id"))
}

/// Undoes, or confirms, the local state of a comment or like write once the server answered.
pub(crate) fn settle(
    conn: &Connection,
    me: &str,
    op: &WriteOp,
    outcome: &WriteOutcome,
) -> Result<(), CoreError> {
    let accepted = matches!(
        outcome,
        WriteOutcome::Accepted | WriteOutcome::AlreadyApplied
    );
    match op {
        WriteOp::CommentOnPost { comment_id, .. } => {
            let id = comment_id.to_string();
            if accepted {
                store::confirm_comment(conn, &id)
            } else {
                store::delete_comment(conn, &id).map(drop)
            }
        }
        WriteOp::RemoveComment { comment_id } => {
            let id = comment_id.to_string();
            match outcome {
                // Removed, or already gone on the server: gone here too.
                WriteOutcome::Rejected {
                    code: RejectCode::NotFound,
                    ..
                }
                | WriteOutcome::Accepted
                | WriteOutcome::AlreadyApplied => store::delete_comment(conn, &id).map(drop),
                // Refused: the comment stands, so it shows again.
                WriteOutcome::Rejected { .. } => store::set_comment_hidden(conn, &id, false),
            }
        }
        WriteOp::LikePost { post_id } => {
            let id = post_id.to_string();
            if accepted {
                store::confirm_like(conn, &id, me)
            } else {
                store::set_like(conn, &id, me, false, false)
            }
        }
        WriteOp::UnlikePost { post_id } if !accepted => {
            store::set_like(conn, &post_id.to_string(), me, true, false)
        }
        WriteOp::SetCommentsOpen { post_id, open } if !accepted => {
            store::set_comments_off(conn, &post_id.to_string(), *open)
        }
        _ => Ok(()),
    }
}

/// Applies a pulled comment, comment removal, like or comment switch.
pub(crate) fn apply_change(
    conn: &Connection,
    sealer: &Sealer,
    change: &Change,
) -> Result<(), CoreError> {
    match change {
        Change::Comment(c) => store::upsert_comment(
            conn,
            sealer,
            &CachedComment {
                id: c.id.to_string(),
                post_id: c.post_id.to_string(),
                author: c.author.clone(),
                author_name: c.author_name.clone(),
                body: c.body.clone(),
                commented_at: c.commented_at,
                pending: false,
            },
        ),
        Change::CommentRemoved { comment_id, .. } => {
            store::delete_comment(conn, &comment_id.to_string()).map(drop)
        }
        Change::Like(l) => {
            store::set_like(conn, &l.post_id.to_string(), &l.user_id, l.liked, false)
        }
        Change::CommentsOpen { post_id, open, .. } => {
            store::set_comments_off(conn, &post_id.to_string(), !open)
        }
        _ => Ok(()),
    }
}

impl Homeroom {
    /// The session, the directory and the cached post a comment or like is about.
    fn post_context(&self, id: &str) -> Result<(Session, Arc<Directory>, CachedPost), CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self
            .directory_arc()?
            .ok_or_else(|| CoreError::input("post_id", "sync once before reacting to posts"))?;
        let post = posts::get(&self.store.conn(), self.store.sealer(), id)?
            .filter(|p| p.record.audience.may_read(&dir.facts, &session.me.user_id))
            .ok_or_else(|| CoreError::input("post_id", "no such post on this device"))?;
        Ok((session, dir, post))
    }

    /// Applies a local change and queues its write in one transaction, then refreshes the views.
    fn queue(
        &self,
        op: WriteOp,
        local: impl FnOnce(&Connection) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        let write = ClientWrite {
            client_id: Uuid::new_v4(),
            op,
        };
        {
            let mut conn = self.store.conn();
            let tx = conn.transaction().ctx("starting a story write")?;
            local(&tx)?;
            outbox::enqueue(&tx, self.store.sealer(), &write)?;
            tx.commit().ctx("committing a story write")?;
        }
        self.refresh_social_views();
        Ok(())
    }

    /// REQ-STO-1..3: a post of words only (no photo, so nothing for the consent filter to check);
    /// shown at once, sent on the next sync. Returns the post id.
    pub fn post_text(&self, audience: &Audience, caption: &str) -> Result<String, CoreError> {
        let r = self.post_text_inner(audience, caption);
        self.checked(r)
    }

    fn post_text_inner(&self, audience: &Audience, caption: &str) -> Result<String, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self
            .directory_arc()?
            .ok_or_else(|| CoreError::input("audience", "sync once before posting"))?;
        audience.may_post(&dir.facts, &session.me.user_id)?;
        let post = NewPost {
            post_id: Uuid::new_v4(),
            audience: audience.clone(),
            caption: caption.trim().to_owned(),
            media_sha256: None,
            tagged: Vec::new(),
        };
        validate_post(&post).map_err(|(field, why)| CoreError::input(field, why))?;
        let local = PostRecord {
            id: post.post_id,
            audience: post.audience.clone(),
            author: session.me.user_id.clone(),
            caption: post.caption.clone(),
            media_sha256: None,
            tagged: Vec::new(),
            posted_at: Utc::now(),
        };
        let sealer = self.store.sealer();
        self.queue(WriteOp::CreatePost(post), |c| {
            posts::upsert(c, sealer, &local, true)
        })?;
        Ok(local.id.to_string())
    }

    /// REQ-STO-4: comments on a Class Story post or a portfolio item — shown at once as pending,
    /// queued in the same transaction. Refused here with the shared rules (a pupil, another
    /// family, comments turned off, too long) before anything is queued.
    pub fn comment_on_post(&self, post: &str, body: &str) -> Result<CachedComment, CoreError> {
        let r = self.comment_on_post_inner(post, body);
        self.checked(r)
    }

    fn comment_on_post_inner(&self, post: &str, body: &str) -> Result<CachedComment, CoreError> {
        let (session, dir, cached) = self.post_context(post)?;
        let me = session.me.user_id.as_str();
        may_comment(&dir.facts, me, &cached.record.audience)?;
        validate_comment(body).map_err(|(f, why)| CoreError::input(f, why))?;
        if store::comments_off(&self.store.conn(), post)? == Some(true) {
            return Err(CoreError::NotAllowed(
                homeroom_protocol::access::Denied::NotAllowed(
                    "comment: comments are turned off on this post".into(),
                ),
            ));
        }
        let comment = CachedComment {
            id: Uuid::new_v4().to_string(),
            post_id: cached.record.id.to_string(),
            author: me.to_owned(),
            author_name: session.me.display_name.clone(),
            body: body.trim().to_owned(),
            commented_at: Utc::now(),
            pending: true,
        };
        let op = WriteOp::CommentOnPost {
            comment_id: comment
                .id
                .parse()
                .map_err(|_| CoreError::Io("a new comment id did not parse".into()))?,
            post_id: cached.record.id,
            body: comment.body.clone(),
        };
        let sealer = self.store.sealer();
        self.queue(op, |c| store::upsert_comment(c, sealer, &comment))?;
        Ok(comment)
    }

    /// REQ-STO-4: deletes one's own comment, or (class staff) anyone's in the class: hidden here
    /// at once, gone everywhere once the server agrees, shown again if it refuses.
    pub fn remove_comment(&self, comment_id: &str) -> Result<(), CoreError> {
        let r = self.remove_comment_inner(comment_id);
        self.checked(r)
    }

    fn remove_comment_inner(&self, comment_id: &str) -> Result<(), CoreError> {
        let id: Uuid = comment_id
            .parse()
            .map_err(|_| CoreError::input("comment_id", "not a comment id"))?;
        let comment = store::comment(&self.store.conn(), self.store.sealer(), comment_id)?
            .ok_or_else(|| CoreError::input("comment_id", "no such comment on this device"))?;
        let (session, dir, post) = self.post_context(&comment.post_id)?;
        may_remove_comment(
            &dir.facts,
            &session.me.user_id,
            &comment.author,
            &post.record.audience,
        )?;
        self.queue(WriteOp::RemoveComment { comment_id: id }, |c| {
            store::set_comment_hidden(c, comment_id, true)
        })
    }

    /// REQ-STO-4: likes a post (liking it again changes nothing).
    pub fn like_post(&self, post: &str) -> Result<(), CoreError> {
        let r = self.set_like(post, true);
        self.checked(r)
    }

    /// REQ-STO-4: takes one's like back.
    pub fn unlike_post(&self, post: &str) -> Result<(), CoreError> {
        let r = self.set_like(post, false);
        self.checked(r)
    }

    fn set_like(&self, post: &str, liked: bool) -> Result<(), CoreError> {
        let (session, dir, cached) = self.post_context(post)?;
        let me = session.me.user_id.as_str();
        may_like(&dir.facts, me, &cached.record.audience)?;
        if store::likes(&self.store.conn(), post, me)? == liked {
            return Ok(());
        }
        let post_id = cached.record.id;
        let op = if liked {
            WriteOp::LikePost { post_id }
        } else {
            WriteOp::UnlikePost { post_id }
        };
        self.queue(op, |c| store::set_like(c, post, me, liked, true))
    }

    /// REQ-STO-4: class staff turn comments on a post off (or on again).
    pub fn set_comments_open(&self, post: &str, open: bool) -> Result<(), CoreError> {
        let r = self.set_comments_open_inner(post, open);
        self.checked(r)
    }

    fn set_comments_open_inner(&self, post: &str, open: bool) -> Result<(), CoreError> {
        let (session, dir, cached) = self.post_context(post)?;
        may_moderate(&dir.facts, &session.me.user_id, &cached.record.audience)?;
        let op = WriteOp::SetCommentsOpen {
            post_id: cached.record.id,
            open,
        };
        self.queue(op, |c| store::set_comments_off(c, post, !open))
    }

    /// A feed from the cache, newest first, each post with its likes and comment count
    /// (REQ-STO-1..4, STO-6).
    pub fn story_feed(&self, audience: &Audience) -> Result<Vec<FeedItem>, CoreError> {
        let r = self.story_feed_inner(audience);
        self.checked(r)
    }

    fn story_feed_inner(&self, audience: &Audience) -> Result<Vec<FeedItem>, CoreError> {
        let me = self.session()?.ok_or(CoreError::NotSignedIn)?.me.user_id;
        let list = self.feed(audience)?;
        let (feed, scope) = posts::feed_of(audience);
        let mut stats = store::stats(&self.store.conn(), feed, &scope, &me)?;
        Ok(list
            .into_iter()
            .map(|post| FeedItem {
                stats: stats
                    .remove(&post.record.id.to_string())
                    .unwrap_or_default(),
                post,
            })
            .collect())
    }

    /// One screenful of a feed with likes and comment counts: up to `limit` posts older than the
    /// post `after` (`None`: the newest), so a long Class Story opens at once (REQ-STO-6).
    pub fn story_page(
        &self,
        audience: &Audience,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<FeedItem>, CoreError> {
        let me = self.session()?.ok_or(CoreError::NotSignedIn)?.me.user_id;
        let page = self.feed_page(audience, after, limit)?;
        let conn = self.store.conn();
        let r = page
            .into_iter()
            .map(|post| {
                let stats = store::stats_of(&conn, &post.record.id.to_string(), &me)?;
                Ok(FeedItem { post, stats })
            })
            .collect();
        drop(conn);
        self.checked(r)
    }

    /// A post's comments, oldest first, if this person may read the post.
    pub fn comments(&self, post: &str) -> Result<Vec<CachedComment>, CoreError> {
        let r = self.comments_inner(post);
        self.checked(r)
    }

    fn comments_inner(&self, post: &str) -> Result<Vec<CachedComment>, CoreError> {
        post_id(post)?;
        let (_, _, cached) = self.post_context(post)?;
        store::comments_of(
            &self.store.conn(),
            self.store.sealer(),
            &cached.record.id.to_string(),
        )
    }

    /// Subscribes to a feed (class story, school story, a pupil's portfolio): the snapshot at
    /// once, then changes after each local write or sync. Returns the id for `unobserve`.
    pub fn observe_feed(
        &self,
        audience: &Audience,
        observer: Observer<FeedItem>,
    ) -> Result<u64, CoreError> {
        let (differ, first) = Differ::start(self.story_feed(audience)?);
        let sub = Arc::new(Sub {
            id: self.new_observer_id(),
            scope: audience.clone(),
            observer,
            differ: Mutex::new(differ),
            delivery: Delivery::default(),
        });
        lock(&self.social_views.feeds).push(sub.clone());
        sub.delivery.send(first, |m| (sub.observer)(m));
        Ok(sub.id)
    }

    /// Subscribes to a post's comments (snapshot, then changes).
    pub fn observe_comments(
        &self,
        post: &str,
        observer: Observer<CachedComment>,
    ) -> Result<u64, CoreError> {
        let (differ, first) = Differ::start(self.comments(post)?);
        let sub = Arc::new(Sub {
            id: self.new_observer_id(),
            scope: post.to_owned(),
            observer,
            differ: Mutex::new(differ),
            delivery: Delivery::default(),
        });
        lock(&self.social_views.comments).push(sub.clone());
        sub.delivery.send(first, |m| (sub.observer)(m));
        Ok(sub.id)
    }

    /// Tells every feed and comment subscriber what changed; a view one may no longer read (or
    /// whose post was withdrawn) reads as empty, so everything leaves the screen.
    pub(crate) fn refresh_social_views(&self) {
        let feeds: Vec<_> = lock(&self.social_views.feeds).clone();
        let comments: Vec<_> = lock(&self.social_views.comments).clone();
        for sub in feeds {
            let now = self.story_feed(&sub.scope).unwrap_or_default();
            crate::views::send_changes(&sub.differ, &sub.delivery, now, |m| (sub.observer)(m));
        }
        for sub in comments {
            let now = self.comments(&sub.scope).unwrap_or_default();
            crate::views::send_changes(&sub.differ, &sub.delivery, now, |m| (sub.observer)(m));
        }
    }
}
