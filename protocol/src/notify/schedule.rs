//! A person's hours compiled once into "when may they be notified", so planning is cheap (REQ-NOT-2, REQ-NOT-3).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::hours::{ParentHours, QuietHours, StaffHours};
use super::wall_clock;
use super::week::WeekMask;
use super::NotifyError;

/// When one person must not be notified: a weekly wall-clock mask read in their own zone.
///
/// Staff: quiet hours plus teaching periods (REQ-NOT-2). Parents: their own quiet hours, if any
/// (REQ-NOT-3). Build it when the hours change and keep it; `plan` only reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifySchedule {
    time_zone: Tz,
    blocked: WeekMask,
}

impl NotifySchedule {
    /// A staff member: no notifications in quiet hours or while teaching.
    pub fn for_staff(hours: &StaffHours) -> Result<Self, NotifyError> {
        for p in &hours.teaching.periods {
            p.times().validate()?;
        }
        let blocked = quiet_mask(&hours.quiet)?.union(&WeekMask::weekly(&hours.teaching.periods));
        Self::new(hours.time_zone, blocked)
    }

    /// A parent: no non-urgent notifications in their own quiet hours.
    pub fn for_parent(hours: &ParentHours) -> Result<Self, NotifyError> {
        let blocked = match &hours.quiet {
            Some(q) => quiet_mask(q)?,
            None => WeekMask::empty(),
        };
        Self::new(hours.time_zone, blocked)
    }

    /// Someone who may always be notified (no quiet hours set).
    pub fn always(time_zone: Tz) -> Self {
        NotifySchedule {
            time_zone,
            blocked: WeekMask::empty(),
        }
    }

    fn new(time_zone: Tz, blocked: WeekMask) -> Result<Self, NotifyError> {
        if blocked.is_full() {
            return Err(NotifyError::AlwaysQuiet);
        }
        Ok(NotifySchedule { time_zone, blocked })
    }

    /// The person's IANA time zone.
    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// Whether a non-emergency notification must wait at `at` (quiet hours or teaching).
    pub fn is_quiet_at(&self, at: DateTime<Utc>) -> Result<bool, NotifyError> {
        wall_clock::reads_masked_minute(&self.blocked, self.time_zone, at)
    }

    /// The first instant at or after `from` when a notification may be shown (see `wall_clock` for DST rules).
    pub fn next_allowed(&self, from: DateTime<Utc>) -> Result<DateTime<Utc>, NotifyError> {
        wall_clock::first_clear_instant(&self.blocked, self.time_zone, from)
    }
}

/// Quiet hours as a weekly mask.
pub(crate) fn quiet_mask(q: &QuietHours) -> Result<WeekMask, NotifyError> {
    q.validate()?;
    let nightly = q
        .daily
        .as_ref()
        .map_or_else(WeekMask::empty, WeekMask::daily);
    Ok(nightly.union(&WeekMask::whole_days(&q.whole_days)))
}
