//! Points reports across the FFI (REQ-PTS-4): pie-chart data the shells draw as they like.

use homeroom_protocol::reports::{Period, PointsReport};
use homeroom_protocol::skills::SkillKind;

use super::{HomeroomClient, HomeroomError};
use crate::error::CoreError;

/// One slice of the pie: a skill and what it contributed in the period.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReportSlice {
    pub skill_id: String,
    pub name: String,
    pub icon: String,
    /// Positive skill (true) or needs-work (false).
    pub positive: bool,
    pub category: String,
    pub count: u32,
    pub points: i64,
}

/// A pupil's points over a period.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PointsReportView {
    pub pupil_id: String,
    /// `day`, `week`, `fortnight`, `month` or `all_time`.
    pub period: String,
    /// First instant counted, Unix milliseconds; none for all time.
    pub from_unix_ms: Option<i64>,
    pub positive: i64,
    pub needs_work: i64,
    pub total: i64,
    pub awards: u32,
    pub slices: Vec<ReportSlice>,
    /// Progress per goal in the period (REQ-PTS-8).
    pub goals: Vec<super::GoalProgressView>,
}

fn to_view(r: PointsReport) -> PointsReportView {
    PointsReportView {
        pupil_id: r.pupil_id,
        period: r.period.name().to_owned(),
        from_unix_ms: r.from.map(|f| f.timestamp_millis()),
        positive: r.positive,
        needs_work: r.needs_work,
        total: r.total,
        awards: r.awards,
        slices: r
            .slices
            .into_iter()
            .map(|s| ReportSlice {
                skill_id: s.skill_id,
                name: s.name,
                icon: s.icon,
                positive: s.kind == SkillKind::Positive,
                category: s.category,
                count: s.count,
                points: s.points,
            })
            .collect(),
        goals: r.goals.into_iter().map(Into::into).collect(),
    }
}

#[uniffi::export]
impl HomeroomClient {
    /// A pupil's points report from the cache (works offline): pupils and parents see `day`,
    /// `week` and `fortnight`; staff also `month` and `all_time`. Others get `NotAllowed`.
    pub fn points_report(
        &self,
        pupil_id: String,
        period: String,
    ) -> Result<PointsReportView, HomeroomError> {
        let period = Period::parse(&period).ok_or_else(|| {
            CoreError::input("period", "one of day, week, fortnight, month, all_time")
        })?;
        Ok(to_view(self.inner.points_report(
            &pupil_id,
            period,
            chrono::Utc::now(),
        )?))
    }
}
