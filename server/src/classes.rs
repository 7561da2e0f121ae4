//! Storing a class (REQ-ACC-1): its row, its teachers and support staff, and the school's default
//! skills, so staff can award points in it from the first sync. Used by class creation and the
//! fixture seed alike.

use homeroom_protocol::skills::{skill_id, SkillKind, DEFAULT_SKILLS};

use crate::db::DbTx;
use crate::error::ServerError;

/// A class to store.
pub struct NewClass<'a> {
    pub id: &'a str,
    pub school_id: &'a str,
    pub name: &'a str,
    pub show_points_to_parents: bool,
    pub teacher_ids: &'a [&'a str],
    pub staff_ids: &'a [&'a str],
}

/// Inserts `class` inside `tx`; returns how many skills it starts with.
pub async fn insert(tx: &mut DbTx<'_>, class: &NewClass<'_>) -> Result<usize, ServerError> {
    sqlx::query(
        "INSERT INTO classes (id, school_id, name, show_points_to_parents) VALUES ($1, $2, $3, $4)",
    )
    .bind(class.id)
    .bind(class.school_id)
    .bind(class.name)
    .bind(i64::from(class.show_points_to_parents))
    .execute(&mut **tx)
    .await?;
    let staff = class
        .teacher_ids
        .iter()
        .map(|t| (t, 1i64))
        .chain(class.staff_ids.iter().map(|s| (s, 0)));
    for (user_id, is_teacher) in staff {
        sqlx::query("INSERT INTO class_staff (class_id, user_id, is_teacher) VALUES ($1, $2, $3)")
            .bind(class.id)
            .bind(*user_id)
            .bind(is_teacher)
            .execute(&mut **tx)
            .await?;
    }
    for s in DEFAULT_SKILLS.iter() {
        sqlx::query(
            "INSERT INTO skills (id, class_id, name, icon, weight, kind, category) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(skill_id(class.id, s.key))
        .bind(class.id)
        .bind(s.name)
        .bind(s.icon)
        .bind(s.weight)
        .bind(match s.kind {
            SkillKind::Positive => "positive",
            SkillKind::NeedsWork => "needs_work",
        })
        .bind(s.category)
        .execute(&mut **tx)
        .await?;
    }
    Ok(DEFAULT_SKILLS.len())
}
