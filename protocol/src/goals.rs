//! Learning goals and EHCP outcomes (REQ-PTS-8): what a goal is, how staff edit it, and the
//! progress arithmetic — shared so the device (offline) and the server report the same numbers.
//!
//! A goal's progress over a report period is the points of the pupil's awards whose skill is
//! linked to the goal, plus the number of linked portfolio items posted in the period; with a
//! target it is also a percentage of that target.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{can, Action, Decision, SchoolFacts, Target};
use crate::wire::AwardRecord;

/// Longest goal title, in characters (an EHCP outcome is a sentence, not a plan).
pub const MAX_GOAL_TITLE_CHARS: usize = 200;
/// Largest target a goal may set, in progress units (points plus portfolio items).
pub const MAX_GOAL_TARGET: u32 = 10_000;
/// Most skills one goal may link.
pub const MAX_GOAL_SKILLS: usize = 50;
/// Most portfolio items one goal may link.
pub const MAX_GOAL_ITEMS: usize = 500;

/// What kind of goal it is; an EHCP outcome is special educational needs data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalKind {
    /// A learning goal the class teacher set.
    LearningGoal,
    /// An outcome from the pupil's Education, Health and Care Plan.
    EhcpOutcome,
}

impl GoalKind {
    /// The wire name (`learning_goal`, `ehcp_outcome`).
    pub fn name(self) -> &'static str {
        match self {
            GoalKind::LearningGoal => "learning_goal",
            GoalKind::EhcpOutcome => "ehcp_outcome",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<GoalKind> {
        [GoalKind::LearningGoal, GoalKind::EhcpOutcome]
            .into_iter()
            .find(|k| k.name() == s)
    }
}

/// A portfolio item linked to a goal, with when it was posted (so periods can count it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LinkedItem {
    pub post_id: Uuid,
    pub posted_at: DateTime<Utc>,
}

/// One goal as the server holds it and devices cache it: a full snapshot each time it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalRecord {
    pub id: Uuid,
    pub pupil_id: String,
    pub title: String,
    /// `goal_kind` on the wire: `kind` names the change a record travels in.
    #[serde(rename = "goal_kind")]
    pub kind: GoalKind,
    #[serde(default)]
    pub target: Option<u32>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub archived_at: Option<DateTime<Utc>>,
    /// Skills whose awards count towards the goal.
    #[serde(default)]
    pub skill_ids: BTreeSet<String>,
    /// Portfolio items that count towards the goal, oldest link first.
    #[serde(default)]
    pub items: Vec<LinkedItem>,
}

/// What a goal link points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GoalLink {
    /// A skill of the pupil's class.
    Skill { skill_id: String },
    /// A post of the pupil's own portfolio.
    PortfolioItem { post_id: Uuid },
}

/// A change staff make to an existing goal (the write ops carry these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoalEdit<'a> {
    /// New title and target (`None` clears the target).
    Update {
        title: &'a str,
        target: Option<u32>,
    },
    Archive {
        at: DateTime<Utc>,
    },
    /// Link a skill, or a portfolio item posted at the given time.
    Link {
        link: &'a GoalLink,
        posted_at: DateTime<Utc>,
    },
    Unlink {
        link: &'a GoalLink,
    },
}

/// Why a goal or a goal edit is refused; the same words on device and server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoalError {
    #[error("a goal needs a title")]
    EmptyTitle,
    #[error("a goal title is at most {MAX_GOAL_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("a target is between 1 and {MAX_GOAL_TARGET}")]
    BadTarget,
    #[error("the goal is archived")]
    Archived,
    #[error("a goal links at most {MAX_GOAL_SKILLS} skills and {MAX_GOAL_ITEMS} portfolio items")]
    TooManyLinks,
}

impl GoalError {
    /// The refusal as a push reason: the field, then the words.
    pub fn reason(&self) -> String {
        format!("{}: {self}", self.field())
    }

