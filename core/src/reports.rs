//! A pupil's points report from the device cache (REQ-PTS-4): works offline, counts what the
//! cache holds (retention-expired awards are already gone: PTS-7), with the server's arithmetic.

use chrono::{DateTime, Utc};
use homeroom_protocol::access::{can, Target};
use homeroom_protocol::goals::{self, GoalProgress, ProgressInputs};
use homeroom_protocol::notify::Tz;
use homeroom_protocol::reports::{self, Period, PointsReport};
use homeroom_protocol::wire::{AwardRecord, Directory};

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
        let tz = school_tz(&dir);
        let held = self.held_awards(pupil_id)?;
        // Progress per goal, for whoever may read the pupil's goals (REQ-PTS-8).
        let goals = self.readable_goals(&dir.facts, &session.me.user_id, pupil_id)?;
        let live_items = crate::store::goals::standing_items(&self.store.conn(), &goals)?;
        let inputs = ProgressInputs {
            goals: &goals,
            awards: &held,
            live_items: &live_items,
        };
        Ok(
            reports::build(pupil_id, period, now, tz, &held, &dir.skills).with_goals(
                &dir.facts,
                &session.me.user_id,
                inputs,
            ),
        )
    }

    /// REQ-PTS-8 with PTS-5: progress per goal over `period` as of `now`, from the cache (works
    /// offline), for whoever may read the pupil's goals — a parent of a class that hides points
    /// too, with the point fields withheld (`goals::may_see_points`, the server's rule).
    pub fn goal_progress(
        &self,
        pupil_id: &str,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<Vec<GoalProgress>, CoreError> {
        let r = self.goal_progress_inner(pupil_id, period, now);
        self.checked(r)
    }

    fn goal_progress_inner(
        &self,
        pupil_id: &str,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<Vec<GoalProgress>, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self.directory_arc()?.ok_or(CoreError::NotSignedIn)?;
        let me = session.me.user_id.as_str();
        goals::may_read(&dir.facts, me, pupil_id)?;
        let goals = self.readable_goals(&dir.facts, me, pupil_id)?;
        let live_items = crate::store::goals::standing_items(&self.store.conn(), &goals)?;
        // A reader who may not see the points holds none of them: nothing to count.
        let held = if goals::may_see_points(&dir.facts, me, pupil_id, period) {
            self.held_awards(pupil_id)?
        } else {
            Vec::new()
        };
        let inputs = ProgressInputs {
            goals: &goals,
            awards: &held,
            live_items: &live_items,
        };
        let from = period.start(now, school_tz(&dir));
        Ok(goals::progress_seen_by(
            &dir.facts, me, pupil_id, period, inputs, from, now,
        ))
    }

    /// The pupil's awards this device holds (retention-expired ones are gone: PTS-7).
    fn held_awards(&self, pupil_id: &str) -> Result<Vec<AwardRecord>, CoreError> {
        Ok(
            awards::for_pupil(&self.store.conn(), self.store.sealer(), pupil_id)?
                .into_iter()
                .map(|a| a.record)
                .collect(),
        )
    }
}

/// The school's time zone, which the report periods start in (London if unknown).
fn school_tz(dir: &Directory) -> Tz {
    dir.time_zone
        .as_deref()
        .and_then(|z| z.parse::<Tz>().ok())
        .unwrap_or(Tz::Europe__London)
}
