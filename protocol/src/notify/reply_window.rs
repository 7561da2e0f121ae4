//! When a staff member replies, in plain words for the composer (REQ-MSG-4).
//!
//! # Model
//! A reply window is a set of weekly slots in the staff member's own time zone:
//! - if they set explicit `reply_slots`, exactly those;
//! - otherwise the school's working hours, minus their teaching periods, minus their own quiet
//!   hours; gaps shorter than `MIN_REPLY_SLOT_MINUTES` (changeovers between lessons) are dropped.
//!
//! Days with the same slots are described together; when those days are exactly the school days
//! the text says "on school days". The promise "usually within N hours" is the staff member's own.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::Weekday;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::hours::{StaffHours, TimeOfDay, WeeklySpan, WorkingHours, MINUTES_PER_DAY};
use super::schedule::quiet_mask;
use super::week::{day_start, WeekMask};
use super::NotifyError;

/// Free time shorter than this between lessons is not offered as reply time.
pub const MIN_REPLY_SLOT_MINUTES: u16 = 15;

use super::hours::ALL_DAYS as WEEK;

/// A staff member's reply window, ready for the composer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyWindow {
    /// The zone the slot times are in (the staff member's).
    pub time_zone: Tz,
    /// Slots within single days, sorted by day then start; an end of 24:00 closes the day.
    pub slots: Vec<WeeklySpan>,
    /// The school's days, so matching slots read "on school days".
    pub school_days: Vec<Weekday>,
    pub usually_within_hours: u16,
}

/// Works out a staff member's reply window from the school's working hours and their own hours.
pub fn reply_window(school: &WorkingHours, staff: &StaffHours) -> Result<ReplyWindow, NotifyError> {
    school.hours.validate()?;
    let mask = match &staff.reply_slots {
        Some(slots) => {
            for s in slots {
                s.times().validate()?;
            }
            WeekMask::weekly(slots)
        }
        None => {
            for p in &staff.teaching.periods {
                p.times().validate()?;
            }
            let free = WeekMask::daily_on(&school.days, &school.hours)
                .minus(&WeekMask::weekly(&staff.teaching.periods))
                .minus(&quiet_mask(&staff.quiet)?);
            WeekMask::from_pieces(
                free.runs()
                    .iter()
                    .filter(|(s, e)| e - s >= MIN_REPLY_SLOT_MINUTES)
                    .map(|&(s, e)| (s, e - s)),
            )
        }
    };
    let mut slots = Vec::new();
    for day in WEEK {
        let d0 = day_start(day);
        let d1 = d0 + MINUTES_PER_DAY;
        for &(s, e) in mask.runs() {
            let (s, e) = (s.max(d0), e.min(d1));
            if s < e {
                slots.push(WeeklySpan {
                    day,
                    start: TimeOfDay::from_minutes(s - d0)?,
                    end: TimeOfDay::from_minutes(e - d0)?,
                });
            }
        }
    }
    Ok(ReplyWindow {
        time_zone: staff.time_zone,
        slots,
        school_days: school.days.clone(),
        usually_within_hours: staff.usually_replies_within_hours,
    })
}

impl ReplyWindow {
    /// "Ms Khan replies 08:00–08:30 and 15:30–17:00 on school days; usually within 24 hours".
    pub fn describe(&self, name: &str) -> String {
        self.describe_inner(name, None)
    }

    /// As `describe`, naming the staff member's zone when the reader lives in another one.
    pub fn describe_for(&self, name: &str, reader: Tz) -> String {
        let zone = (reader != self.time_zone).then_some(self.time_zone);
        self.describe_inner(name, zone)
    }

    fn describe_inner(&self, name: &str, zone: Option<Tz>) -> String {
        let within = hours_phrase(self.usually_within_hours);
        if self.slots.is_empty() {
            return format!("{name} has no regular reply times; usually replies within {within}");
        }
        // Days grouped by identical slot lists, in order of their first day.
        let mut by_times: BTreeMap<Vec<(TimeOfDay, TimeOfDay)>, Vec<Weekday>> = BTreeMap::new();
        for day in WEEK {
            let times: Vec<_> = self
                .slots
                .iter()
                .filter(|s| s.day == day)
                .map(|s| (s.start, s.end))
                .collect();
            if !times.is_empty() {
                by_times.entry(times).or_default().push(day);
            }
        }
        let mut groups: Vec<_> = by_times.into_iter().collect();
        groups.sort_by_key(|(_, days)| days.first().map(|d| d.num_days_from_monday()));
        let parts: Vec<String> = groups
            .iter()
            .map(|(times, days)| {
                let times: Vec<String> = times.iter().map(|(s, e)| format!("{s}–{e}")).collect();
                format!("{} {}", join_and(&times), self.days_phrase(days))
            })
            .collect();
        // Groups are joined with ", and " so the "and" inside a group stays unambiguous.
        let groups_text = match parts.as_slice() {
            [init @ .., last] if !init.is_empty() => format!("{}, and {last}", init.join(", ")),
            _ => parts.join(""),
        };
        let mut out = format!("{name} replies {groups_text}");
        if let Some(zone) = zone {
            let _ = write!(out, " ({} time)", zone.name());
        }
        let _ = write!(out, "; usually within {within}");
        out
    }

    fn days_phrase(&self, days: &[Weekday]) -> String {
        let mut school: Vec<Weekday> = self.school_days.clone();
        school.sort_by_key(|d| d.num_days_from_monday());
        school.dedup();
        if !school.is_empty() && days == school.as_slice() {
            return "on school days".to_owned();
        }
        if days.len() == 7 {
            return "every day".to_owned();
        }
        // Runs of three or more consecutive days read "Mon–Wed".
        let mut names = Vec::new();
        let mut i = 0;
        while i < days.len() {
            let mut j = i;
            while j + 1 < days.len() && days[j + 1] == days[j].succ() {
                j += 1;
            }
            if j - i >= 2 {
                names.push(format!("{}–{}", days[i], days[j]));
            } else {
                names.extend(days[i..=j].iter().map(|d| d.to_string()));
            }
            i = j + 1;
        }
        format!("on {}", join_and(&names))
    }
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "1 hour", "24 hours", "2 days".
fn hours_phrase(h: u16) -> String {
    match h {
        1 => "1 hour".to_owned(),
        h if h >= 48 && h % 24 == 0 => format!("{} days", h / 24),
        h => format!("{h} hours"),
    }
}
