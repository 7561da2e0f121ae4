//! Quiet hours, working hours and teaching timetables as people set them (REQ-NOT-1, REQ-NOT-3).
//!
//! Every time here is a local wall-clock time in the owner's own IANA time zone. A span whose end
//! is not after its start runs past midnight into the next day (`17:00–08:00`).

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::NotifyError;

/// Minutes in a day; also the largest `TimeOfDay` ("24:00", the end of a day).
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// A local wall-clock time to the minute, "HH:MM" on the wire; "24:00" closes a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Midnight at the start of a day.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    /// Midnight at the end of a day ("24:00").
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(MINUTES_PER_DAY);

    /// Builds a time from hours and minutes; `24:00` is accepted as the end of a day.
    pub fn new(hour: u16, minute: u16) -> Result<Self, NotifyError> {
        if minute >= 60 || hour > 24 || (hour == 24 && minute != 0) {
            return Err(NotifyError::InvalidTime(format!("{hour:02}:{minute:02}")));
        }
        Ok(TimeOfDay(hour * 60 + minute))
    }

    /// Builds a time from minutes after midnight (0..=1440).
    pub fn from_minutes(minutes: u16) -> Result<Self, NotifyError> {
        if minutes > MINUTES_PER_DAY {
            return Err(NotifyError::InvalidTime(format!("{minutes} minutes")));
        }
        Ok(TimeOfDay(minutes))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for TimeOfDay {
    type Err = NotifyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || NotifyError::InvalidTime(s.to_owned());
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        TimeOfDay::new(h, m).map_err(|_| bad())
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A span repeated every day, e.g. quiet hours `17:00–08:00` (wraps past midnight when end ≤ start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DailySpan {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl DailySpan {
    /// Builds a span; start and end must differ (a whole day is a quiet *day*, not a span).
    pub fn new(start: TimeOfDay, end: TimeOfDay) -> Result<Self, NotifyError> {
        let span = DailySpan { start, end };
        span.validate()?;
        Ok(span)
    }

    /// Rejects empty spans and a start of 24:00 (which only closes a day).
    pub fn validate(&self) -> Result<(), NotifyError> {
        if self.start == TimeOfDay::END_OF_DAY {
            return Err(NotifyError::InvalidTime(format!(
                "{} (24:00 can only end a span)",
                self.start
            )));
        }
        if self.len_minutes() == 0 {
            return Err(NotifyError::EmptySpan(self.to_string()));
        }
        Ok(())
    }

    /// Length in minutes, counting a wrap past midnight; 0 for an empty span.
    pub fn len_minutes(&self) -> u16 {
        let (s, e) = (self.start.0 % MINUTES_PER_DAY, self.end.0 % MINUTES_PER_DAY);
        if e > s {
            e - s
        } else if self.start.0 == 0 && self.end.0 == MINUTES_PER_DAY {
            MINUTES_PER_DAY
        } else if e == s {
            0
        } else {
            MINUTES_PER_DAY - s + e
        }
    }
}

impl fmt::Display for DailySpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.start, self.end)
    }
}

/// A span on one weekday, e.g. a teaching period "Tue 10:00–11:00" (wraps into the next day when end ≤ start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WeeklySpan {
    pub day: Weekday,
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl WeeklySpan {
    /// Builds a span on `day`; start and end must differ.
    pub fn new(day: Weekday, start: TimeOfDay, end: TimeOfDay) -> Result<Self, NotifyError> {
        DailySpan::new(start, end)?;
        Ok(WeeklySpan { day, start, end })
    }

    /// The same times as a daily span (for validation and length).
    pub fn times(&self) -> DailySpan {
        DailySpan {
            start: self.start,
            end: self.end,
        }
    }
}

/// Quiet hours: a nightly span plus whole quiet days (REQ-NOT-1: staff default 17:00–08:00 and weekends).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// Repeats every day of the week, including quiet days.
    pub daily: Option<DailySpan>,
    /// Days quiet from 00:00 to 24:00.
    pub whole_days: Vec<Weekday>,
}

impl QuietHours {
    /// The staff default of REQ-NOT-1: 17:00–08:00 every night, and all of Saturday and Sunday.
    pub fn staff_default() -> Self {
        QuietHours {
            daily: Some(DailySpan {
                start: TimeOfDay(17 * 60),
                end: TimeOfDay(8 * 60),
            }),
            whole_days: vec![Weekday::Sat, Weekday::Sun],
        }
    }

