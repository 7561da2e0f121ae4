//! Learning goals and EHCP outcomes on the device (REQ-PTS-8): staff set and link them offline
//! through the outbox; everyone who may read them sees the server's record with their own unsent
//! edits laid on top, so a refused edit simply disappears when the outbox entry goes.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use homeroom_protocol::access::SchoolFacts;
use homeroom_protocol::goals::{self, GoalEdit, GoalError, GoalKind, GoalLink, GoalRecord};
use homeroom_protocol::posts::Audience;
use homeroom_protocol::wire::{ClientWrite, Directory, WriteOp};
use rusqlite::Connection;
use uuid::Uuid;

use crate::error::{CoreError, StorageContext};
use crate::homeroom::Homeroom;
use crate::store::seal::Sealer;
use crate::store::{goals as stored, outbox, posts};
use crate::views::{Delivery, Differ, Keyed, ViewUpdate};

/// Told about a pupil's goals: the snapshot first, then changes by goal id (issue 4 §4).
pub type GoalsObserver = Arc<dyn Fn(ViewUpdate<GoalRecord>) + Send + Sync>;

impl Keyed for GoalRecord {
    fn key(&self) -> String {
        self.id.to_string()
    }
}

/// One subscription to one pupil's goals.
struct GoalsSub {
    id: u64,
    pupil_id: String,
    observer: GoalsObserver,
    differ: Mutex<Differ<GoalRecord>>,
    delivery: Delivery<ViewUpdate<GoalRecord>>,
}

/// The goals subscriptions of one core.
#[derive(Default)]
pub struct GoalObservers {
    subs: Mutex<Vec<Arc<GoalsSub>>>,
}

impl GoalObservers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<GoalsSub>>> {
        self.subs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops the subscription `id`, if it is one of these.
    pub fn remove(&self, id: u64) {
        self.lock().retain(|s| s.id != id);
    }
}

/// Why a goal write cannot apply to the goals a device holds.
#[derive(Debug)]
pub(crate) enum Unapplied {
    Goal(GoalError),
    NoSuchGoal,
    Exists,
}

impl From<Unapplied> for CoreError {
    fn from(u: Unapplied) -> Self {
        match u {
            Unapplied::Goal(e) => CoreError::input(e.field(), e.to_string()),
            Unapplied::NoSuchGoal => CoreError::input("goal_id", "no such goal here"),
            Unapplied::Exists => CoreError::input("goal_id", "a goal with this id exists"),
        }
    }
}

/// When a linked portfolio item was posted, from the cache (the server sets the true time).
fn posted_at(conn: &Connection, sealer: &Sealer, post_id: &Uuid) -> DateTime<Utc> {
    posts::get(conn, sealer, &post_id.to_string())
        .ok()
        .flatten()
        .map_or_else(Utc::now, |p| p.record.posted_at)
}

/// Applies one goal write to `goals` as the server would, given who wrote it and when.
pub(crate) fn apply_op(
    conn: &Connection,
    sealer: &Sealer,
    goals: &mut Vec<GoalRecord>,
    op: &WriteOp,
    author: &str,
    now: DateTime<Utc>,
) -> Result<(), Unapplied> {
    if let WriteOp::CreateGoal {
        goal_id,
        pupil_id,
        title,
        kind,
        target,
    } = op
    {
        if goals.iter().any(|g| g.id == *goal_id) {
            return Err(Unapplied::Exists);
        }
        let goal = GoalRecord::new(*goal_id, pupil_id, title, *kind, *target, author, now)
            .map_err(Unapplied::Goal)?;
        goals.push(goal);
        return Ok(());
    }
    let Some(id) = op.goal_id() else {
        return Ok(());
    };
    let goal = goals
        .iter_mut()
        .find(|g| g.id == id)
        .ok_or(Unapplied::NoSuchGoal)?;
    let edit = match op {
        WriteOp::UpdateGoal { title, target, .. } => GoalEdit::Update {
            title,
            target: *target,
        },
        WriteOp::ArchiveGoal { .. } => GoalEdit::Archive { at: now },
        WriteOp::LinkGoal { link, .. } => GoalEdit::Link {
            link,
            posted_at: match link {
                GoalLink::PortfolioItem { post_id } => posted_at(conn, sealer, post_id),
                GoalLink::Skill { .. } => now,
            },
        },
        WriteOp::UnlinkGoal { link, .. } => GoalEdit::Unlink { link },
        _ => return Ok(()),
    };
    goal.apply(&edit).map_err(Unapplied::Goal)
}

