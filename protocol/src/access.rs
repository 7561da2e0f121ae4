//! Who may do what: the school's access rules as one pure function, shared by server and core
//! so the apps never offer what the server will refuse (REQ-ACC-7).
//!
//! The rules read only [`SchoolFacts`]: the server loads them from its database, the core from
//! the slice of the school it has synced. A fact the caller does not have is a "no": the
//! default is deny.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a person is in a school; decides which rules apply to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Head teacher or designated administrator.
    Admin,
    /// Senior leadership: co-teacher of every class.
    Leader,
    /// Class teacher.
    Teacher,
    /// Support staff or co-teacher of a class.
    Staff,
    /// Parent, foster parent or legal guardian.
    Parent,
    /// The child.
    Pupil,
}

impl Role {
    /// Staff roles are the ones that work in classes (REQ-ACC-6: leaders co-teach every class).
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::Leader | Role::Teacher | Role::Staff
        )
    }

    /// Leaders and admins see and manage the whole school.
    pub fn is_leadership(self) -> bool {
        matches!(self, Role::Admin | Role::Leader)
    }
}

/// Everything a person can ask to do; one variant per action of the access matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ReadPoints,
    AwardPoints,
    UndoAward,
    ReadReportDay,
    ReadReportWeek,
    ReadReportFortnight,
    ReadReportMonth,
    ReadReportAllTime,
    ShareReportMonth,
    ShareReportAllTime,
    ReadStory,
    PostStory,
    CommentStory,
    LikeStory,
    PostSchoolStory,
    ReadSchoolStory,
    ReadPortfolio,
    AddPortfolioItem,
    SubmitWork,
    ReadPendingWork,
    ApproveWork,
    CommentPortfolio,
    LikePortfolio,
    Message,
    ReadThreads,
    Announce,
    ReportMessage,
    WarnParent,
    RemoveParent,
    ReadConsent,
    WriteConsent,
    IssueParentCode,
    AddPupil,
    RemovePupil,
    ReadQuietHours,
    SetQuietHours,
    EnrolDevice,
    SendEmergency,
    ExportPupil,
    ErasePupil,
    /// Link a third (or later) parent to a pupil: "special circumstances" (REQ-ACC-3).
    ApproveParentLink,
    /// REQ-NOT-1: the school's working hours, which staff default hours follow.
    SetWorkingHours,
    /// REQ-PRV-5: the restricted safeguarding record.
    ReadSafeguarding,
    /// REQ-PTS-8: a pupil's learning goals and EHCP outcomes, with their progress.
    ReadGoals,
    /// REQ-PTS-8: create, edit, archive and link a pupil's goals.
    ManageGoals,
    /// REQ-ACC-1: a new class of the school.
    CreateClass,
}

impl Action {
    /// Every action, for exhaustive tests and tooling.
    pub const ALL: [Action; 46] = [
        Action::ReadPoints,
        Action::AwardPoints,
        Action::UndoAward,
        Action::ReadReportDay,
        Action::ReadReportWeek,
        Action::ReadReportFortnight,
        Action::ReadReportMonth,
        Action::ReadReportAllTime,
        Action::ShareReportMonth,
        Action::ShareReportAllTime,
        Action::ReadStory,
        Action::PostStory,
        Action::CommentStory,
        Action::LikeStory,
        Action::PostSchoolStory,
        Action::ReadSchoolStory,
        Action::ReadPortfolio,
        Action::AddPortfolioItem,
        Action::SubmitWork,
        Action::ReadPendingWork,
        Action::ApproveWork,
        Action::CommentPortfolio,
        Action::LikePortfolio,
        Action::Message,
        Action::ReadThreads,
        Action::Announce,
        Action::ReportMessage,
        Action::WarnParent,
        Action::RemoveParent,
        Action::ReadConsent,
        Action::WriteConsent,
        Action::IssueParentCode,
        Action::AddPupil,
        Action::RemovePupil,
        Action::ReadQuietHours,
        Action::SetQuietHours,
        Action::EnrolDevice,
        Action::SendEmergency,
        Action::ExportPupil,
        Action::ErasePupil,
        Action::ApproveParentLink,
        Action::SetWorkingHours,
        Action::ReadSafeguarding,
        Action::ReadGoals,
        Action::ManageGoals,
        Action::CreateClass,
    ];

