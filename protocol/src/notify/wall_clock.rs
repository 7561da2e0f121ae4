//! Finds the first instant whose local wall-clock reading is allowed, exactly, across DST changes (REQ-NOT-2).
//!
//! # Semantics
//! An instant is quiet when the wall clock in the person's zone *reads* a quiet minute at that
//! instant; nothing else. The consequences at daylight-saving changes:
//! - **Skipped hour (spring forward).** Wall times in the gap never occur. A boundary inside the
//!   gap therefore takes effect at the first instant after the gap (the transition itself, when
//!   the clock jumps from 01:00 to 02:00): quiet hours ending at 01:30 release at 02:00 new time,
//!   quiet hours starting at 01:30 begin at 02:00 new time.
//! - **Repeated hour (fall back).** Wall times in the repeated hour occur twice and the rule
//!   applies to each pass. A quiet-hours *end* inside it releases at its **earlier** occurrence;
//!   if the clock then falls back into the quiet span, the second pass is quiet again until the
//!   boundary's later occurrence (anything arriving then is held until it). A *start* inside it
//!   begins quiet hours at the earlier occurrence; the clock falling back before the start makes
//!   the minutes before it allowed again during the second pass.
//!
//! With the defaults (17:00, 08:00, midnight) no boundary is ever inside a DST change; the rules
//! only matter for unusual settings, and they keep one invariant: a notification is never shown
//! while the clock reads a quiet minute, and a held one is shown at the first instant it does not.

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::week::{WeekMask, MINUTES_PER_WEEK};
use super::NotifyError;

const SECS_PER_DAY: i64 = 86_400;
/// Each step ends in an answer or at a DST transition; real zones have at most two a week.
const MAX_STEPS: usize = 16;

/// Seconds east of UTC in `tz` at `secs` after the Unix epoch.
fn offset_at(tz: Tz, secs: i64) -> Result<i64, NotifyError> {
    let utc = DateTime::<Utc>::from_timestamp(secs, 0).ok_or(NotifyError::OutOfRange)?;
    Ok(i64::from(
        tz.offset_from_utc_datetime(&utc.naive_utc())
            .fix()
            .local_minus_utc(),
    ))
}

/// The week-minute (Monday 00:00 = 0) of a local wall time in seconds since the local epoch.
fn week_minute(wall_secs: i64) -> u16 {
    // 1970-01-01 was a Thursday: three days after a Monday.
    let day = wall_secs.div_euclid(SECS_PER_DAY) + 3;
    let minute_of_week = day.rem_euclid(7) * 1440 + wall_secs.rem_euclid(SECS_PER_DAY) / 60;
    // In 0..10080 by construction.
    (minute_of_week as u16) % MINUTES_PER_WEEK
}

/// Whether the wall clock in `tz` reads a minute of `mask` at `at`.
pub fn reads_masked_minute(
    mask: &WeekMask,
    tz: Tz,
    at: DateTime<Utc>,
) -> Result<bool, NotifyError> {
    if mask.is_empty() {
        return Ok(false);
    }
    let secs = at.timestamp();
    Ok(mask.contains(week_minute(secs + offset_at(tz, secs)?)))
}

/// The first instant at or after `from` whose wall-clock minute in `tz` is not in `mask`.
///
/// Exact to the second: a held notification is released at the first allowed instant, and the
/// instant one second earlier is quiet. `mask` must not be full (`NotifyError::AlwaysQuiet`).
pub fn first_clear_instant(
    mask: &WeekMask,
    tz: Tz,
    from: DateTime<Utc>,
) -> Result<DateTime<Utc>, NotifyError> {
    if mask.is_empty() {
        return Ok(from);
    }
    // Wall minutes start on whole seconds (offsets are whole seconds), so flooring `from` to the
    // second never leaves its minute or its offset span.
    let mut at = from.timestamp();
    for step in 0..MAX_STEPS {
        let off = offset_at(tz, at)?;
        let wall = at + off;
        let Some(minutes) = mask.minutes_until_clear(week_minute(wall)) else {
            if mask.is_full() {
                return Err(NotifyError::AlwaysQuiet);
            }
            return if step == 0 {
                Ok(from)
            } else {
                DateTime::from_timestamp(at, 0).ok_or(NotifyError::OutOfRange)
            };
        };
        // Where the quiet run ends if the offset stays `off`.
        let end = at + i64::from(minutes) * 60 - wall.rem_euclid(60);
        if offset_at(tz, end)? == off {
            // No transition in between (zones never change twice and back within a week).
            return DateTime::from_timestamp(end, 0).ok_or(NotifyError::OutOfRange);
        }
        // The offset changes before the run ends: continue from the transition, where the wall
        // clock jumps (forward past a gap, or back into a repeated hour).
        at = first_offset_change(tz, at, end, off)?;
    }
    Err(NotifyError::AlwaysQuiet)
}

/// The smallest instant in `(lo, hi]` whose offset is not `off`, given that `hi`'s is not.
fn first_offset_change(tz: Tz, mut lo: i64, mut hi: i64, off: i64) -> Result<i64, NotifyError> {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_at(tz, mid)? == off {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_minute_counts_from_monday_midnight() {
        // 2026-03-02 is a Monday.
        let monday = DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(week_minute(monday), 0);
        assert_eq!(week_minute(monday - 60), MINUTES_PER_WEEK - 1);
        assert_eq!(
            week_minute(monday + 4 * SECS_PER_DAY + 17 * 3600 + 59),
            4 * 1440 + 17 * 60
        );
        assert_eq!(week_minute(-1), 2 * 1440 + 1439); // 1969-12-31 23:59:59, a Wednesday
    }
}
