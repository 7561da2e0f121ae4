//! Learning goals and EHCP outcomes across the FFI (REQ-PTS-8): typed records the shells show.

use homeroom_protocol::goals::{GoalKind, GoalLink, GoalProgress, GoalRecord};
use homeroom_protocol::reports::Period;
use uuid::Uuid;

use std::sync::Arc;

use super::{HomeroomClient, HomeroomError, Subscription};
use crate::error::CoreError;
use crate::views::ViewUpdate;

/// A learning goal the teacher set, or an outcome from the pupil's EHCP (SEN data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GoalType {
    LearningGoal,
    EhcpOutcome,
}

impl From<GoalKind> for GoalType {
    fn from(k: GoalKind) -> Self {
        match k {
            GoalKind::LearningGoal => GoalType::LearningGoal,
            GoalKind::EhcpOutcome => GoalType::EhcpOutcome,
        }
    }
}

impl From<GoalType> for GoalKind {
    fn from(k: GoalType) -> Self {
        match k {
            GoalType::LearningGoal => GoalKind::LearningGoal,
            GoalType::EhcpOutcome => GoalKind::EhcpOutcome,
        }
    }
}

/// One goal of a pupil, with what counts towards it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct GoalView {
    pub id: String,
    pub pupil_id: String,
    pub title: String,
    pub kind: GoalType,
    pub target: Option<u32>,
    pub archived: bool,
    pub created_at_unix_ms: i64,
    pub skill_ids: Vec<String>,
    pub portfolio_post_ids: Vec<String>,
}

impl From<GoalRecord> for GoalView {
    fn from(g: GoalRecord) -> Self {
        GoalView {
            id: g.id.to_string(),
            pupil_id: g.pupil_id,
            title: g.title,
            kind: g.kind.into(),
            target: g.target,
            archived: g.archived_at.is_some(),
            created_at_unix_ms: g.created_at.timestamp_millis(),
            skill_ids: g.skill_ids.into_iter().collect(),
            portfolio_post_ids: g.items.iter().map(|i| i.post_id.to_string()).collect(),
        }
    }
}

/// Progress towards one goal over a report period. The point fields are none (and
/// `points_hidden` true) where the reader may not see the pupil's points (REQ-PTS-5).
#[derive(Debug, Clone, uniffi::Record)]
pub struct GoalProgressView {
    pub goal_id: String,
    pub title: String,
    pub kind: GoalType,
    pub target: Option<u32>,
    /// Points of the linked skills' awards in the period.
    pub points: Option<i64>,
    pub awards: Option<u32>,
    /// Linked portfolio items posted in the period and still standing.
    pub portfolio_items: u32,
    /// Points plus portfolio items.
    pub progress: Option<i64>,
    /// 0 to 100 of the target; none without a target or with points hidden.
    pub percent: Option<u8>,
    /// The points are withheld from this reader: show the portfolio items only.
    pub points_hidden: bool,
}

impl From<GoalProgress> for GoalProgressView {
    fn from(p: GoalProgress) -> Self {
        GoalProgressView {
            goal_id: p.goal_id.to_string(),
            title: p.title,
            kind: p.kind.into(),
            target: p.target,
            points: p.points,
            awards: p.awards,
            portfolio_items: p.portfolio_items,
            progress: p.progress,
            percent: p.percent,
            points_hidden: p.points_hidden,
        }
    }
}

/// One message about a pupil's goals: the whole list first, then changes by goal id.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum GoalsUpdate {
    Snapshot {
        goals: Vec<GoalView>,
    },
    Changes {
        inserted: Vec<GoalView>,
        updated: Vec<GoalView>,
        removed: Vec<String>,
    },
}

/// Told about a pupil's goals (after a local goal edit or a sync). Implemented by the app;
/// called on a core thread, never while the core holds a lock, so it may call back into the core.
#[uniffi::export(with_foreign)]
pub trait GoalsListener: Send + Sync {
    fn on_goals_update(&self, pupil_id: String, update: GoalsUpdate);
}

fn parse_post_id(s: &str) -> Result<Uuid, CoreError> {
    s.parse()
        .map_err(|_| CoreError::input("post_id", "not a post id"))
}

#[uniffi::export]
impl HomeroomClient {
    /// Sets a pupil a goal (staff of the pupil's class; works offline). Returns its id.
    pub fn create_goal(
        &self,
        pupil_id: String,
        title: String,
        kind: GoalType,
        target: Option<u32>,
    ) -> Result<String, HomeroomError> {
        Ok(self
            .inner
            .create_goal(&pupil_id, &title, kind.into(), target)?)
    }

    /// A new title and target (none clears the target).
    pub fn update_goal(
        &self,
        goal_id: String,
        title: String,
        target: Option<u32>,
    ) -> Result<(), HomeroomError> {
        Ok(self.inner.update_goal(&goal_id, &title, target)?)
    }

    /// The goal leaves the report and takes no more edits.
    pub fn archive_goal(&self, goal_id: String) -> Result<(), HomeroomError> {
        Ok(self.inner.archive_goal(&goal_id)?)
    }

    /// Awards of this skill count towards the goal (`linked` false: no longer).
    pub fn link_goal_skill(
        &self,
        goal_id: String,
        skill_id: String,
        linked: bool,
    ) -> Result<(), HomeroomError> {
        Ok(self
            .inner
            .link_goal(&goal_id, GoalLink::Skill { skill_id }, linked)?)
    }

    /// This item of the pupil's portfolio counts towards the goal (`linked` false: no longer).
    pub fn link_goal_portfolio_item(
        &self,
        goal_id: String,
        post_id: String,
        linked: bool,
    ) -> Result<(), HomeroomError> {
        let link = GoalLink::PortfolioItem {
            post_id: parse_post_id(&post_id)?,
        };
        Ok(self.inner.link_goal(&goal_id, link, linked)?)
    }

    /// A pupil's goals, archived ones too (staff of the class, the pupil, their parents).
    pub fn goals(&self, pupil_id: String) -> Result<Vec<GoalView>, HomeroomError> {
        Ok(self
            .inner
            .goals_for(&pupil_id)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Subscribes `listener` to a pupil's goals: the snapshot at once, then changes after each
    /// local goal edit or sync. Keep the handle; cancelling or dropping it stops the listener.
    pub fn subscribe_goals(
        &self,
        pupil_id: String,
        listener: Arc<dyn GoalsListener>,
    ) -> Result<Arc<Subscription>, HomeroomError> {
        let pupil = pupil_id.clone();
        let id = self.inner.observe_goals(
            &pupil_id,
            Arc::new(move |update| {
                let message = match update.map(|g| GoalView::from(g.clone())) {
                    ViewUpdate::Snapshot(goals) => GoalsUpdate::Snapshot { goals },
                    ViewUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    } => GoalsUpdate::Changes {
                        inserted,
                        updated,
                        removed,
                    },
                };
                listener.on_goals_update(pupil.clone(), message);
            }),
        )?;
        Ok(Arc::new(Subscription {
            core: Arc::downgrade(&self.inner),
            id,
        }))
    }

    /// Progress per goal over a report period, from the cache (works offline), for whoever may
    /// read the pupil's goals; the points only where this person may see the pupil's points.
    pub fn goal_progress(
        &self,
        pupil_id: String,
        period: String,
    ) -> Result<Vec<GoalProgressView>, HomeroomError> {
        let period = Period::parse(&period).ok_or_else(|| {
            CoreError::input("period", "one of day, week, fortnight, month, all_time")
        })?;
        Ok(self
            .inner
            .goal_progress(&pupil_id, period, chrono::Utc::now())?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