/// `pupil_id`'s goals as this device shows them: the server's records, then every unsent goal
/// write in order (one the server will refuse is skipped, as the server skips it).
pub(crate) fn view(
    conn: &Connection,
    sealer: &Sealer,
    me: &str,
    pupil_id: &str,
) -> Result<Vec<GoalRecord>, CoreError> {
    let mut goals = stored::for_pupil(conn, sealer, pupil_id)?;
    let now = Utc::now();
    for write in outbox::all(conn, sealer)? {
        let ours = match &write.op {
            WriteOp::CreateGoal { pupil_id: p, .. } => p == pupil_id,
            op => op
                .goal_id()
                .is_some_and(|id| goals.iter().any(|g| g.id == id)),
        };
        if ours {
            let _skipped = apply_op(conn, sealer, &mut goals, &write.op, me, now);
        }
    }
    goals.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(goals)
}

/// The server accepted a goal write: the stored record takes it at once (the next pull brings
/// the server's own record, which replaces it).
pub(crate) fn settle_accepted(
    conn: &Connection,
    sealer: &Sealer,
    op: &WriteOp,
    me: &str,
) -> Result<(), CoreError> {
    let Some(id) = op.goal_id() else {
        return Ok(());
    };
    let mut goals: Vec<GoalRecord> = stored::get(conn, sealer, &id.to_string())?
        .into_iter()
        .collect();
    if apply_op(conn, sealer, &mut goals, op, me, Utc::now()).is_ok() {
        for g in &goals {
            stored::upsert(conn, sealer, g)?;
        }
    }
    Ok(())
}

/// The pupil a goal belongs to, from the cache or an unsent creation.
fn pupil_of(conn: &Connection, sealer: &Sealer, goal_id: &Uuid) -> Result<String, CoreError> {
    if let Some(g) = stored::get(conn, sealer, &goal_id.to_string())? {
        return Ok(g.pupil_id);
    }
    outbox::all(conn, sealer)?
        .into_iter()
        .find_map(|w| match w.op {
            WriteOp::CreateGoal {
                goal_id: id,
                pupil_id,
                ..
            } if id == *goal_id => Some(pupil_id),
            _ => None,
        })
        .ok_or_else(|| Unapplied::NoSuchGoal.into())
}

impl Homeroom {
    /// REQ-PTS-8: sets `pupil_id` a learning goal or an EHCP outcome, at once on this device
    /// and queued for the server. Staff of the pupil's class only. Returns the goal's id.
    pub fn create_goal(
        &self,
        pupil_id: &str,
        title: &str,
        kind: GoalKind,
        target: Option<u32>,
    ) -> Result<String, CoreError> {
        let goal_id = Uuid::new_v4();
        let op = WriteOp::CreateGoal {
            goal_id,
            pupil_id: pupil_id.to_owned(),
            title: title.trim().to_owned(),
            kind,
            target,
        };
        let r = self.queue_goal_write(pupil_id, op);
        self.checked(r).map(|()| goal_id.to_string())
    }

    /// REQ-PTS-8: a new title and target (none clears it).
    pub fn update_goal(
        &self,
        goal_id: &str,
        title: &str,
        target: Option<u32>,
    ) -> Result<(), CoreError> {
        let r = self.goal_edit(goal_id, |goal_id| WriteOp::UpdateGoal {
            goal_id,
            title: title.trim().to_owned(),
            target,
        });
        self.checked(r)
    }

    /// REQ-PTS-8: the goal leaves the report and takes no more edits.
    pub fn archive_goal(&self, goal_id: &str) -> Result<(), CoreError> {
        let r = self.goal_edit(goal_id, |goal_id| WriteOp::ArchiveGoal { goal_id });
        self.checked(r)
    }

    /// REQ-PTS-8: a skill of the pupil's class, or an item of their portfolio, counts towards
    /// the goal (`linked` false: no longer).
    pub fn link_goal(&self, goal_id: &str, link: GoalLink, linked: bool) -> Result<(), CoreError> {
        let r = self.goal_edit(goal_id, |goal_id| {
            if linked {
                WriteOp::LinkGoal { goal_id, link }
            } else {
                WriteOp::UnlinkGoal { goal_id, link }
            }
        });
        self.checked(r)
    }

    /// A pupil's goals, archived ones too, oldest first, with this device's unsent edits — for
    /// class staff, the pupil and the pupil's own parents (REQ-PTS-8, ACC-5).
    pub fn goals_for(&self, pupil_id: &str) -> Result<Vec<GoalRecord>, CoreError> {
        let r = self.goals_for_inner(pupil_id);
        self.checked(r)
    }

