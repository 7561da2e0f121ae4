//! The slice of the school one person may see: names for their screens, facts for their rules.

use crate::db::Db;
use homeroom_protocol::access::{can, Action, SchoolFacts, Target};
use homeroom_protocol::skills::SkillKind;
use homeroom_protocol::wire::{ClassInfo, Directory, PupilInfo, SkillInfo};
use ring::digest::{digest, SHA256};
use sqlx::Row;

use crate::auth::Caller;
use crate::error::ServerError;

/// Builds `caller`'s directory from the school's facts: only classes and pupils they may see
/// (a parent sees their own children, never classmates: REQ-ACC-5).
#[tracing::instrument(skip_all)]
pub async fn for_caller(
    pool: &Db,
    caller: &Caller,
    facts: &SchoolFacts,
) -> Result<Directory, ServerError> {
    let me = Some(caller.user_id.as_str());
    let pupil_ids: Vec<&String> = facts
        .pupils
        .keys()
        .filter(|p| can(facts, me, Action::ReadPortfolio, &Target::Pupil(p)).is_ok())
        .collect();
    let class_ids: Vec<&String> = facts
        .classes
        .keys()
        .filter(|c| can(facts, me, Action::ReadStory, &Target::Class(c)).is_ok())
        .collect();

    let mut slice = SchoolFacts::default();
    if let Some(u) = facts.users.get(&caller.user_id) {
        slice.users.insert(caller.user_id.clone(), u.clone());
    }
    for c in &class_ids {
        if let Some(cf) = facts.classes.get(*c) {
            for id in cf.teacher_ids.iter().chain(cf.staff_ids.iter()) {
                if let Some(u) = facts.users.get(id) {
                    slice.users.insert(id.clone(), u.clone());
                }
            }
            slice.classes.insert((*c).clone(), cf.clone());
        }
    }
    let caller_is_staff = facts
        .users
        .get(&caller.user_id)
        .is_some_and(|u| u.role.is_staff());
    for p in &pupil_ids {
        if let Some(pf) = facts.pupils.get(*p) {
            slice.pupils.insert((*p).clone(), pf.clone());
            // Staff message their pupils' parents (REQ-MSG-1): the rules on the phone need them.
            if caller_is_staff {
                for id in &pf.parent_ids {
                    if let Some(u) = facts.users.get(id) {
                        slice.users.insert(id.clone(), u.clone());
                    }
                }
            }
        }
    }

    let school_name: String = sqlx::query("SELECT name FROM schools WHERE id = $1")
        .bind(&caller.school_id)
        .fetch_one(pool)
        .await?
        .try_get("name")?;
    let mut classes = Vec::new();
    let mut skills = Vec::new();
    for c in &class_ids {
        let row = sqlx::query("SELECT name, show_points_to_parents FROM classes WHERE id = $1")
            .bind(*c)
            .fetch_one(pool)
            .await?;
        classes.push(ClassInfo {
            id: (*c).clone(),
            name: row.try_get("name")?,
            show_points_to_parents: row.try_get::<i64, _>("show_points_to_parents")? != 0,
        });
        skills.extend(class_skills(pool, c).await?);
    }
    let mut pupils = Vec::new();
    for p in &pupil_ids {
        let row = sqlx::query("SELECT display_name, class_id FROM pupils WHERE id = $1")
            .bind(*p)
            .fetch_one(pool)
            .await?;
        pupils.push(PupilInfo {
            id: (*p).clone(),
            display_name: row.try_get("display_name")?,
            class_id: row.try_get("class_id")?,
        });
    }
    let mut people = Vec::new();
    for id in slice.users.keys() {
        let row = sqlx::query("SELECT display_name, role FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
        people.push(homeroom_protocol::wire::PersonInfo {
            id: id.clone(),
            display_name: row.try_get("display_name")?,
            role: crate::db::parse_role(row.try_get::<&str, _>("role")?)?,
        });
    }
    // Own hours, and the hours of everyone this person may message (REQ-MSG-4, NOT-2).
    let hour_ids: Vec<String> = slice
        .users
        .keys()
        .filter(|u| {
            *u == &caller.user_id
                || can(facts, me, Action::ReadQuietHours, &Target::User(u)).is_ok()
        })
        .cloned()
        .collect();
    let settings =
        crate::push::schedule::settings_for(pool, facts, &caller.school_id, &hour_ids).await?;
    let working_hours =
        crate::push::schedule::school_working_hours(pool, &caller.school_id).await?;
    let tz = crate::push::schedule::school_time_zone(pool, &caller.school_id).await?;
    let lock_screen = settings
        .get(&caller.user_id)
        .map(|s| s.lock_screen)
        .unwrap_or_default();
    let hours = settings.into_iter().map(|(k, v)| (k, v.hours)).collect();
    let mut consent = std::collections::BTreeMap::new();
    let readable: Vec<&String> = pupil_ids
        .iter()
        .copied()
        .filter(|p| can(facts, me, Action::ReadConsent, &Target::Pupil(p)).is_ok())
        .collect();
    if !readable.is_empty() {
        let mut tx = pool.begin().await?;
        let all = crate::consent::records(&mut tx, &caller.school_id).await?;
        tx.commit().await?;
        for p in readable {
            if let Some(r) = all.get(p) {
                consent.insert(p.clone(), r.clone());
            }
        }
    }
    let mut dir = Directory {
        version: String::new(),
        school_id: caller.school_id.clone(),
        school_name,
        classes,
        pupils,
        skills,
        facts: slice,
        people,
        hours,
        working_hours,
        lock_screen,
        consent,
        time_zone: Some(tz.name().to_owned()),
    };
    let bytes = serde_json::to_vec(&dir).map_err(|e| ServerError::Internal(e.to_string()))?;
    dir.version = digest(&SHA256, &bytes)
        .as_ref()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(dir)
}

/// A class's skills (REQ-PTS-1), biggest weight first.
pub(crate) async fn class_skills(pool: &Db, class_id: &str) -> Result<Vec<SkillInfo>, ServerError> {
    let mut skills = Vec::new();
    for s in sqlx::query(
        "SELECT id, name, icon, weight, kind, category FROM skills WHERE class_id = $1 ORDER BY weight DESC, id",
    )
    .bind(class_id)
    .fetch_all(pool)
    .await?
    {
        skills.push(SkillInfo {
            id: s.try_get("id")?,
            class_id: class_id.to_owned(),
            name: s.try_get("name")?,
            icon: s.try_get("icon")?,
            weight: s.try_get::<i64, _>("weight")? as i32,
            kind: if s.try_get::<&str, _>("kind")? == "needs_work" {
                SkillKind::NeedsWork
            } else {
                SkillKind::Positive
            },
            category: s.try_get("category")?,
        });
    }
    Ok(skills)
}