    /// Only a nightly span, the usual shape of a parent's own quiet hours (REQ-NOT-3).
    pub fn nightly(span: DailySpan) -> Self {
        QuietHours {
            daily: Some(span),
            whole_days: Vec::new(),
        }
    }

    /// Checks every span.
    pub fn validate(&self) -> Result<(), NotifyError> {
        self.daily.as_ref().map_or(Ok(()), DailySpan::validate)
    }

    /// Quiet whenever the school is closed: nightly outside its working day, and all of every
    /// non-school day (REQ-NOT-1: staff who set nothing follow the school's working hours).
    pub fn outside(school: &WorkingHours) -> Self {
        QuietHours {
            daily: Some(DailySpan {
                start: school.hours.end,
                end: school.hours.start,
            }),
            whole_days: ALL_DAYS
                .iter()
                .copied()
                .filter(|d| !school.days.contains(d))
                .collect(),
        }
    }
}

/// Monday to Sunday, in order.
pub const ALL_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

impl Default for QuietHours {
    fn default() -> Self {
        Self::staff_default()
    }
}

/// The school's working hours: when replies can be expected (REQ-NOT-1, default Mon–Fri 08:00–17:00).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// School days.
    pub days: Vec<Weekday>,
    /// The working day, the same on every school day.
    pub hours: DailySpan,
}

impl WorkingHours {
    /// Checks hours an admin sets: at least one school day, each once, and a working day that
    /// starts and ends on the same day. The error names the field at fault and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.days.is_empty() {
            return Err(("days".into(), "name at least one school day".into()));
        }
        for (i, d) in self.days.iter().enumerate() {
            if self.days[..i].contains(d) {
                return Err(("days".into(), format!("{d} is named twice")));
            }
        }
        if self.hours.start == TimeOfDay::END_OF_DAY {
            return Err((
                "hours.start".into(),
                "24:00 can only end a working day".into(),
            ));
        }
        if self.hours.end <= self.hours.start {
            return Err((
                "hours.end".into(),
                format!(
                    "the working day must end after it starts ({})",
                    self.hours.start
                ),
            ));
        }
        Ok(())
    }
}

impl Default for WorkingHours {
    fn default() -> Self {
        WorkingHours {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            hours: DailySpan {
                start: TimeOfDay(8 * 60),
                end: TimeOfDay(17 * 60),
            },
        }
    }
}

/// A staff member's weekly teaching periods: no notifications and no replies expected (REQ-NOT-1, REQ-NOT-2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timetable {
    pub periods: Vec<WeeklySpan>,
}

impl Timetable {
    /// The same periods on each of `days` (the common shape of a primary timetable).
    pub fn same_each_day(days: &[Weekday], periods: &[DailySpan]) -> Self {
        let periods = days
            .iter()
            .flat_map(|&day| {
                periods.iter().map(move |p| WeeklySpan {
                    day,
                    start: p.start,
                    end: p.end,
                })
            })
            .collect();
        Timetable { periods }
    }
}

/// Replies are promised within a day unless the staff member says otherwise (REQ-MSG-4).
pub const DEFAULT_REPLY_WITHIN_HOURS: u16 = 24;

/// Everything that decides when a staff member is notified and when they reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffHours {
    /// The staff member's own IANA time zone; all their times are read in it (REQ-NOT-2).
    pub time_zone: Tz,
    pub quiet: QuietHours,
    pub teaching: Timetable,
    /// Explicit reply slots; when absent the reply window is derived (see `reply_window`).
    #[serde(default)]
    pub reply_slots: Option<Vec<WeeklySpan>>,
    /// The promise shown in the composer: "usually within N hours".
    pub usually_replies_within_hours: u16,
}

impl StaffHours {
    /// Defaults of REQ-NOT-1 in `time_zone`, no teaching periods.
    pub fn new(time_zone: Tz) -> Self {
        Self::following(&WorkingHours::default(), time_zone)
    }

    /// Defaults for a school with these working hours: quiet whenever it is closed (REQ-NOT-1).
    pub fn following(school: &WorkingHours, time_zone: Tz) -> Self {
        StaffHours {
            time_zone,
            quiet: QuietHours::outside(school),
            teaching: Timetable::default(),
            reply_slots: None,
            usually_replies_within_hours: DEFAULT_REPLY_WITHIN_HOURS,
        }
    }
}

