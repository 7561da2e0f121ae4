//! Learning goals and EHCP outcomes (REQ-PTS-8): what a goal is, how staff edit it, and the
//! progress arithmetic — shared so the device (offline) and the server report the same numbers.
//!
//! A goal's progress over a report period is the points of the pupil's awards whose skill is
//! linked to the goal, plus the number of linked portfolio items posted in the period that still
//! stand (a withdrawn item no longer counts); with a target it is also a percentage of that
//! target. Who sees the points part is decided here too ([`may_see_points`], REQ-PTS-5).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{can, Action, Decision, SchoolFacts, Target};
use crate::reports::Period;
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
///
/// The point fields (`points`, `awards`, `progress`, `percent`) are `None` when the reader may
/// not see the pupil's points for the period (REQ-PTS-5, see [`may_see_points`]); the linked
/// portfolio items always show to whoever may read the goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalProgress {
    pub goal_id: Uuid,
    pub title: String,
    pub kind: GoalKind,
    #[serde(default)]
    pub target: Option<u32>,
    /// Points of the period's awards whose skill is linked (needs-work skills count negative).
    #[serde(default)]
    pub points: Option<i64>,
    /// Awards counted.
    #[serde(default)]
    pub awards: Option<u32>,
    /// Linked portfolio items posted in the period and still standing (not withdrawn).
    pub portfolio_items: u32,
    /// Points plus portfolio items.
    #[serde(default)]
    pub progress: Option<i64>,
    /// Progress as a share of the target, 0 to 100; absent without a target or with points
    /// hidden (the share would give the points away).
    #[serde(default)]
    pub percent: Option<u8>,
    /// True when the point fields are withheld from this reader (REQ-PTS-5).
    #[serde(default)]
    pub points_hidden: bool,
}

impl GoalProgress {
    /// The same progress with everything that counts points taken out (REQ-PTS-5).
    pub fn without_points(self) -> GoalProgress {
        GoalProgress {
            points: None,
            awards: None,
            progress: None,
            percent: None,
            points_hidden: true,
            ..self
        }
    }
}

/// What goal progress is counted from: the goals, the awards still held (REQ-PTS-7), and the
/// ids of the pupil's portfolio posts that still stand — a linked item that was withdrawn
/// (consent changed, REQ-CON-4) or erased no longer counts, on the device as on the server.
#[derive(Debug, Clone, Copy)]
pub struct ProgressInputs<'a> {
    pub goals: &'a [GoalRecord],
    pub awards: &'a [AwardRecord],
    pub live_items: &'a BTreeSet<Uuid>,
}

/// Every portfolio post the goals link, once each (to ask which still stand).
pub fn linked_items(goals: &[GoalRecord]) -> BTreeSet<Uuid> {
    goals
        .iter()
        .flat_map(|g| g.items.iter().map(|i| i.post_id))
        .collect()
}

/// Progress of `pupil`'s goals that are not archived, oldest goal first, counting awards and
/// standing items from `from` (none: all kept, REQ-PTS-7) to `until`, points shown.
pub fn progress(
    pupil: &str,
    inputs: ProgressInputs<'_>,
    from: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
) -> Vec<GoalProgress> {
    let in_period = |t: DateTime<Utc>| from.is_none_or(|f| t >= f) && t <= until;
    let mut mine: Vec<&GoalRecord> = inputs
        .goals
        .iter()
        .filter(|g| g.pupil_id == pupil && g.archived_at.is_none())
        .collect();
    mine.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    mine.into_iter()
        .map(|g| {
            let counted = inputs.awards.iter().filter(|a| {
                a.pupil_id == pupil && g.skill_ids.contains(&a.skill_id) && in_period(a.awarded_at)
            });
            let (points, count) = counted.fold((0i64, 0u32), |(p, n), a| {
                (p + i64::from(a.points), n.saturating_add(1))
            });
            let items = g
                .items
                .iter()
                .filter(|i| inputs.live_items.contains(&i.post_id) && in_period(i.posted_at))
                .count();
            let items = u32::try_from(items).unwrap_or(u32::MAX);
            let progress = points + i64::from(items);
            GoalProgress {
                goal_id: g.id,
                title: g.title.clone(),
                kind: g.kind,
                target: g.target,
                points: Some(points),
                awards: Some(count),
                portfolio_items: items,
                progress: Some(progress),
                percent: g.target.map(|t| percent_of(progress, t)),
                points_hidden: false,
            }
        })
        .collect()
}

