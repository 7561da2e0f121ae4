//! How long the school keeps what (REQ-PTS-7, PRV-5): one cut-off both the server's retention
//! job and every device apply, so a deleted award disappears everywhere at the same moment.

use chrono::{DateTime, Months, Utc};

/// Awards are kept for twelve months.
pub const AWARD_RETENTION_MONTHS: u32 = 12;

/// Awards made before this instant are deleted. Calendar months: on 29 February the cut-off is
/// 28 February of the year before (chrono clamps to the month's last day).
pub fn award_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(AWARD_RETENTION_MONTHS))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether an award made at `awarded_at` must be gone at `now`.
pub fn award_expired(awarded_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    awarded_at < award_cutoff(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn awards_are_kept_exactly_twelve_calendar_months() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        assert_eq!(
            award_cutoff(now),
            Utc.with_ymd_and_hms(2025, 11, 23, 9, 0, 0).unwrap()
        );
        assert!(award_expired(
            Utc.with_ymd_and_hms(2025, 11, 23, 8, 59, 59).unwrap(),
            now
        ));
        assert!(!award_expired(
            Utc.with_ymd_and_hms(2025, 11, 23, 9, 0, 0).unwrap(),
            now
        ));
    }

    #[test]
    fn a_leap_day_cutoff_falls_on_the_last_day_of_february() {
        let now = Utc.with_ymd_and_hms(2028, 2, 29, 12, 0, 0).unwrap();
        assert_eq!(
            award_cutoff(now),
            Utc.with_ymd_and_hms(2027, 2, 28, 12, 0, 0).unwrap()
        );
    }
}