    /// The request field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            GoalError::EmptyTitle | GoalError::TitleTooLong => "title",
            GoalError::BadTarget => "target",
            GoalError::Archived => "goal_id",
            GoalError::TooManyLinks => "link",
        }
    }
}

/// Checks a title and target before anyone stores them; returns the title trimmed.
pub fn validate(title: &str, target: Option<u32>) -> Result<String, GoalError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(GoalError::EmptyTitle);
    }
    if title.chars().count() > MAX_GOAL_TITLE_CHARS {
        return Err(GoalError::TitleTooLong);
    }
    if target.is_some_and(|t| t == 0 || t > MAX_GOAL_TARGET) {
        return Err(GoalError::BadTarget);
    }
    Ok(title.to_owned())
}

impl GoalRecord {
    /// A new goal, validated.
    pub fn new(
        id: Uuid,
        pupil_id: &str,
        title: &str,
        kind: GoalKind,
        target: Option<u32>,
        created_by: &str,
        created_at: DateTime<Utc>,
    ) -> Result<GoalRecord, GoalError> {
        Ok(GoalRecord {
            id,
            pupil_id: pupil_id.to_owned(),
            title: validate(title, target)?,
            kind,
            target,
            created_by: created_by.to_owned(),
            created_at,
            archived_at: None,
            skill_ids: BTreeSet::new(),
            items: Vec::new(),
        })
    }

    /// Applies an edit; an archived goal takes none (archiving twice is a no-op). Linking what
    /// is linked already, or unlinking what is not, changes nothing.
    pub fn apply(&mut self, edit: &GoalEdit<'_>) -> Result<(), GoalError> {
        if self.archived_at.is_some() {
            return match edit {
                GoalEdit::Archive { .. } => Ok(()),
                _ => Err(GoalError::Archived),
            };
        }
        match edit {
            GoalEdit::Update { title, target } => {
                self.title = validate(title, *target)?;
                self.target = *target;
            }
            GoalEdit::Archive { at } => self.archived_at = Some(*at),
            GoalEdit::Link {
                link: GoalLink::Skill { skill_id },
                ..
            } => {
                if !self.skill_ids.contains(skill_id) {
                    if self.skill_ids.len() >= MAX_GOAL_SKILLS {
                        return Err(GoalError::TooManyLinks);
                    }
                    self.skill_ids.insert(skill_id.clone());
                }
            }
            GoalEdit::Link {
                link: GoalLink::PortfolioItem { post_id },
                posted_at,
            } => {
                if !self.items.iter().any(|i| i.post_id == *post_id) {
                    if self.items.len() >= MAX_GOAL_ITEMS {
                        return Err(GoalError::TooManyLinks);
                    }
                    self.items.push(LinkedItem {
                        post_id: *post_id,
                        posted_at: *posted_at,
                    });
                }
            }
            GoalEdit::Unlink {
                link: GoalLink::Skill { skill_id },
            } => {
                self.skill_ids.remove(skill_id);
            }
            GoalEdit::Unlink {
                link: GoalLink::PortfolioItem { post_id },
            } => self.items.retain(|i| i.post_id != *post_id),
        }
        Ok(())
    }
}

/// Who reads a pupil's goals: class staff, the pupil, the pupil's own parents — nobody else,
/// whatever the kind (an EHCP outcome is SEN data: REQ-PTS-8, ACC-5).
pub fn may_read(facts: &SchoolFacts, user: &str, pupil_id: &str) -> Decision {
    can(
        facts,
        Some(user),
        Action::ReadGoals,
        &Target::Pupil(pupil_id),
    )
}

/// Who creates, edits, archives and links a pupil's goals: staff of the pupil's class.
pub fn may_manage(facts: &SchoolFacts, user: &str, pupil_id: &str) -> Decision {
    can(
        facts,
        Some(user),
        Action::ManageGoals,
        &Target::Pupil(pupil_id),
    )
}