/// Whether `reader` sees the skill points counted towards `pupil`'s goals over `period`.
///
/// Decision (REQ-PTS-5 with PTS-8): a goal is about learning, not points, so whoever may read
/// the pupil's goals (class staff, the pupil, the pupil's own parents) always sees the titles,
/// the linked skills and the linked portfolio items and their count. The points per goal — and
/// the total and percentage, which would give them away — are exactly as visible as the pupil's
/// points report for the same period (PTS-4): staff always; the pupil always for their own, day
/// to fortnight, whatever the class setting; a parent day to fortnight and only where the class
/// shows points to parents. A parent of a class that hides points thus still follows the goals
/// through the portfolio, never through points.
pub fn may_see_points(facts: &SchoolFacts, reader: &str, pupil_id: &str, period: Period) -> bool {
    can(
        facts,
        Some(reader),
        period.read_action(),
        &Target::Pupil(pupil_id),
    )
    .is_ok()
}

/// Progress per goal over `period` (from `from` to `until`) as `reader` may see it: nothing for
/// a reader who may not read the pupil's goals, the point fields withheld per [`may_see_points`].
/// The server's report and the device's offline views both answer through this.
pub fn progress_seen_by(
    facts: &SchoolFacts,
    reader: &str,
    pupil: &str,
    period: Period,
    inputs: ProgressInputs<'_>,
    from: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
) -> Vec<GoalProgress> {
    if may_read(facts, reader, pupil).is_err() {
        return Vec::new();
    }
    let all = progress(pupil, inputs, from, until);
    if may_see_points(facts, reader, pupil, period) {
        all
    } else {
        all.into_iter().map(GoalProgress::without_points).collect()
    }
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

    /// Progress with every linked item standing.
    fn counted(
        goals: &[GoalRecord],
        awards: &[AwardRecord],
        from: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
    ) -> Vec<GoalProgress> {
        let live = linked_items(goals);
        let inputs = ProgressInputs {
            goals,
            awards,
            live_items: &live,
        };
        progress("a1", inputs, from, until)
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
        let p = counted(std::slice::from_ref(&g), &awards, from, until);
        assert_eq!(p.len(), 1);
        assert_eq!(
            (
                p[0].points,
                p[0].awards,
                p[0].portfolio_items,
                p[0].progress
            ),
            (Some(2), Some(2), 1, Some(3))
        );
        assert_eq!(p[0].percent, Some(75));
        let all = counted(std::slice::from_ref(&g), &awards, None, until);
        assert_eq!((all[0].progress, all[0].percent), (Some(4), Some(100)));
        // Unlinking the skill leaves the portfolio item.
        g.apply(&GoalEdit::Unlink { link: &teamwork }).unwrap();
        let p = counted(std::slice::from_ref(&g), &awards, from, until);
        assert_eq!((p[0].progress, p[0].percent), (Some(1), Some(25)));
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
        assert!(counted(&[g], &[], None, at("2026-11-25T00:00:00Z")).is_empty());
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
        let p = counted(&[g], &awards, None, at("2026-11-25T00:00:00Z"));
        assert_eq!((p[0].points, p[0].percent), (Some(-1), Some(0)));
    }

    #[test]
    fn a_withdrawn_linked_item_no_longer_counts_pts8_con4() {
        let mut g = goal("Show your working", Some(4));
        let posted = at("2026-11-24T10:00:00Z");
        let (kept, withdrawn) = (Uuid::from_u128(1), Uuid::from_u128(2));
        for post_id in [kept, withdrawn] {
            let link = GoalLink::PortfolioItem { post_id };
            g.apply(&GoalEdit::Link {
                link: &link,
                posted_at: posted,
            })
            .unwrap();
        }
        let until = at("2026-11-25T00:00:00Z");
        let goals = [g];
        let both = linked_items(&goals);
        assert_eq!(both.len(), 2);
        let standing: BTreeSet<Uuid> = [kept].into();
        let count = |live: &BTreeSet<Uuid>| {
            let inputs = ProgressInputs {
                goals: &goals,
                awards: &[],
                live_items: live,
            };
            let p = progress("a1", inputs, None, until);
            (p[0].portfolio_items, p[0].progress, p[0].percent)
        };
        assert_eq!(count(&both), (2, Some(2), Some(50)));
        assert_eq!(count(&standing), (1, Some(1), Some(25)));
        assert_eq!(count(&BTreeSet::new()), (0, Some(0), Some(0)));
    }

    /// Progress of `pupil`'s one goal (one linked skill, one linked item, one award) as `reader`
    /// sees it over `period`, from the shared fixture's facts.
    fn seen_by(reader: &str, pupil: &str, skill: &str, period: Period) -> GoalProgress {
        let facts = crate::fixture::facts();
        let mut g = GoalRecord::new(
            Uuid::new_v4(),
            pupil,
            "Asks for help",
            GoalKind::EhcpOutcome,
            Some(4),
            "staff",
            at("2026-11-01T09:00:00Z"),
        )
        .unwrap();
        let posted = at("2026-11-24T10:00:00Z");
        for link in [
            GoalLink::Skill {
                skill_id: skill.into(),
            },
            GoalLink::PortfolioItem {
                post_id: Uuid::from_u128(9),
            },
        ] {
            g.apply(&GoalEdit::Link {
                link: &link,
                posted_at: posted,
            })
            .unwrap();
        }
        let mut a = award(pupil, skill, 1, "2026-11-24T11:00:00Z");
        a.class_id = facts.pupils[pupil].class_id.clone().unwrap();
        let goals = [g];
        let live = linked_items(&goals);
        let inputs = ProgressInputs {
            goals: &goals,
            awards: std::slice::from_ref(&a),
            live_items: &live,
        };
        let until = at("2026-11-25T00:00:00Z");
        let mut p = progress_seen_by(&facts, reader, pupil, period, inputs, None, until);
        assert_eq!(p.len(), 1, "{reader} reads {pupil}'s goals");
        p.remove(0)
    }

    #[test]
    fn a_parent_sees_goal_points_only_where_the_class_shows_points_pts5_pts8() {
        // Class A shows points to parents; class B hides them (the shared fixture).
        let shown = seen_by("pa1", "a1", "classA-teamwork", Period::Week);
        assert!(!shown.points_hidden);
        assert_eq!(
            (shown.points, shown.progress, shown.percent),
            (Some(1), Some(2), Some(50))
        );
        let hidden = seen_by("pb1", "b1", "classB-teamwork", Period::Week);
        assert!(hidden.points_hidden, "{hidden:?}");
        assert_eq!(
            (
                hidden.points,
                hidden.awards,
                hidden.progress,
                hidden.percent
            ),
            (None, None, None, None),
            "neither the points nor a share that would reveal them"
        );
        assert_eq!(
            (hidden.title.as_str(), hidden.target, hidden.portfolio_items),
            ("Asks for help", Some(4), 1),
            "the goal and its portfolio items still show"
        );
        // The pupil always sees their own; staff always; a parent not beyond PTS-4's periods.
        for (who, pupil, skill) in [
            ("b1", "b1", "classB-teamwork"),
            ("tB", "b1", "classB-teamwork"),
            ("a1", "a1", "classA-teamwork"),
        ] {
            let p = seen_by(who, pupil, skill, Period::Week);
            assert_eq!(p.points, Some(1), "{who}");
        }
        assert_eq!(
            seen_by("tB", "b1", "classB-teamwork", Period::AllTime).points,
            Some(1)
        );
        assert!(seen_by("pa1", "a1", "classA-teamwork", Period::AllTime).points_hidden);
        let facts = crate::fixture::facts();
        assert!(!may_see_points(&facts, "pb1", "b1", Period::Day));
        assert!(may_see_points(&facts, "b1", "b1", Period::Fortnight));
    }

    #[test]
    fn a_stranger_sees_no_goal_progress_at_all_pts8() {
        let facts = crate::fixture::facts();
        let g = goal("Asks for help", None);
        let goals = [g];
        let live = linked_items(&goals);
        let inputs = ProgressInputs {
            goals: &goals,
            awards: &[],
            live_items: &live,
        };
        let until = at("2026-11-25T00:00:00Z");
        for who in ["pa2", "a2", "tB", "pb1"] {
            let p = progress_seen_by(&facts, who, "a1", Period::Week, inputs, None, until);
            assert!(p.is_empty(), "{who}");
        }
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
