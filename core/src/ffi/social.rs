//! The UniFFI surface of comments, likes and story feeds (REQ-STO-1..4, issue 4 listeners):
//! records, listeners and thin calls into [`crate::social`]. No logic lives here.

use std::sync::Arc;

use super::{FeedPost, HomeroomClient, HomeroomError, PhotoAudience, Subscription};
use crate::social::FeedItem;
use crate::store::posts::CachedPost;
use crate::store::social::CachedComment;
use crate::views::ViewUpdate;

/// One post of a feed with its likes and comments (REQ-STO-4).
#[derive(Debug, Clone, uniffi::Record)]
pub struct StoryItem {
    pub post: FeedPost,
    pub like_count: u32,
    pub liked_by_me: bool,
    pub comment_count: u32,
    /// Class staff may turn comments off on a post.
    pub comments_open: bool,
}

/// One comment of a post.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PostComment {
    pub id: String,
    pub post_id: String,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    pub commented_at: std::time::SystemTime,
    /// Not yet accepted by the server.
    pub pending: bool,
}

/// A change to a feed: the whole feed first, then differences by post id.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum StoryUpdate {
    Snapshot {
        items: Vec<StoryItem>,
    },
    Changes {
        inserted: Vec<StoryItem>,
        updated: Vec<StoryItem>,
        removed: Vec<String>,
    },
}

/// A change to a post's comments: all of them first, then differences by comment id.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum CommentsUpdate {
    Snapshot {
        items: Vec<PostComment>,
    },
    Changes {
        inserted: Vec<PostComment>,
        updated: Vec<PostComment>,
        removed: Vec<String>,
    },
}

/// Told about a feed; called on a core thread, never under a core lock.
#[uniffi::export(with_foreign)]
pub trait StoryListener: Send + Sync {
    fn on_story_update(&self, update: StoryUpdate);
}

/// Told about one post's comments.
#[uniffi::export(with_foreign)]
pub trait CommentsListener: Send + Sync {
    fn on_comments_update(&self, post_id: String, update: CommentsUpdate);
}

/// A cached post as a feed shows it.
pub(crate) fn to_feed_post(p: &CachedPost) -> FeedPost {
    FeedPost {
        id: p.record.id.to_string(),
        author: p.record.author.clone(),
        caption: p.record.caption.clone(),
        media_sha256: p.record.media_sha256.clone(),
        tagged: p.record.tagged.clone(),
        posted_at: p.record.posted_at.into(),
        pending: p.pending,
    }
}

fn to_item(i: &FeedItem) -> StoryItem {
    StoryItem {
        post: to_feed_post(&i.post),
        like_count: i.stats.likes,
        liked_by_me: i.stats.liked_by_me,
        comment_count: i.stats.comments,
        comments_open: !i.stats.comments_off,
    }
}

impl HomeroomClient {
    fn to_comment(&self, c: &CachedComment) -> PostComment {
        let dir = self.inner.directory().ok().flatten();
        PostComment {
            id: c.id.clone(),
            post_id: c.post_id.clone(),
            // The directory's name when the device knows the person, else the server's.
            author_name: dir
                .as_ref()
                .and_then(|d| d.people.iter().find(|p| p.id == c.author))
                .map(|p| p.display_name.clone())
                .or_else(|| (!c.author_name.is_empty()).then(|| c.author_name.clone()))
                .unwrap_or_else(|| c.author.clone()),
            author_id: c.author.clone(),
            body: c.body.clone(),
            commented_at: c.commented_at.into(),
            pending: c.pending,
        }
    }
}

#[uniffi::export]
impl HomeroomClient {
    /// A post of words only, shown at once and sent on the next sync; returns the post id.
    pub fn post_text(
        &self,
        audience: PhotoAudience,
        caption: String,
    ) -> Result<String, HomeroomError> {
        Ok(self.inner.post_text(&audience.into(), &caption)?)
    }