    /// The snake_case name used in the access matrix and on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Action::ReadPoints => "read_points",
            Action::AwardPoints => "award_points",
            Action::UndoAward => "undo_award",
            Action::ReadReportDay => "read_report_day",
            Action::ReadReportWeek => "read_report_week",
            Action::ReadReportFortnight => "read_report_fortnight",
            Action::ReadReportMonth => "read_report_month",
            Action::ReadReportAllTime => "read_report_all_time",
            Action::ShareReportMonth => "share_report_month",
            Action::ShareReportAllTime => "share_report_all_time",
            Action::ReadStory => "read_story",
            Action::PostStory => "post_story",
            Action::CommentStory => "comment_story",
            Action::LikeStory => "like_story",
            Action::PostSchoolStory => "post_school_story",
            Action::ReadSchoolStory => "read_school_story",
            Action::ReadPortfolio => "read_portfolio",
            Action::AddPortfolioItem => "add_portfolio_item",
            Action::SubmitWork => "submit_work",
            Action::ReadPendingWork => "read_pending_work",
            Action::ApproveWork => "approve_work",
            Action::CommentPortfolio => "comment_portfolio",
            Action::LikePortfolio => "like_portfolio",
            Action::Message => "message",
            Action::ReadThreads => "read_threads",
            Action::Announce => "announce",
            Action::ReportMessage => "report_message",
            Action::WarnParent => "warn_parent",
            Action::RemoveParent => "remove_parent",
            Action::ReadConsent => "read_consent",
            Action::WriteConsent => "write_consent",
            Action::IssueParentCode => "issue_parent_code",
            Action::AddPupil => "add_pupil",
            Action::RemovePupil => "remove_pupil",
            Action::ReadQuietHours => "read_quiet_hours",
            Action::SetQuietHours => "set_quiet_hours",
            Action::EnrolDevice => "enrol_device",
            Action::SendEmergency => "send_emergency",
            Action::ExportPupil => "export_pupil",
            Action::ErasePupil => "erase_pupil",
            Action::ApproveParentLink => "approve_parent_link",
            Action::SetWorkingHours => "set_working_hours",
            Action::ReadSafeguarding => "read_safeguarding",
            Action::ReadGoals => "read_goals",
            Action::ManageGoals => "manage_goals",
            Action::CreateClass => "create_class",
        }
    }

    /// What kind of thing the action is aimed at, so a bare id can be typed.
    pub fn target_kind(self) -> TargetKind {
        use Action::*;
        match self {
            ReadStory | PostStory | CommentStory | LikeStory | Announce | AddPupil
            | RemovePupil => TargetKind::Class,
            PostSchoolStory | ReadSchoolStory | EnrolDevice | SendEmergency | SetWorkingHours
            | ReadSafeguarding | CreateClass => TargetKind::School,
            Message | ReadThreads | ReportMessage | WarnParent | RemoveParent | ReadQuietHours
            | SetQuietHours => TargetKind::User,
            _ => TargetKind::Pupil,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An action name that is not in the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action {0:?}")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// The kind of thing an action is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Pupil,
    Class,
    User,
    School,
}

/// What an action is aimed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    Pupil(&'a str),
    Class(&'a str),
    User(&'a str),
    School(&'a str),
}

impl<'a> Target<'a> {
    /// Types a bare id by the action's target kind (the access matrix names targets by id).
    pub fn for_action(action: Action, id: &'a str) -> Self {
        match action.target_kind() {
            TargetKind::Pupil => Target::Pupil(id),
            TargetKind::Class => Target::Class(id),
            TargetKind::User => Target::User(id),
            TargetKind::School => Target::School(id),
        }
    }
}

/// A person's account, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFacts {
    pub role: Role,
    pub school_id: String,
    /// For a pupil's own login: which pupil record it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pupil_id: Option<String>,
    /// Leaders removed this parent's messaging after repeated misuse (REQ-MSG-5).
    #[serde(default)]
    pub messaging_removed: bool,
}

/// A class, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassFacts {
    pub school_id: String,
    /// Class teachers: own the class (invite parents, add and remove pupils).
    pub teacher_ids: Vec<String>,
    /// Support staff and co-teachers: award points, post to the class.
    pub staff_ids: Vec<String>,
    /// The teacher's per-class choice to show points to parents (REQ-PTS-5).
    pub show_points_to_parents: bool,
}

/// A pupil, as far as the rules care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PupilFacts {
    pub school_id: String,
    /// The pupil's class; `None` once the pupil has left.
    pub class_id: Option<String>,
    /// Linked parents and guardians (REQ-ACC-3: at most two without admin approval).
    pub parent_ids: Vec<String>,
}

