//! Local notifications after a sync (REQ-NOT-2, NOT-5): the shared planner, run on the phone with
//! this person's own hours and lock-screen choice, over the unread messages sent to them.

use chrono::{DateTime, Utc};
use homeroom_protocol::messaging::{message_event, person_uuid};
use homeroom_protocol::notify::{
    build_digests, Digest, NotifyError, PlannedNotification, Recipient,
};
use homeroom_protocol::wire::Directory;

use super::views::name_of;
use crate::store::messages::CachedMessage;

/// What the app should show: now, and digests later (one per conversation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPlan {
    /// Show these now.
    pub now: Vec<PlannedNotification>,
    /// Schedule these at their `deliver_at`.
    pub digests: Vec<Digest>,
}

/// Plans each unread incoming message at `now` (or when it was sent, if later).
pub fn plan(
    me: &str,
    dir: &Directory,
    all: &[CachedMessage],
    now: DateTime<Utc>,
) -> Result<LocalPlan, NotifyError> {
    // A directory from before messaging has no hours: nothing to plan until the next sync.
    let Some(hours) = dir.hours.get(me) else {
        return Ok(LocalPlan {
            now: Vec::new(),
            digests: Vec::new(),
        });
    };
    let recipient = Recipient {
        id: person_uuid(me),
        schedule: hours.schedule()?,
        lock_screen: dir.lock_screen,
    };
    let mut now_list = Vec::new();
    let mut held = Vec::new();
    for m in all
        .iter()
        .filter(|m| m.record.sender_id != me && m.read_at.is_none())
    {
        let event = message_event(&m.record, &name_of(dir, &m.record.sender_id), None);
        let p = homeroom_protocol::notify::plan(&event, &recipient, now.max(m.record.sent_at))?;
        if p.decision.is_held() {
            held.push(p);
        } else {
            now_list.push(p);
        }
    }
    Ok(LocalPlan {
        now: now_list,
        digests: build_digests(&held),
    })
}