    /// A feed from the cache, newest first, with likes and comment counts.
    pub fn story(&self, audience: PhotoAudience) -> Result<Vec<StoryItem>, HomeroomError> {
        Ok(self
            .inner
            .story_feed(&audience.into())?
            .iter()
            .map(to_item)
            .collect())
    }

    /// One screenful of a feed with likes and comment counts: up to `limit` posts older than the
    /// post `after` (`None`: the newest).
    pub fn story_page(
        &self,
        audience: PhotoAudience,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<StoryItem>, HomeroomError> {
        Ok(self
            .inner
            .story_page(&audience.into(), after.as_deref(), limit)?
            .iter()
            .map(to_item)
            .collect())
    }

    /// A post's comments, oldest first.
    pub fn comments(&self, post_id: String) -> Result<Vec<PostComment>, HomeroomError> {
        Ok(self
            .inner
            .comments(&post_id)?
            .iter()
            .map(|c| self.to_comment(c))
            .collect())
    }

    /// Comments on a Class Story post or a portfolio item: shown at once as pending, sent on the
    /// next sync. `NotAllowed` for pupils, other families and posts with comments off.
    pub fn comment_on_post(
        &self,
        post_id: String,
        body: String,
    ) -> Result<PostComment, HomeroomError> {
        let c = self.inner.comment_on_post(&post_id, &body)?;
        Ok(self.to_comment(&c))
    }

    /// Deletes one's own comment, or (class staff) any comment in the class.
    pub fn remove_comment(&self, comment_id: String) -> Result<(), HomeroomError> {
        Ok(self.inner.remove_comment(&comment_id)?)
    }

    /// Likes a post.
    pub fn like_post(&self, post_id: String) -> Result<(), HomeroomError> {
        Ok(self.inner.like_post(&post_id)?)
    }

    /// Takes one's like back.
    pub fn unlike_post(&self, post_id: String) -> Result<(), HomeroomError> {
        Ok(self.inner.unlike_post(&post_id)?)
    }

    /// Class staff: turns comments on a post off (or on again).
    pub fn set_comments_open(&self, post_id: String, open: bool) -> Result<(), HomeroomError> {
        Ok(self.inner.set_comments_open(&post_id, open)?)
    }

    /// Subscribes to a feed (class story, school story, a portfolio): the snapshot at once, then
    /// changes after each local write or sync. Cancelling or dropping the handle stops it.
    pub fn subscribe_story(
        &self,
        audience: PhotoAudience,
        listener: Arc<dyn StoryListener>,
    ) -> Result<Arc<Subscription>, HomeroomError> {
        let id = self.inner.observe_feed(
            &audience.into(),
            Arc::new(move |update| {
                let message = match update.map(to_item) {
                    ViewUpdate::Snapshot(items) => StoryUpdate::Snapshot { items },
                    ViewUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    } => StoryUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    },
                };
                listener.on_story_update(message);
            }),
        )?;
        Ok(Arc::new(Subscription {
            core: Arc::downgrade(&self.inner),
            id,
        }))
    }

    /// Subscribes to a post's comments: the snapshot at once, then changes.
    pub fn subscribe_comments(
        &self,
        post_id: String,
        listener: Arc<dyn CommentsListener>,
    ) -> Result<Arc<Subscription>, HomeroomError> {
        let weak = Arc::downgrade(&self.inner);
        let post = post_id.clone();
        let id = self.inner.observe_comments(
            &post_id,
            Arc::new(move |update| {
                let Some(inner) = weak.upgrade() else { return };
                let client = HomeroomClient { inner };
                let message = match update.map(|c| client.to_comment(c)) {
                    ViewUpdate::Snapshot(items) => CommentsUpdate::Snapshot { items },
                    ViewUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    } => CommentsUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    },
                };
                listener.on_comments_update(post.clone(), message);
            }),
        )?;
        Ok(Arc::new(Subscription {
            core: Arc::downgrade(&self.inner),
            id,
        }))
    }
}