/// The facts the rules read. Whatever is missing counts as "no".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolFacts {
    pub users: BTreeMap<String, UserFacts>,
    pub classes: BTreeMap<String, ClassFacts>,
    pub pupils: BTreeMap<String, PupilFacts>,
}

/// Why a request was refused, in words an app can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum Denied {
    #[error("not signed in")]
    NotSignedIn,
    #[error("{0} is not known here")]
    UnknownTarget(String),
    #[error("pupils cannot use messaging")]
    PupilsHaveNoMessaging,
    #[error("messaging has been removed for this account")]
    MessagingRemoved,
    #[error("points for this class are not shown to parents")]
    PointsHiddenFromParents,
    #[error("not allowed to {0}")]
    NotAllowed(String),
}

/// The answer to "may this person do this?".
pub type Decision = Result<(), Denied>;

/// Decides whether `actor` (a user id, or `None` when nobody is signed in) may do `action`
/// to `target`, from `facts` alone (REQ-ACC-5, ACC-7).
pub fn can(
    facts: &SchoolFacts,
    actor: Option<&str>,
    action: Action,
    target: &Target<'_>,
) -> Decision {
    let actor_id = actor.ok_or(Denied::NotSignedIn)?;
    let who = facts
        .users
        .get(actor_id)
        .ok_or_else(|| Denied::UnknownTarget(actor_id.to_owned()))?;
    let ctx = Ctx {
        facts,
        id: actor_id,
        who,
    };
    let no = || Err(Denied::NotAllowed(action.name().replace('_', " ")));
    let allowed = match (action, target) {
        (_, Target::Pupil(p)) => {
            let pupil = ctx.pupil(p)?;
            return ctx.pupil_rule(action, p, pupil);
        }
        (_, Target::Class(c)) => {
            let class = ctx.class(c)?;
            ctx.class_rule(action, c, class)
        }
        (_, Target::User(u)) => return ctx.user_rule(action, u),
        (_, Target::School(s)) => {
            if *s != who.school_id {
                return Err(Denied::UnknownTarget((*s).to_owned()));
            }
            ctx.school_rule(action)
        }
    };
    if allowed {
        Ok(())
    } else {
        no()
    }
}

/// The actor and the facts, with the relations the rules are written in.
struct Ctx<'f> {
    facts: &'f SchoolFacts,
    id: &'f str,
    who: &'f UserFacts,
}