    fn goals_for_inner(&self, pupil_id: &str) -> Result<Vec<GoalRecord>, CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let dir = self.directory_arc()?.ok_or(CoreError::NotSignedIn)?;
        goals::may_read(&dir.facts, &session.me.user_id, pupil_id)?;
        let conn = self.store.conn();
        let mut goals = view(&conn, self.store.sealer(), &session.me.user_id, pupil_id)?;
        // A withdrawn item has left this device: its link goes from the screen too (REQ-CON-4).
        let standing = stored::standing_items(&conn, &goals)?;
        for g in &mut goals {
            g.items.retain(|i| standing.contains(&i.post_id));
        }
        Ok(goals)
    }

    /// Subscribes to a pupil's goals (issue 4 §4): the snapshot at once, then the goals inserted,
    /// updated and removed after each local goal write or sync. Returns the id for `unobserve`.
    pub fn observe_goals(&self, pupil_id: &str, observer: GoalsObserver) -> Result<u64, CoreError> {
        let (differ, first) = Differ::start(self.goals_for(pupil_id)?);
        let sub = Arc::new(GoalsSub {
            id: self.new_observer_id(),
            pupil_id: pupil_id.to_owned(),
            observer,
            differ: Mutex::new(differ),
            delivery: Delivery::default(),
        });
        self.goal_views.lock().push(sub.clone());
        sub.delivery.send(first, |m| (sub.observer)(m));
        Ok(sub.id)
    }

    /// Tells every goals subscriber what changed; goals one may no longer read (a pupil who
    /// left, a family removed) read as none, so they all leave the screen.
    pub(crate) fn refresh_goal_views(&self) {
        let subs: Vec<Arc<GoalsSub>> = self.goal_views.lock().clone();
        for sub in subs {
            let now = self.goals_for(&sub.pupil_id).unwrap_or_default();
            crate::views::send_changes(&sub.differ, &sub.delivery, now, |m| (sub.observer)(m));
        }
    }

    /// The pupil's goals as this device shows them, or none for a reader who may not read them.
    pub(crate) fn readable_goals(
        &self,
        facts: &SchoolFacts,
        me: &str,
        pupil_id: &str,
    ) -> Result<Vec<GoalRecord>, CoreError> {
        if goals::may_read(facts, me, pupil_id).is_err() {
            return Ok(Vec::new());
        }
        view(&self.store.conn(), self.store.sealer(), me, pupil_id)
    }

    fn goal_edit(&self, goal_id: &str, op: impl FnOnce(Uuid) -> WriteOp) -> Result<(), CoreError> {
        let id: Uuid = goal_id
            .parse()
            .map_err(|_| CoreError::input("goal_id", "not a goal id"))?;
        let pupil = pupil_of(&self.store.conn(), self.store.sealer(), &id)?;
        self.queue_goal_write(&pupil, op(id))
    }

    /// Checks a goal write as the server will — rules, shape, links — queues it, and tells the
    /// goals listeners (no lock held).
    fn queue_goal_write(&self, pupil_id: &str, op: WriteOp) -> Result<(), CoreError> {
        self.enqueue_goal_write(pupil_id, op)?;
        self.refresh_goal_views();
        Ok(())
    }

    fn enqueue_goal_write(&self, pupil_id: &str, op: WriteOp) -> Result<(), CoreError> {
        let session = self.session()?.ok_or(CoreError::NotSignedIn)?;
        let me = session.me.user_id.as_str();
        let dir = self
            .directory_arc()?
            .ok_or_else(|| CoreError::input("pupil_id", "sync once before setting goals"))?;
        goals::may_manage(&dir.facts, me, pupil_id)?;
        let mut conn = self.store.conn();
        if let WriteOp::LinkGoal { link, .. } = &op {
            check_link(&conn, self.store.sealer(), &dir, pupil_id, link)?;
        }
        let mut current = view(&conn, self.store.sealer(), me, pupil_id)?;
        apply_op(
            &conn,
            self.store.sealer(),
            &mut current,
            &op,
            me,
            Utc::now(),
        )?;
        let tx = conn.transaction().ctx("starting a goal write")?;
        outbox::enqueue(
            &tx,
            self.store.sealer(),
            &ClientWrite {
                client_id: Uuid::new_v4(),
                op,
            },
        )?;
        tx.commit().ctx("committing a goal write")?;
        Ok(())
    }
}

/// A link the server would accept: a skill of the pupil's class, an item of their portfolio.
fn check_link(
    conn: &Connection,
    sealer: &Sealer,
    dir: &Directory,
    pupil_id: &str,
    link: &GoalLink,
) -> Result<(), CoreError> {
    match link {
        GoalLink::Skill { skill_id } => {
            let class = dir
                .facts
                .pupils
                .get(pupil_id)
                .and_then(|p| p.class_id.as_deref());
            let skill = dir
                .skills
                .iter()
                .find(|s| s.id == *skill_id)
                .ok_or_else(|| CoreError::input("skill_id", format!("no skill {skill_id} here")))?;
            if Some(skill.class_id.as_str()) != class {
                return Err(CoreError::input(
                    "skill_id",
                    "the skill belongs to another class",
                ));
            }
        }
        GoalLink::PortfolioItem { post_id } => {
            let post = posts::get(conn, sealer, &post_id.to_string())?
                .ok_or_else(|| CoreError::input("post_id", "no such portfolio item here"))?;
            let own = Audience::Portfolio {
                pupil_id: pupil_id.to_owned(),
            };
            if post.record.audience != own {
                return Err(CoreError::input(
                    "post_id",
                    "only an item of the pupil's own portfolio counts towards their goal",
                ));
            }
        }
    }
    Ok(())
}
