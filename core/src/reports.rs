//! A pupil's points report from the device cache (REQ-PTS-4): works offline, counts what the
//! cache holds (retention-expired awards are already gone: PTS-7), with the server's arithmetic.

use chrono::{DateTime, Utc};
use homeroom_protocol::access::{can, Target};
use homeroom_protocol::notify::Tz;
use homeroom_protocol::reports::{self, Period, PointsReport};
use homeroom_protocol::wire::AwardRecord;

use crate::error::CoreError;
use crate::homeroom::Homeroom;
use crate::store::awards;

impl Homeroom {
    /// `pupil_id`'s report for `period` as of `now`, if this person may read it: pupils and
    /// parents up to a fortnight, staff everything.
    pub fn points_report(
        &self,
        pupil_id: &str,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<PointsReport, CoreError> {
        let r = self.points_report_inner(pupil_id, period, now);
        self.checked(r)
    }

    fn points_report_inner(
        &self,
        pupil_id: &str,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<PointsReport, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self.directory_arc()?.ok_or(CoreError::NotSignedIn)?;
        can(
            &dir.facts,
            Some(&session.me.user_id),
            period.read_action(),
            &Target::Pupil(pupil_id),
        )?;
        let tz = dir
            .time_zone
            .as_deref()
            .and_then(|z| z.parse::<Tz>().ok())
            .unwrap_or(Tz::Europe__London);
        let held: Vec<AwardRecord> =
            awards::for_pupil(&self.store.conn(), self.store.sealer(), pupil_id)?
                .into_iter()
                .map(|a| a.record)
                .collect();
        // Progress per goal, for whoever may read the pupil's goals (REQ-PTS-8).
        let goals = if homeroom_protocol::goals::may_read(&dir.facts, &session.me.user_id, pupil_id)
            .is_ok()
        {
            crate::goals::view(
                &self.store.conn(),
                self.store.sealer(),
                &session.me.user_id,
                pupil_id,
            )?
        } else {
            Vec::new()
        };
        Ok(reports::build(pupil_id, period, now, tz, &held, &dir.skills).with_goals(&goals, &held))
    }
}
