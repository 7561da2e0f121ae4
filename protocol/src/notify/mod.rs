//! Who is notified when: quiet hours, teaching periods, digests, lock-screen text and reply windows
//! (REQ-NOT-1..5, REQ-MSG-4), shared by the server's push scheduler and the phone's local notifications.
//!
//! Typical use:
//! 1. keep each person's hours (`StaffHours`, `ParentHours`), compiled into a `NotifySchedule`;
//! 2. `plan` / `plan_all` an event at `now`: `DeliverNow`, `HoldUntil` or `Digest`;
//! 3. hand held plans to `build_digests`, which yields one notification per conversation (or
//!    feed) at the end of the quiet span, and wake at `next_delivery`.
//!
//! All rules read local wall-clock time in the recipient's IANA zone; `wall_clock` documents what
//! happens when a boundary falls in a skipped or repeated daylight-saving hour.

pub mod digest;
pub mod event;
pub mod hours;
pub mod lock_screen;
pub mod planner;
pub mod reply_window;
pub mod schedule;
pub mod wall_clock;
pub mod week;

pub use chrono_tz::Tz;
pub use digest::{build_digests, next_delivery, Digest};
pub use event::{Category, DigestKey, EventKind, EventPreview, NotifyEvent, SenderKind};
pub use hours::{
    parse_time_zone, DailySpan, ParentHours, QuietHours, StaffHours, TimeOfDay, Timetable,
    WeeklySpan, WorkingHours,
};
pub use lock_screen::{LockScreenContent, LockScreenPreview};
pub use planner::{plan, plan_all, Decision, PlannedNotification, Recipient};
pub use reply_window::{reply_window, ReplyWindow};
pub use schedule::NotifySchedule;

/// Why hours could not be used or a plan could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("invalid time {0:?}: expected HH:MM between 00:00 and 24:00")]
    InvalidTime(String),
    #[error("empty time span {0}: start and end are the same")]
    EmptySpan(String),
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("these hours leave no time in the week when notifications may be shown")]
    AlwaysQuiet,
    #[error("instant out of the supported date range")]
    OutOfRange,
}