/// A parent's time zone and optional quiet hours for non-urgent notifications (REQ-NOT-3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentHours {
    pub time_zone: Tz,
    /// `None`: the parent has not set quiet hours, every notification is delivered at once.
    #[serde(default)]
    pub quiet: Option<QuietHours>,
}

/// Parses an IANA zone name ("Europe/London") with a clear error.
pub fn parse_time_zone(name: &str) -> Result<Tz, NotifyError> {
    name.parse()
        .map_err(|_| NotifyError::UnknownTimeZone(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_of_day_reads_and_writes_hh_mm() {
        let t: TimeOfDay = "08:30".parse().unwrap();
        assert_eq!(t.minutes(), 510);
        assert_eq!(t.to_string(), "08:30");
        assert_eq!("24:00".parse::<TimeOfDay>().unwrap(), TimeOfDay::END_OF_DAY);
        for bad in [
            "24:01", "8:3", "08:60", "ab:cd", "0830", "", "-1:00", "123:00",
        ] {
            assert!(
                bad.parse::<TimeOfDay>().is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn empty_spans_are_rejected() {
        let t = |s: &str| s.parse::<TimeOfDay>().unwrap();
        assert!(DailySpan::new(t("08:00"), t("08:00")).is_err());
        assert!(DailySpan::new(t("00:00"), t("24:00")).is_ok());
        assert!(DailySpan::new(t("24:00"), t("08:00")).is_err());
        assert_eq!(
            DailySpan::new(t("17:00"), t("08:00"))
                .unwrap()
                .len_minutes(),
            15 * 60
        );
    }

    #[test]
    fn staff_hours_round_trip_through_json_with_zone_names() {
        let hours = StaffHours::new(chrono_tz::Europe::London);
        let json = serde_json::to_string(&hours).unwrap();
        assert!(json.contains("\"Europe/London\""), "{json}");
        assert!(json.contains("\"17:00\""), "{json}");
        let back: StaffHours = serde_json::from_str(&json).unwrap();
        assert_eq!(back, hours);
    }

    // REQ-NOT-1: the default working hours give exactly the staff default quiet hours.
    #[test]
    fn quiet_hours_outside_default_working_hours_are_the_staff_default() {
        assert_eq!(
            QuietHours::outside(&WorkingHours::default()),
            QuietHours::staff_default()
        );
        let t = |s: &str| s.parse::<TimeOfDay>().unwrap();
        let school = WorkingHours {
            days: vec![Weekday::Mon, Weekday::Tue],
            hours: DailySpan::new(t("07:30"), t("16:00")).unwrap(),
        };
        let q = QuietHours::outside(&school);
        assert_eq!(
            q.daily,
            Some(DailySpan::new(t("16:00"), t("07:30")).unwrap())
        );
        assert_eq!(q.whole_days.len(), 5);
        assert!(!q.whole_days.contains(&Weekday::Mon));
    }

    // REQ-NOT-1: bad working hours name the field at fault.
    #[test]
    fn working_hours_are_validated_field_by_field() {
        let t = |s: &str| s.parse::<TimeOfDay>().unwrap();
        assert!(WorkingHours::default().validate().is_ok());
        let mut w = WorkingHours::default();
        w.days.clear();
        assert_eq!(w.validate().unwrap_err().0, "days");
        let mut w = WorkingHours::default();
        w.days.push(Weekday::Mon);
        assert_eq!(w.validate().unwrap_err().0, "days");
        let mut w = WorkingHours {
            hours: DailySpan {
                start: t("17:00"),
                end: t("08:00"),
            },
            ..WorkingHours::default()
        };
        assert_eq!(w.validate().unwrap_err().0, "hours.end");
        w.hours = DailySpan {
            start: t("24:00"),
            end: t("08:00"),
        };
        assert_eq!(w.validate().unwrap_err().0, "hours.start");
    }

    #[test]
    fn unknown_time_zone_is_a_clear_error() {
        assert_eq!(
            parse_time_zone("Mars/Olympus").unwrap_err().to_string(),
            "unknown time zone \"Mars/Olympus\""
        );
        assert_eq!(
            parse_time_zone("Asia/Karachi").unwrap(),
            chrono_tz::Asia::Karachi
        );
    }
}