/// Progress towards one goal over a report period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalProgress {
    pub goal_id: Uuid,
    pub title: String,
    pub kind: GoalKind,
    #[serde(default)]
    pub target: Option<u32>,
    /// Points of the period's awards whose skill is linked (needs-work skills count negative).
    pub points: i64,
    /// Awards counted.
    pub awards: u32,
    /// Linked portfolio items posted in the period.
    pub portfolio_items: u32,
    /// Points plus portfolio items.
    pub progress: i64,
    /// Progress as a share of the target, 0 to 100; absent without a target.
    #[serde(default)]
    pub percent: Option<u8>,
}

/// Progress of `pupil`'s goals that are not archived, oldest goal first, counting awards and
/// items from `from` (none: all kept, REQ-PTS-7) to `until`. Only awards given remain to count.
pub fn progress(
    pupil: &str,
    goals: &[GoalRecord],
    awards: &[AwardRecord],
    from: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
) -> Vec<GoalProgress> {
    let in_period = |t: DateTime<Utc>| from.is_none_or(|f| t >= f) && t <= until;
    let mut mine: Vec<&GoalRecord> = goals
        .iter()
        .filter(|g| g.pupil_id == pupil && g.archived_at.is_none())
        .collect();
    mine.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    mine.into_iter()
        .map(|g| {
            let counted = awards.iter().filter(|a| {
                a.pupil_id == pupil && g.skill_ids.contains(&a.skill_id) && in_period(a.awarded_at)
            });
            let (points, count) = counted.fold((0i64, 0u32), |(p, n), a| {
                (p + i64::from(a.points), n.saturating_add(1))
            });
            let items = g.items.iter().filter(|i| in_period(i.posted_at)).count();
            let items = u32::try_from(items).unwrap_or(u32::MAX);
            let progress = points + i64::from(items);
            GoalProgress {
                goal_id: g.id,
                title: g.title.clone(),
                kind: g.kind,
                target: g.target,
                points,
                awards: count,
                portfolio_items: items,
                progress,
                percent: g.target.map(|t| percent_of(progress, t)),
            }
        })
        .collect()
}

