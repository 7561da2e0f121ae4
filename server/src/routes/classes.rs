//! `POST /v1/classes`: a new class (REQ-ACC-1). Teachers create classes they teach; the admin and
//! leaders name the teachers. The class reaches its staff's devices through the directory on
//! their next sync, with the school's default skills ready for awards.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use homeroom_protocol::access::{Action, Role, Target};
use homeroom_protocol::membership::{
    validate_display_name, CreateClassRequest, CreatedClass, MAX_CLASS_STAFF,
};
use uuid::Uuid;

use crate::app::AppState;
use crate::audit;
use crate::auth::Caller;
use crate::classes::{insert, NewClass};
use crate::db::{school_facts, write_tx};
use crate::error::ServerError;
use crate::json::ApiJson;

/// `ids` without repeats, each a person of `role` at the caller's school, or a 400 naming `field`.
fn checked_people(
    facts: &homeroom_protocol::access::SchoolFacts,
    caller: &Caller,
    ids: &[String],
    role: Role,
    field: &str,
) -> Result<Vec<String>, ServerError> {
    if ids.len() > MAX_CLASS_STAFF {
        return Err(ServerError::field(
            field,
            format!("at most {MAX_CLASS_STAFF} people"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        let fits = facts
            .users
            .get(id)
            .is_some_and(|u| u.school_id == caller.school_id && u.role == role);
        if !fits {
            // The same words whether the person is unknown, elsewhere or of another role.
            return Err(ServerError::field(
                field,
                format!("{id} is not a {} of this school", role_word(role)),
            ));
        }
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Teacher => "teacher",
        _ => "member of support staff",
    }
}

#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateClassRequest>,
) -> Result<(StatusCode, Json<CreatedClass>), ServerError> {
    let facts = school_facts(&state.db, &caller.school_id).await?;
    homeroom_protocol::access::can(
        &facts,
        Some(&caller.user_id),
        Action::CreateClass,
        &Target::School(&caller.school_id),
    )
    .map_err(|d| ServerError::Forbidden(d.to_string()))?;
    let name = validate_display_name(&req.name).map_err(|m| ServerError::field("name", m))?;
    let mut teacher_ids = checked_people(
        &facts,
        &caller,
        &req.teacher_ids,
        Role::Teacher,
        "teacher_ids",
    )?;
    let staff_ids = checked_people(&facts, &caller, &req.staff_ids, Role::Staff, "staff_ids")?;
    // A teacher who creates a class teaches it (ACC-1), or could not add a pupil to it.
    if caller.role == Role::Teacher && !teacher_ids.contains(&caller.user_id) {
        teacher_ids.insert(0, caller.user_id.clone());
    }
    let class_id = Uuid::new_v4().to_string();
    let teachers: Vec<&str> = teacher_ids.iter().map(String::as_str).collect();
    let staff: Vec<&str> = staff_ids.iter().map(String::as_str).collect();
    let mut tx = write_tx(&state.db).await?;
    let skills = insert(
        &mut tx,
        &NewClass {
            id: &class_id,
            school_id: &caller.school_id,
            name: &name,
            show_points_to_parents: req.show_points_to_parents,
            teacher_ids: &teachers,
            staff_ids: &staff,
        },
    )
    .await?;
    audit::record(&mut tx, &caller, "create_class", &class_id).await?;
    tx.commit().await?;
    tracing::info!(teachers = teachers.len(), "class created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedClass {
            class_id,
            name,
            teacher_ids,
            staff_ids,
            show_points_to_parents: req.show_points_to_parents,
            skills,
        }),
    ))
}
