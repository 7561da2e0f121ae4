//! Points reports as pie-chart data (REQ-PTS-4): the same arithmetic on the device (from its
//! cache, offline) and on the server, so a parent and a teacher never see different numbers.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::access::{can, Action, Role, SchoolFacts, Target};
use crate::skills::SkillKind;
use crate::wire::{AwardRecord, SkillInfo};

/// The windows a report covers, in the school's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Since midnight today.
    Day,
    /// Since Monday 00:00 of this week.
    Week,
    /// Since Monday 00:00 of last week: this week and the one before.
    Fortnight,
    /// Since the first of this month.
    Month,
    /// Everything still kept (awards older than 12 months are gone: REQ-PTS-7).
    AllTime,
}

impl Period {
    pub const ALL: [Period; 5] = [
        Period::Day,
        Period::Week,
        Period::Fortnight,
        Period::Month,
        Period::AllTime,
    ];

    /// The access rule that guards reading this report (pupils and parents: day to fortnight).
    pub fn read_action(self) -> Action {
        match self {
            Period::Day => Action::ReadReportDay,
            Period::Week => Action::ReadReportWeek,
            Period::Fortnight => Action::ReadReportFortnight,
            Period::Month => Action::ReadReportMonth,
            Period::AllTime => Action::ReadReportAllTime,
        }
    }

    /// The rule that guards sharing it with the pupil's parents; only the long reports are shared
    /// (the short ones the family sees anyway).
    pub fn share_action(self) -> Option<Action> {
        match self {
            Period::Month => Some(Action::ShareReportMonth),
            Period::AllTime => Some(Action::ShareReportAllTime),
            _ => None,
        }
    }

    /// Parses the wire name (`day`, `week`, `fortnight`, `month`, `all_time`).
    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.name() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Fortnight => "fortnight",
            Period::Month => "month",
            Period::AllTime => "all_time",
        }
    }

    /// The first instant the report counts, or `None` for all time.
    pub fn start(self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let today = now.with_timezone(&tz).date_naive();
        let day = match self {
            Period::Day => today,
            Period::Week => today - Duration::days(today.weekday().num_days_from_monday().into()),
            Period::Fortnight => {
                today - Duration::days(i64::from(today.weekday().num_days_from_monday()) + 7)
            }
            Period::Month => today.with_day(1).unwrap_or(today),
            Period::AllTime => return None,
        };
        // Local midnight; on a day whose midnight is skipped (a DST gap) the first instant after.
        let midnight = day.and_time(NaiveTime::MIN);
        let local = tz.from_local_datetime(&midnight).earliest().or_else(|| {
            tz.from_local_datetime(&(midnight + Duration::hours(1)))
                .earliest()
        })?;
        Some(local.with_timezone(&Utc))
    }
}

/// One slice of the pie: a skill and what it contributed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSlice {
    pub skill_id: String,
    pub name: String,
    pub icon: String,
    pub kind: SkillKind,
    pub category: String,
    /// How many awards of this skill.
    pub count: u32,
    /// Their points (negative for needs-work skills).
    pub points: i64,
}

/// A pupil's points over a period, ready for a pie chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsReport {
    pub pupil_id: String,
    pub period: Period,
    /// The first instant counted; absent for all time.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    pub until: DateTime<Utc>,
    /// Points from positive skills.
    pub positive: i64,
    /// Points taken by needs-work skills, as a positive number.
    pub needs_work: i64,
    /// Positive minus needs-work.
    pub total: i64,
    /// Awards counted.
    pub awards: u32,
    /// Per skill, largest share first (ties by name), skills with no awards left out.
    pub slices: Vec<ReportSlice>,
    /// Progress towards each of the pupil's goals not archived, in the same period
    /// (REQ-PTS-8); empty for a reader who may not read the pupil's goals.
    #[serde(default)]
    pub goals: Vec<crate::goals::GoalProgress>,
}

impl PointsReport {
    /// Adds progress per goal over the report's own period, from the same awards, as `reader`
    /// may see it (REQ-PTS-8; points withheld per `goals::may_see_points`, REQ-PTS-5).
    pub fn with_goals(
        mut self,
        facts: &SchoolFacts,
        reader: &str,
        inputs: crate::goals::ProgressInputs<'_>,
    ) -> PointsReport {
        self.goals = crate::goals::progress_seen_by(
            facts,
            reader,
            &self.pupil_id,
            self.period,
            inputs,
            self.from,
            self.until,
        );
        self
    }
}

/// Builds `pupil`'s report for `period` at `now` from `awards` (any pupils; others are ignored)
/// and the school's `skills`. An award whose skill is unknown still counts, under its id.
pub fn build(
    pupil: &str,
    period: Period,
    now: DateTime<Utc>,
    tz: Tz,
    awards: &[AwardRecord],
    skills: &[SkillInfo],
) -> PointsReport {
    let from = period.start(now, tz);
    let by_id: BTreeMap<&str, &SkillInfo> = skills.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut slices: BTreeMap<&str, ReportSlice> = BTreeMap::new();
    let (mut positive, mut needs_work, mut count) = (0i64, 0i64, 0u32);
    for a in awards {
        if a.pupil_id != pupil || from.is_some_and(|f| a.awarded_at < f) || a.awarded_at > now {
            continue;
        }
        let skill = by_id.get(a.skill_id.as_str());
        let kind = skill.map_or(
            if a.points < 0 {
                SkillKind::NeedsWork
            } else {
                SkillKind::Positive
            },
            |s| s.kind,
        );
        let points = i64::from(a.points);
        if points < 0 {
            needs_work += -points;
        } else {
            positive += points;
        }
        count += 1;
        let slice = slices
            .entry(a.skill_id.as_str())
            .or_insert_with(|| ReportSlice {
                skill_id: a.skill_id.clone(),
                name: skill.map_or_else(|| a.skill_id.clone(), |s| s.name.clone()),
                icon: skill.map(|s| s.icon.clone()).unwrap_or_default(),
                kind,
                category: skill.map(|s| s.category.clone()).unwrap_or_default(),
                count: 0,
                points: 0,
            });
        slice.count += 1;
        slice.points += points;
    }
    let mut slices: Vec<ReportSlice> = slices.into_values().collect();
    slices.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    PointsReport {
        pupil_id: pupil.to_owned(),
        period,
        from,
        until: now,
        positive,
        needs_work,
        total: positive - needs_work,
        awards: count,
        slices,
        goals: Vec::new(),
    }
}

