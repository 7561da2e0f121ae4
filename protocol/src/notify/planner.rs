//! The one pure planner: deliver now, hold until an instant, or fold into a digest (REQ-NOT-2..5).
//!
//! The server runs it before a push and the phone again before a local notification, with the
//! same inputs and therefore the same answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{Category, DigestKey, NotifyEvent};
use super::lock_screen::{content_for, LockScreenContent, LockScreenPreview};
use super::schedule::NotifySchedule;
use super::NotifyError;

/// One person to notify: their compiled hours and their lock-screen choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub id: Uuid,
    pub schedule: NotifySchedule,
    pub lock_screen: LockScreenPreview,
}

/// When a notification is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Decision {
    /// Show it now. `breaks_quiet_hours` is true only for an admin's school-wide emergency
    /// arriving in the recipient's quiet hours or teaching period (REQ-NOT-4).
    DeliverNow { breaks_quiet_hours: bool },
    /// Show it on its own at `at`, the first allowed instant (a safeguarding report).
    HoldUntil { at: DateTime<Utc> },
    /// Fold it into the digest `key`, shown at `at`, the first allowed instant (REQ-NOT-2).
    Digest { at: DateTime<Utc>, key: DigestKey },
}

impl Decision {
    /// The instant the notification (or its digest) is shown, given the planning instant.
    pub fn shown_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match *self {
            Decision::DeliverNow { .. } => now,
            Decision::HoldUntil { at } | Decision::Digest { at, .. } => at,
        }
    }

    /// True unless the notification is shown now.
    pub fn is_held(&self) -> bool {
        !matches!(self, Decision::DeliverNow { .. })
    }
}

/// The plan for one event and one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedNotification {
    pub recipient: Uuid,
    pub event: Uuid,
    pub event_at: DateTime<Utc>,
    pub decision: Decision,
    /// Marked as an emergency announcement (REQ-NOT-4): only an admin's school-wide emergency.
    pub emergency: bool,
    pub category: Category,
    /// What the notification shows; generic unless the recipient opted in (REQ-NOT-5).
    pub content: LockScreenContent,
}

/// Plans one event for one recipient at `now`.
pub fn plan(
    event: &NotifyEvent,
    recipient: &Recipient,
    now: DateTime<Utc>,
) -> Result<PlannedNotification, NotifyError> {
    let category = event.kind.category();
    let content = content_for(category, &event.preview, recipient.lock_screen);
    plan_with_content(event, category, recipient, now, content)
}

/// Plans one event for many recipients (a School Story post to every parent), building each
/// distinct lock-screen text once.
pub fn plan_all(
    event: &NotifyEvent,
    recipients: &[Recipient],
    now: DateTime<Utc>,
) -> Result<Vec<PlannedNotification>, NotifyError> {
    let category = event.kind.category();
    let generic = content_for(category, &event.preview, LockScreenPreview::Generic);
    let full = content_for(category, &event.preview, LockScreenPreview::Full);
    recipients
        .iter()
        .map(|r| {
            let content = match r.lock_screen {
                LockScreenPreview::Generic => generic.clone(),
                LockScreenPreview::Full => full.clone(),
            };
            plan_with_content(event, category, r, now, content)
        })
        .collect()
}

fn plan_with_content(
    event: &NotifyEvent,
    category: Category,
    recipient: &Recipient,
    now: DateTime<Utc>,
    content: LockScreenContent,
) -> Result<PlannedNotification, NotifyError> {
    let emergency = event.kind.breaks_quiet_hours();
    let decision = if emergency {
        // REQ-NOT-4: the only event that may break quiet hours, and the plan says so.
        Decision::DeliverNow {
            breaks_quiet_hours: recipient.schedule.is_quiet_at(now)?,
        }
    } else {
        let at = recipient.schedule.next_allowed(now)?;
        if at <= now {
            Decision::DeliverNow {
                breaks_quiet_hours: false,
            }
        } else {
            match event.kind.digest_key() {
                Some(key) => Decision::Digest { at, key },
                None => Decision::HoldUntil { at },
            }
        }
    };
    Ok(PlannedNotification {
        recipient: recipient.id,
        event: event.id,
        event_at: event.at,
        decision,
        emergency,
        category,
        content,
    })
}