/// `progress` as a whole percentage of `target`, floored, held to 0..=100.
pub fn percent_of(progress: i64, target: u32) -> u8 {
    if target == 0 {
        return 0;
    }
    let p = progress.clamp(0, i64::from(target)) * 100 / i64::from(target);
    u8::try_from(p).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn award(pupil: &str, skill: &str, points: i32, when: &str) -> AwardRecord {
        AwardRecord {
            id: Uuid::new_v4(),
            pupil_id: pupil.into(),
            class_id: "classA".into(),
            skill_id: skill.into(),
            points,
            note: None,
            awarded_by: "tA".into(),
            awarded_at: at(when),
        }
    }

    fn goal(title: &str, target: Option<u32>) -> GoalRecord {
        GoalRecord::new(
            Uuid::new_v4(),
            "a1",
            title,
            GoalKind::LearningGoal,
            target,
            "tA",
            at("2026-11-01T09:00:00Z"),
        )
        .unwrap()
    }

    #[test]
    fn titles_must_be_present_and_bounded_pts8() {
        assert_eq!(validate("  ", None), Err(GoalError::EmptyTitle));
        let long = "x".repeat(MAX_GOAL_TITLE_CHARS + 1);
        assert_eq!(validate(&long, None), Err(GoalError::TitleTooLong));
        assert_eq!(validate("Read aloud", Some(0)), Err(GoalError::BadTarget));
        assert_eq!(
            validate("Read aloud", Some(MAX_GOAL_TARGET + 1)),
            Err(GoalError::BadTarget)
        );
        assert_eq!(validate("  Read aloud ", Some(10)).unwrap(), "Read aloud");
        assert_eq!(GoalError::TitleTooLong.field(), "title");
    }

    #[test]
    fn progress_counts_linked_skills_and_items_in_the_period_pts8() {
        let mut g = goal("Work with others", Some(4));
        let teamwork = GoalLink::Skill {
            skill_id: "teamwork".into(),
        };
        let item = GoalLink::PortfolioItem {
            post_id: Uuid::from_u128(7),
        };
        let posted = at("2026-11-24T10:00:00Z");
        g.apply(&GoalEdit::Link {
            link: &teamwork,
            posted_at: posted,
        })
        .unwrap();
        g.apply(&GoalEdit::Link {
            link: &item,
            posted_at: posted,
        })
        .unwrap();
        // Linking twice counts once.
        g.apply(&GoalEdit::Link {
            link: &item,
            posted_at: posted,
        })
        .unwrap();
        let awards = [
            award("a1", "teamwork", 1, "2026-11-24T09:00:00Z"),
            award("a1", "teamwork", 1, "2026-11-25T09:00:00Z"),
            award("a1", "hard-work", 1, "2026-11-25T09:00:00Z"), // not linked
            award("a2", "teamwork", 1, "2026-11-25T09:00:00Z"),  // another pupil
            award("a1", "teamwork", 1, "2026-11-10T09:00:00Z"),  // before the period
        ];
        let from = Some(at("2026-11-23T00:00:00Z"));
        let until = at("2026-11-25T12:00:00Z");
        let p = progress("a1", std::slice::from_ref(&g), &awards, from, until);
        assert_eq!(p.len(), 1);
        assert_eq!(
            (
                p[0].points,
                p[0].awards,
                p[0].portfolio_items,
                p[0].progress
            ),
            (2, 2, 1, 3)
        );
        assert_eq!(p[0].percent, Some(75));
        let all = progress("a1", std::slice::from_ref(&g), &awards, None, until);
        assert_eq!((all[0].progress, all[0].percent), (4, Some(100)));
        // Unlinking the skill leaves the portfolio item.
        g.apply(&GoalEdit::Unlink { link: &teamwork }).unwrap();
        let p = progress("a1", std::slice::from_ref(&g), &awards, from, until);
        assert_eq!((p[0].progress, p[0].percent), (1, Some(25)));
    }

    #[test]
    fn archived_goals_take_no_edits_and_leave_the_report_pts8() {
        let mut g = goal("Sit for a story", None);
        g.apply(&GoalEdit::Archive {
            at: at("2026-11-20T09:00:00Z"),
        })
        .unwrap();
        assert_eq!(
            g.apply(&GoalEdit::Update {
                title: "x",
                target: None
            }),
            Err(GoalError::Archived)
        );
        assert!(g
            .apply(&GoalEdit::Archive {
                at: at("2026-11-21T09:00:00Z")
            })
            .is_ok());
        assert!(progress("a1", &[g], &[], None, at("2026-11-25T00:00:00Z")).is_empty());
    }

    #[test]
    fn needs_work_points_lower_progress_but_the_percentage_stays_in_range() {
        assert_eq!(percent_of(-3, 10), 0);
        assert_eq!(percent_of(25, 10), 100);
        assert_eq!(percent_of(1, 3), 33);
        let mut g = goal("Stay on task", Some(10));
        let off = GoalLink::Skill {
            skill_id: "off-task".into(),
        };
        g.apply(&GoalEdit::Link {
            link: &off,
            posted_at: at("2026-11-01T00:00:00Z"),
        })
        .unwrap();
        let awards = [award("a1", "off-task", -1, "2026-11-24T09:00:00Z")];
        let p = progress("a1", &[g], &awards, None, at("2026-11-25T00:00:00Z"));
        assert_eq!((p[0].points, p[0].percent), (-1, Some(0)));
    }

    #[test]
    fn a_goal_travels_in_a_change_and_back() {
        let g = goal("Read aloud", Some(3));
        let change = crate::wire::Change::Goal(g.clone());
        let text = serde_json::to_string(&change).unwrap();
        assert_eq!(
            serde_json::from_str::<crate::wire::Change>(&text).unwrap(),
            change
        );
    }

    #[test]
    fn goal_kinds_round_trip() {
        for k in [GoalKind::LearningGoal, GoalKind::EhcpOutcome] {
            assert_eq!(GoalKind::parse(k.name()), Some(k));
        }
        assert_eq!(GoalKind::parse("wish"), None);
    }
}
