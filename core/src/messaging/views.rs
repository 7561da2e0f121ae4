//! Thread list and thread views with listeners: a snapshot first, then diffs by id, never under a
//! core lock (REQ-MSG-1, STO-6).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use homeroom_protocol::wire::Directory;
use uuid::Uuid;

use crate::error::CoreError;
use crate::homeroom::Homeroom;
use crate::store::messages::CachedMessage;
use crate::views::{Delivery, Differ, Keyed, ViewUpdate};

/// One row of the thread list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadSummary {
    pub thread_id: Uuid,
    /// The other person: the staff member for a parent, the parent for staff.
    pub other_id: String,
    pub other_name: String,
    pub last_body: String,
    pub last_at: DateTime<Utc>,
    pub last_from_me: bool,
    /// Messages sent to this person not yet read.
    pub unread: u32,
}

impl Keyed for ThreadSummary {
    fn key(&self) -> String {
        self.thread_id.to_string()
    }
}

impl Keyed for CachedMessage {
    fn key(&self) -> String {
        self.record.id.to_string()
    }
}

/// A person's display name from the directory, or their id when unknown.
pub fn name_of(dir: &Directory, user_id: &str) -> String {
    dir.people
        .iter()
        .find(|p| p.id == user_id)
        .map(|p| p.display_name.clone())
        .unwrap_or_else(|| user_id.to_owned())
}

/// What the thread list shows of a message: its text, or what is attached when it has none.
fn preview(r: &homeroom_protocol::wire::MessageRecord) -> String {
    use homeroom_protocol::attachments::AttachmentKind;
    match (r.body.is_empty(), r.attachments.first()) {
        (true, Some(a)) if a.kind == AttachmentKind::Photo => "Photo".to_owned(),
        (true, Some(a)) => a.name.clone(),
        _ => r.body.clone(),
    }
}

/// The thread list from the cached messages (oldest first), latest activity first.
pub fn summarise(me: &str, dir: &Directory, all: &[CachedMessage]) -> Vec<ThreadSummary> {
    let mut out: Vec<ThreadSummary> = Vec::new();
    for m in all {
        let r = &m.record;
        let incoming_unread = r.sender_id != me && m.read_at.is_none();
        match out.iter_mut().find(|t| t.thread_id == r.thread_id) {
            Some(t) => {
                t.last_body = preview(r);
                t.last_at = r.sent_at;
                t.last_from_me = r.sender_id == me;
                t.unread += u32::from(incoming_unread);
            }
            None => {
                let other = if r.parent_id == me {
                    &r.staff_id
                } else {
                    &r.parent_id
                };
                out.push(ThreadSummary {
                    thread_id: r.thread_id,
                    other_id: other.clone(),
                    other_name: name_of(dir, other),
                    last_body: preview(r),
                    last_at: r.sent_at,
                    last_from_me: r.sender_id == me,
                    unread: u32::from(incoming_unread),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.last_at
            .cmp(&a.last_at)
            .then(a.thread_id.cmp(&b.thread_id))
    });
    out
}

/// Told about a view: the snapshot first, then changes.
pub type Observer<T> = Arc<dyn Fn(ViewUpdate<T>) + Send + Sync>;

struct Sub<T> {
    id: u64,
    /// `None` for the thread list; a thread id for one thread.
    thread: Option<Uuid>,
    observer: Observer<T>,
    differ: Mutex<Differ<T>>,
    delivery: Delivery<ViewUpdate<T>>,
}

/// The messaging subscriptions of one core.
#[derive(Default)]
pub struct MessageObservers {
    lists: Mutex<Vec<Arc<Sub<ThreadSummary>>>>,
    threads: Mutex<Vec<Arc<Sub<CachedMessage>>>>,
}

impl MessageObservers {
    /// Drops the subscription `id`, if it is one of these.
    pub fn remove(&self, id: u64) {
        self.lists
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| s.id != id);
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| s.id != id);
    }
}

fn push_update<T: Keyed + Clone + PartialEq>(sub: &Sub<T>, now: Vec<T>) {
    crate::views::send_changes(&sub.differ, &sub.delivery, now, |m| (sub.observer)(m));
}

impl Homeroom {
    /// Subscribes to the thread list: the snapshot at once, then changes after each send, read
    /// or sync. Returns the id for [`Homeroom::unobserve`].
    pub fn observe_threads(&self, observer: Observer<ThreadSummary>) -> Result<u64, CoreError> {
        let (differ, first) = Differ::start(self.threads()?);
        let sub = Arc::new(Sub {
            id: self.new_observer_id(),
            thread: None,
            observer,
            differ: Mutex::new(differ),
            delivery: Delivery::default(),
        });
        self.message_views
            .lists
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(sub.clone());
        sub.delivery.send(first, |m| (sub.observer)(m));
        Ok(sub.id)
    }

    /// Subscribes to one thread's messages (snapshot, then changes).
    pub fn observe_thread(
        &self,
        thread: &str,
        observer: Observer<CachedMessage>,
    ) -> Result<u64, CoreError> {
        let (differ, first) = Differ::start(self.thread(thread)?);
        let thread_id: Uuid = thread
            .parse()
            .map_err(|_| CoreError::input("thread_id", "not a conversation id"))?;
        let sub = Arc::new(Sub {
            id: self.new_observer_id(),
            thread: Some(thread_id),
            observer,
            differ: Mutex::new(differ),
            delivery: Delivery::default(),
        });
        self.message_views
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(sub.clone());
        sub.delivery.send(first, |m| (sub.observer)(m));
        Ok(sub.id)
    }

    /// Tells every messaging subscriber what changed (no core lock held while they run).
    pub(crate) fn refresh_message_views(&self) {
        let lists: Vec<_> = self
            .message_views
            .lists
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let threads: Vec<_> = self
            .message_views
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if lists.is_empty() && threads.is_empty() {
            return;
        }
        for sub in lists {
            push_update(&sub, self.threads().unwrap_or_default());
        }
        for sub in threads {
            let id = sub.thread.map(|t| t.to_string()).unwrap_or_default();
            push_update(&sub, self.thread(&id).unwrap_or_default());
        }
    }
}
