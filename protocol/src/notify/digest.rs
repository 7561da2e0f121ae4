//! Held notifications become one digest per conversation (or feed) when quiet hours end (REQ-NOT-2).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{Category, DigestKey};
use super::lock_screen::{generic, LockScreenContent};
use super::planner::{Decision, PlannedNotification};

/// One notification standing for several held events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub recipient: Uuid,
    pub key: DigestKey,
    /// When to show it: the end of the quiet span the events were held in.
    pub deliver_at: DateTime<Utc>,
    /// The held events, oldest first.
    pub events: Vec<Uuid>,
    pub content: LockScreenContent,
}

/// Groups held notifications into digests: one per recipient, key and release instant, so the
/// messages of one conversation held overnight become a single notification at 08:00.
///
/// Notifications planned `DeliverNow` are ignored; a `HoldUntil` one becomes a digest of its own
/// (`DigestKey::Alone`). The result is sorted by delivery time, then recipient, then key.
pub fn build_digests(held: &[PlannedNotification]) -> Vec<Digest> {
    let mut items: Vec<(DateTime<Utc>, Uuid, DigestKey, &PlannedNotification)> = held
        .iter()
        .filter_map(|p| match p.decision {
            Decision::DeliverNow { .. } => None,
            Decision::HoldUntil { at } => Some((at, p.recipient, DigestKey::Alone(p.event), p)),
            Decision::Digest { at, key } => Some((at, p.recipient, key, p)),
        })
        .collect();
    items.sort_by(|a, b| {
        (a.0, a.1, a.2, a.3.event_at, a.3.event).cmp(&(b.0, b.1, b.2, b.3.event_at, b.3.event))
    });
    let mut digests: Vec<Digest> = Vec::new();
    let mut group: Vec<&PlannedNotification> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let (at, recipient, key, _) = items[i];
        group.clear();
        while i < items.len() && (items[i].0, items[i].1, items[i].2) == (at, recipient, key) {
            group.push(items[i].3);
            i += 1;
        }
        digests.push(Digest {
            recipient,
            key,
            deliver_at: at,
            events: group.iter().map(|p| p.event).collect(),
            content: digest_content(&group),
        });
    }
    digests
}

/// The earliest digest delivery time: when the scheduler (server) or the app (phone) should wake.
pub fn next_delivery(digests: &[Digest]) -> Option<DateTime<Utc>> {
    digests.iter().map(|d| d.deliver_at).min()
}

/// Content for a group, oldest first: the latest event's words when every item may show them,
/// otherwise generic counts (REQ-NOT-5).
fn digest_content(group: &[&PlannedNotification]) -> LockScreenContent {
    let Some(latest) = group.last() else {
        return generic(Category::MessageFromParent, 0);
    };
    if group.len() == 1 {
        return latest.content.clone();
    }
    let n = group.len();
    let same_category = group.iter().all(|p| p.category == latest.category);
    if group.iter().all(|p| p.content.shows_private) {
        return LockScreenContent {
            title: latest.content.title.clone(),
            body: format!("{n} new · latest: {}", latest.content.body),
            shows_private: true,
        };
    }
    if same_category {
        generic(latest.category, n)
    } else {
        LockScreenContent {
            title: "Homeroom".to_owned(),
            body: format!("{n} new notifications"),
            shows_private: false,
        }
    }
}