/// A month or all-time report a member of staff shared with the pupil's parents, as it was
/// when shared (REQ-PTS-4 "on request").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedReport {
    pub id: String,
    pub shared_by: String,
    pub shared_at: DateTime<Utc>,
    pub report: PointsReport,
}

/// Who reads the reports shared for `pupil`: staff who may read the long reports, and the pupil's
/// own parents while the pupil is at the school (REQ-PTS-4, ACC-5).
pub fn may_read_shared(facts: &SchoolFacts, user: &str, pupil: &str) -> bool {
    if can(
        facts,
        Some(user),
        Action::ReadReportMonth,
        &Target::Pupil(pupil),
    )
    .is_ok()
    {
        return true;
    }
    facts.pupils.get(pupil).is_some_and(|p| {
        p.class_id.is_some()
            && p.parent_ids.iter().any(|id| id == user)
            && facts
                .users
                .get(user)
                .is_some_and(|u| u.role == Role::Parent)
    })
}

/// `POST /v1/pupils/{id}/report-shares`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareReportRequest {
    pub period: Period,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;
    use uuid::Uuid;

    fn skill(id: &str, kind: SkillKind, weight: i32) -> SkillInfo {
        SkillInfo {
            id: id.into(),
            class_id: "classA".into(),
            name: id.into(),
            icon: "i".into(),
            weight,
            kind,
            category: "c".into(),
        }
    }

    fn award(pupil: &str, skill: &str, points: i32, at: &str) -> AwardRecord {
        AwardRecord {
            id: Uuid::new_v4(),
            pupil_id: pupil.into(),
            class_id: "classA".into(),
            skill_id: skill.into(),
            points,
            note: None,
            awarded_by: "tA".into(),
            awarded_at: at.parse().unwrap(),
        }
    }

    #[test]
    fn a_weeks_report_counts_this_week_only_with_a_slice_per_skill_pts4() {
        let skills = [
            skill("teamwork", SkillKind::Positive, 1),
            skill("off-task", SkillKind::NeedsWork, -1),
        ];
        // Wednesday 2026-11-25 10:00 London; the week began Monday 2026-11-23 00:00.
        let now: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
        let awards = [
            award("a1", "teamwork", 1, "2026-11-23T00:00:00Z"),
            award("a1", "teamwork", 1, "2026-11-24T09:00:00Z"),
            award("a1", "off-task", -1, "2026-11-24T11:00:00Z"),
            award("a1", "teamwork", 1, "2026-11-22T23:59:59Z"), // last Sunday
            award("a2", "teamwork", 1, "2026-11-24T09:00:00Z"), // another pupil
        ];
        let r = build("a1", Period::Week, now, London, &awards, &skills);
        assert_eq!((r.positive, r.needs_work, r.total, r.awards), (2, 1, 1, 3));
        assert_eq!(r.slices.len(), 2);
        assert_eq!(
            (r.slices[0].skill_id.as_str(), r.slices[0].count),
            ("teamwork", 2)
        );
        assert_eq!(
            (r.slices[1].kind, r.slices[1].points),
            (SkillKind::NeedsWork, -1)
        );
        let fortnight = build("a1", Period::Fortnight, now, London, &awards, &skills);
        assert_eq!(fortnight.awards, 4, "last Sunday is in the fortnight");
        let all = build("a1", Period::AllTime, now, London, &awards, &skills);
        assert_eq!((all.awards, all.from), (4, None));
    }

    #[test]
    fn periods_start_at_local_midnight_across_daylight_saving() {
        // Sunday 2026-10-25 is the day London leaves summer time; Monday 26th 00:00 is GMT.
        let now: DateTime<Utc> = "2026-10-28T12:00:00Z".parse().unwrap();
        assert_eq!(
            Period::Week.start(now, London).unwrap(),
            "2026-10-26T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            Period::Fortnight.start(now, London).unwrap(),
            "2026-10-18T23:00:00Z".parse::<DateTime<Utc>>().unwrap(),
            "Monday 19th 00:00 BST"
        );
        assert_eq!(
            Period::Month.start(now, London).unwrap(),
            "2026-09-30T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            Period::Day.start(now, London).unwrap(),
            "2026-10-28T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn period_names_round_trip_and_guard_the_right_rules() {
        for p in Period::ALL {
            assert_eq!(Period::parse(p.name()), Some(p));
        }
        assert_eq!(Period::parse("year"), None);
        assert_eq!(Period::Week.read_action(), Action::ReadReportWeek);
        assert_eq!(Period::Month.share_action(), Some(Action::ShareReportMonth));
        assert_eq!(Period::Day.share_action(), None);
    }
}