impl<'f> Ctx<'f> {
    fn pupil(&self, id: &str) -> Result<&'f PupilFacts, Denied> {
        self.facts
            .pupils
            .get(id)
            .filter(|p| p.school_id == self.who.school_id)
            .ok_or_else(|| Denied::UnknownTarget(id.to_owned()))
    }

    fn class(&self, id: &str) -> Result<&'f ClassFacts, Denied> {
        self.facts
            .classes
            .get(id)
            .filter(|c| c.school_id == self.who.school_id)
            .ok_or_else(|| Denied::UnknownTarget(id.to_owned()))
    }

    /// Class staff: its teachers and support staff, plus leaders and admins (REQ-ACC-6).
    fn is_class_staff(&self, class: &ClassFacts) -> bool {
        class.school_id == self.who.school_id
            && (self.who.role.is_leadership()
                || (self.who.role.is_staff()
                    && (class.teacher_ids.iter().any(|t| t == self.id)
                        || class.staff_ids.iter().any(|s| s == self.id))))
    }

    /// Owners of a class: its teachers, plus leaders and admins (REQ-ACC-1, ACC-2).
    fn is_class_owner(&self, class: &ClassFacts) -> bool {
        class.school_id == self.who.school_id
            && (self.who.role.is_leadership()
                || (self.who.role == Role::Teacher
                    && class.teacher_ids.iter().any(|t| t == self.id)))
    }

    fn is_leadership(&self) -> bool {
        self.who.role.is_leadership()
    }

    /// A pupil still in a class of this school (a pupil who left has no class).
    fn current_class(&self, pupil: &PupilFacts) -> Option<&'f ClassFacts> {
        let class_id = pupil.class_id.as_deref()?;
        self.facts
            .classes
            .get(class_id)
            .filter(|c| c.school_id == self.who.school_id)
    }

    fn is_self_pupil(&self, pupil_id: &str) -> bool {
        self.who.role == Role::Pupil && self.who.pupil_id.as_deref() == Some(pupil_id)
    }

    /// A linked parent of a pupil who is still at the school (REQ-ACC-5: removal revokes).
    fn is_parent_of(&self, pupil: &PupilFacts) -> bool {
        self.who.role == Role::Parent
            && pupil.class_id.is_some()
            && pupil.parent_ids.iter().any(|p| p == self.id)
    }

    /// Pupils of the school this actor is a parent of.
    fn children(&self) -> impl Iterator<Item = &'f PupilFacts> + '_ {
        self.facts
            .pupils
            .values()
            .filter(move |p| p.school_id == self.who.school_id && self.is_parent_of(p))
    }

    /// Whether the actor belongs to the school at all (a parent only through a current child).
    fn is_school_member(&self) -> bool {
        match self.who.role {
            Role::Parent => self.children().next().is_some(),
            Role::Pupil => self
                .who
                .pupil_id
                .as_deref()
                .and_then(|p| self.facts.pupils.get(p))
                .is_some_and(|p| p.school_id == self.who.school_id && p.class_id.is_some()),
            _ => true,
        }
    }

    fn pupil_rule(&self, action: Action, pupil_id: &str, pupil: &PupilFacts) -> Decision {
        use Action::*;
        let class = self.current_class(pupil);
        let staff = class.is_some_and(|c| self.is_class_staff(c));
        let owner = class.is_some_and(|c| self.is_class_owner(c));
        let own = self.is_self_pupil(pupil_id) && class.is_some();
        let parent = self.is_parent_of(pupil);
        let parent_sees_points = class.is_some_and(|c| c.show_points_to_parents);
        let allowed = match action {
            ReadPoints | ReadReportDay | ReadReportWeek | ReadReportFortnight => {
                if parent && !parent_sees_points && !staff {
                    return Err(Denied::PointsHiddenFromParents);
                }
                staff || own || parent
            }
            ReadReportMonth | ReadReportAllTime | ShareReportMonth | ShareReportAllTime => staff,
            AwardPoints | UndoAward | AddPortfolioItem | ApproveWork => staff,
            ReadPortfolio => staff || own || parent,
            // REQ-PTS-8: goals (EHCP outcomes among them) are for the pupil, their own family
            // and class staff only; staff set them. Not gated by PTS-5: a goal is not points —
            // the points counted towards it are (`goals::may_see_points`).
            ReadGoals => staff || own || parent,
            ManageGoals => staff,
            SubmitWork => own,
            ReadPendingWork => staff || own,
            CommentPortfolio | LikePortfolio => staff || parent,
            ReadConsent => staff || parent,
            WriteConsent | ExportPupil => self.is_leadership(),
            IssueParentCode => owner,
            // Erasure is for a pupil who has left (REQ-PRV-4), and for the admin alone.
            ErasePupil => self.who.role == Role::Admin && pupil.class_id.is_none(),
            // A third parent needs the admin (REQ-ACC-3), and a pupil still in a class.
            ApproveParentLink => self.who.role == Role::Admin && class.is_some(),
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Denied::NotAllowed(action.name().replace('_', " ")))
        }
    }

    fn class_rule(&self, action: Action, class_id: &str, class: &ClassFacts) -> bool {
        use Action::*;
        let staff = self.is_class_staff(class);
        let in_class = |p: &PupilFacts| p.class_id.as_deref() == Some(class_id);
        let pupil_here = self.who.role == Role::Pupil
            && self
                .who
                .pupil_id
                .as_deref()
                .and_then(|p| self.facts.pupils.get(p))
                .is_some_and(in_class);
        let parent_here = self.children().any(in_class);
        match action {
            ReadStory => staff || pupil_here || parent_here,
            PostStory => staff,
            CommentStory | LikeStory => staff || parent_here,
            Announce | AddPupil | RemovePupil => self.is_class_owner(class),
            _ => false,
        }
    }

    fn school_rule(&self, action: Action) -> bool {
        use Action::*;
        match action {
            ReadSchoolStory => self.is_school_member(),
            // REQ-NOT-4: only the admin breaks quiet hours; REQ-NOT-1: and sets the school's hours.
            PostSchoolStory | EnrolDevice | SendEmergency | SetWorkingHours => {
                self.who.role == Role::Admin
            }
            // REQ-PRV-5: the safeguarding record is for leaders only.
            ReadSafeguarding => self.is_leadership(),
            // REQ-ACC-1: teachers create classes (and teach them); the admin and leaders too.
            CreateClass => self.is_leadership() || self.who.role == Role::Teacher,
            _ => false,
        }
    }

    /// Whether a parent and a staff member share a class through the parent's child (REQ-MSG-1).
    fn shares_class(&self, parent_id: &str, staff_id: &str) -> bool {
        let (Some(parent), Some(staff)) = (
            self.facts.users.get(parent_id),
            self.facts.users.get(staff_id),
        ) else {
            return false;
        };
        if parent.role != Role::Parent
            || !staff.role.is_staff()
            || parent.school_id != self.who.school_id
            || staff.school_id != self.who.school_id
        {
            return false;
        }
        self.facts.pupils.values().any(|p| {
            p.school_id == self.who.school_id
                && p.parent_ids.iter().any(|x| x == parent_id)
                && p.class_id
                    .as_deref()
                    .and_then(|c| self.facts.classes.get(c))
                    .is_some_and(|c| {
                        staff.role.is_leadership()
                            || c.teacher_ids.iter().any(|t| t == staff_id)
                            || c.staff_ids.iter().any(|s| s == staff_id)
                    })
        })
    }

    fn user_rule(&self, action: Action, user_id: &str) -> Decision {
        use Action::*;
        let deny = || Err(Denied::NotAllowed(action.name().replace('_', " ")));
        let target = self
            .facts
            .users
            .get(user_id)
            .filter(|u| u.school_id == self.who.school_id)
            .ok_or_else(|| Denied::UnknownTarget(user_id.to_owned()))?;
        let may_message =
            |from: &str, to: &str| self.shares_class(from, to) || self.shares_class(to, from);
        match action {
            Message | ReportMessage | ReadThreads if self.who.role == Role::Pupil => {
                Err(Denied::PupilsHaveNoMessaging)
            }
            Message if self.who.messaging_removed => Err(Denied::MessagingRemoved),
            Message | ReportMessage => {
                if may_message(self.id, user_id) {
                    Ok(())
                } else {
                    deny()
                }
            }
            ReadThreads => {
                if self.id == user_id {
                    Ok(())
                } else {
                    deny()
                }
            }
            WarnParent | RemoveParent => {
                if self.is_leadership() && target.role == Role::Parent {
                    Ok(())
                } else {
                    deny()
                }
            }
            ReadQuietHours => {
                let ok = self.id == user_id
                    || (self.who.role.is_staff() && target.role.is_staff())
                    || may_message(self.id, user_id);
                if ok {
                    Ok(())
                } else {
                    deny()
                }
            }
            SetQuietHours => {
                if self.id == user_id {
                    Ok(())
                } else {
                    deny()
                }
            }
            _ => deny(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn on_pupil(who: &str, action: Action, pupil: &str) -> bool {
        can(&fixture::facts(), Some(who), action, &Target::Pupil(pupil)).is_ok()
    }

    // REQ-PTS-8, ACC-5: a pupil's goals (EHCP outcomes among them) are read by class staff and
    // leaders, the pupil and the pupil's own parents — by nobody else.
    #[test]
    fn only_class_staff_the_pupil_and_their_parents_read_goals() {
        for who in ["tA", "sA", "L", "H", "a1", "pa1"] {
            assert!(on_pupil(who, Action::ReadGoals, "a1"), "{who}");
        }
        for who in ["pa2", "a2", "pb1", "b1", "tB", "pa3", "X"] {
            assert!(!on_pupil(who, Action::ReadGoals, "a1"), "{who}");
        }
        // A pupil who left takes their goals out of everyone's reach, their parent's too.
        assert!(!on_pupil("pa3", Action::ReadGoals, "a3"));
        assert!(!on_pupil("tA", Action::ReadGoals, "a3"));
        assert_eq!(
            can(
                &fixture::facts(),
                None,
                Action::ReadGoals,
                &Target::Pupil("a1")
            ),
            Err(Denied::NotSignedIn)
        );
    }

    // REQ-PTS-8: staff of the pupil's class set and link goals; families and pupils read them.
    #[test]
    fn only_class_staff_manage_goals() {
        for who in ["tA", "sA", "L", "H"] {
            assert!(on_pupil(who, Action::ManageGoals, "a1"), "{who}");
        }
        for who in ["pa1", "a1", "pa2", "a2", "tB", "pb1", "X"] {
            assert!(!on_pupil(who, Action::ManageGoals, "a1"), "{who}");
        }
        assert!(on_pupil("tB", Action::ManageGoals, "b1"));
        assert!(!on_pupil("tA", Action::ManageGoals, "a3"), "a3 has left");
    }

    #[test]
    fn goal_action_names_round_trip() {
        for a in [Action::ReadGoals, Action::ManageGoals] {
            assert_eq!(a.name().parse::<Action>(), Ok(a));
            assert_eq!(a.target_kind(), TargetKind::Pupil);
        }
    }
}
