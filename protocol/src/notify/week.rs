//! A set of wall-clock minutes in a week, compiled once so each plan is a binary search.

use chrono::Weekday;

use super::hours::{DailySpan, WeeklySpan, MINUTES_PER_DAY};

/// Minutes in a week; week-minute 0 is Monday 00:00 local time.
pub const MINUTES_PER_WEEK: u16 = 7 * MINUTES_PER_DAY;

/// Sorted, disjoint, non-touching `[start, end)` runs of week-minutes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeekMask {
    runs: Vec<(u16, u16)>,
}

/// The week-minute at which `day` starts.
pub fn day_start(day: Weekday) -> u16 {
    day.num_days_from_monday() as u16 * MINUTES_PER_DAY
}

impl WeekMask {
    /// The empty set.
    pub fn empty() -> Self {
        WeekMask::default()
    }

    /// Builds a mask from `(start week-minute, length)` pieces; pieces may wrap past Sunday 24:00.
    pub fn from_pieces(pieces: impl IntoIterator<Item = (u16, u16)>) -> Self {
        let mut runs: Vec<(u16, u16)> = Vec::new();
        for (start, len) in pieces {
            if len == 0 {
                continue;
            }
            let start = start % MINUTES_PER_WEEK;
            let len = len.min(MINUTES_PER_WEEK);
            let end = u32::from(start) + u32::from(len);
            if end <= u32::from(MINUTES_PER_WEEK) {
                runs.push((start, end as u16));
            } else {
                runs.push((start, MINUTES_PER_WEEK));
                runs.push((0, (end - u32::from(MINUTES_PER_WEEK)) as u16));
            }
        }
        runs.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(runs.len());
        for (s, e) in runs {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        WeekMask { runs: merged }
    }

    /// A daily span repeated on all seven days.
    pub fn daily(span: &DailySpan) -> Self {
        Self::from_pieces((0..7u16).map(|d| Self::daily_piece(d * MINUTES_PER_DAY, span)))
    }

    /// A daily span on the given days only (it may run into the following day).
    pub fn daily_on(days: &[Weekday], span: &DailySpan) -> Self {
        Self::from_pieces(days.iter().map(|&d| Self::daily_piece(day_start(d), span)))
    }

    /// Whole days, 00:00–24:00.
    pub fn whole_days(days: &[Weekday]) -> Self {
        Self::from_pieces(days.iter().map(|&d| (day_start(d), MINUTES_PER_DAY)))
    }

    /// Spans on particular weekdays.
    pub fn weekly(spans: &[WeeklySpan]) -> Self {
        Self::from_pieces(
            spans
                .iter()
                .map(|s| Self::daily_piece(day_start(s.day), &s.times())),
        )
    }

    fn daily_piece(day_start: u16, span: &DailySpan) -> (u16, u16) {
        (
            day_start + span.start.minutes() % MINUTES_PER_DAY,
            span.len_minutes(),
        )
    }

    /// Everything in either mask.
    pub fn union(&self, other: &WeekMask) -> WeekMask {
        Self::from_pieces(
            self.runs
                .iter()
                .chain(other.runs.iter())
                .map(|&(s, e)| (s, e - s)),
        )
    }

    /// Everything not in this mask.
    pub fn complement(&self) -> WeekMask {
        let mut runs = Vec::with_capacity(self.runs.len() + 1);
        let mut at = 0u16;
        for &(s, e) in &self.runs {
            if s > at {
                runs.push((at, s));
            }
            at = e;
        }
        if at < MINUTES_PER_WEEK {
            runs.push((at, MINUTES_PER_WEEK));
        }
        WeekMask { runs }
    }

    /// Everything in both masks.
    pub fn intersection(&self, other: &WeekMask) -> WeekMask {
        self.complement().union(&other.complement()).complement()
    }

    /// Everything in this mask and not in `other`.
    pub fn minus(&self, other: &WeekMask) -> WeekMask {
        self.intersection(&other.complement())
    }

    /// True when no minute is in the mask.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// True when every minute of the week is in the mask.
    pub fn is_full(&self) -> bool {
        self.runs == [(0, MINUTES_PER_WEEK)]
    }

    /// The runs, sorted (a run touching Sunday 24:00 and one at Monday 00:00 are kept apart).
    pub fn runs(&self) -> &[(u16, u16)] {
        &self.runs
    }

    /// Whether week-minute `m` is in the mask.
    pub fn contains(&self, m: u16) -> bool {
        self.run_index(m).is_some()
    }

    fn run_index(&self, m: u16) -> Option<usize> {
        // First run whose end is after m; m is inside it when its start is at or before m.
        let i = self.runs.partition_point(|&(_, e)| e <= m);
        match self.runs.get(i) {
            Some(&(s, _)) if s <= m => Some(i),
            _ => None,
        }
    }

    /// Minutes from the start of week-minute `m` until the first minute not in the mask, following
    /// the run across Sunday 24:00; `None` when `m` is not in the mask or the mask is full.
    pub fn minutes_until_clear(&self, m: u16) -> Option<u32> {
        let i = self.run_index(m)?;
        let (_, end) = self.runs[i];
        let mut ahead = u32::from(end - m);
        if end == MINUTES_PER_WEEK {
            match self.runs.first() {
                Some(&(0, first_end)) if i != 0 => ahead += u32::from(first_end),
                Some(&(0, _)) => return None, // the single run is the whole week
                _ => {}
            }
        }
        Some(ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::hours::TimeOfDay;

    fn t(s: &str) -> TimeOfDay {
        s.parse().unwrap()
    }

    #[test]
    fn overnight_span_on_sunday_wraps_into_monday() {
        let m = WeekMask::daily_on(
            &[Weekday::Sun],
            &DailySpan::new(t("22:00"), t("06:00")).unwrap(),
        );
        assert_eq!(m.runs(), &[(0, 360), (6 * 1440 + 1320, MINUTES_PER_WEEK)]);
        assert_eq!(m.minutes_until_clear(6 * 1440 + 1320), Some(120 + 360));
        assert_eq!(m.minutes_until_clear(100), Some(260));
        assert_eq!(m.minutes_until_clear(360), None);
    }

    #[test]
    fn set_operations_agree_with_minute_by_minute_logic() {
        let a = WeekMask::daily(&DailySpan::new(t("17:00"), t("08:00")).unwrap());
        let b = WeekMask::whole_days(&[Weekday::Sat, Weekday::Sun]);
        let c = WeekMask::weekly(&[WeeklySpan::new(Weekday::Mon, t("09:00"), t("10:00")).unwrap()]);
        let u = a.union(&b);
        let i = u.intersection(&c.complement());
        let d = u.complement().minus(&c);
        for m in 0..MINUTES_PER_WEEK {
            assert_eq!(u.contains(m), a.contains(m) || b.contains(m));
            assert_eq!(i.contains(m), u.contains(m) && !c.contains(m));
            assert_eq!(d.contains(m), !u.contains(m) && !c.contains(m));
        }
        assert!(!u.is_full());
        assert!(u.union(&u.complement()).is_full());
        assert!(WeekMask::empty().is_empty());
    }

    #[test]
    fn full_week_never_clears() {
        let full = WeekMask::whole_days(&crate::notify::hours::ALL_DAYS);
        assert!(full.is_full());
        assert_eq!(full.minutes_until_clear(5), None);
    }
}
