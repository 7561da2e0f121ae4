//! `POST /v1/pupils/{id}/parent-invitations`: the class teacher emails a family a fresh parent
//! code (REQ-ACC-2). The code is saved before sending and becomes the pupil's only live code
//! once the mail server has accepted the message; a failed delivery removes it again, so the
//! family's earlier code keeps working and no code exists that nobody received.

use axum::extract::State;
use axum::Json;
use chrono::{Duration, Utc};
use homeroom_protocol::access::{Action, Target};
use homeroom_protocol::codes::CODE_VALID_DAYS;
use homeroom_protocol::invites::{
    validate_email, validate_recipient_name, InvitationSent, SendInvitation,
};
use sqlx::Row;

use crate::app::AppState;
use crate::auth::{secret_hash, Caller};
use crate::db::write_tx;
use crate::error::ServerError;
use crate::json::{ApiJson, ApiPath};
use crate::mail::invitation::Invitation;
use crate::mail::{MailError, OutgoingMail};
use crate::routes::codes::{fresh_code, insert_code, revoke_other_codes};
use crate::routes::require;

/// Sends one invitation; answers only after the mail server accepted it (or said why not).
#[tracing::instrument(skip_all)]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(pupil_id): ApiPath<String>,
    ApiJson(req): ApiJson<SendInvitation>,
) -> Result<Json<InvitationSent>, ServerError> {
    require(
        &state,
        &caller,
        Action::IssueParentCode,
        Target::Pupil(&pupil_id),
    )
    .await?;
    let email = validate_email(&req.email).map_err(|why| ServerError::field("email", why))?;
    let name = req
        .name
        .as_deref()
        .map(validate_recipient_name)
        .transpose()
        .map_err(|why| ServerError::field("name", why))?;
    let mailer = state.mailer.clone().ok_or(ServerError::MailNotConfigured)?;
    let row = sqlx::query(
        "SELECT p.display_name, s.name AS school_name FROM pupils p JOIN schools s ON s.id = p.school_id
         WHERE p.id = $1 AND p.school_id = $2",
    )
    .bind(&pupil_id)
    .bind(&caller.school_id)
    .fetch_optional(&state.db)
    .await?
    .ok_or(ServerError::NotFound)?;
    let pupil_name: String = row.try_get("display_name")?;
    let school_name: String = row.try_get("school_name")?;

    let code = fresh_code()?;
    let expires_at = Utc::now() + Duration::days(CODE_VALID_DAYS);
    let mut tx = write_tx(&state.db).await?;
    insert_code(&mut tx, &code, &pupil_id, &caller.user_id, expires_at).await?;
    tx.commit().await?;

    let invitation = Invitation {
        school_name: &school_name,
        pupil_name: &pupil_name,
        recipient_name: name.as_deref(),
        code: &code,
        expires_at,
    };
    let mail = OutgoingMail {
        to: email.clone(),
        to_name: name.clone(),
        from_name: school_name.clone(),
        subject: invitation.subject(),
        text: invitation.text(),
        html: invitation.html(),
    };
    // No transaction is open while the mail server talks: other writers are not held up.
    if let Err(e) = mailer.send(&mail).await {
        forget_code(&state, &code).await?;
        // The reason stays in the log (no address, no code: REQ-PRV-2); the teacher gets its kind.
        tracing::warn!(error = %e, "invitation not sent");
        return Err(ServerError::MailNotSent(
            match e {
                MailError::Refused(_) => "the mail server refused it",
                MailError::Transport(_) => "the mail server could not be reached",
                MailError::Message(_) => "the message could not be built",
            }
            .into(),
        ));
    }
    let mut tx = write_tx(&state.db).await?;
    revoke_other_codes(&mut tx, &pupil_id, Some(&code)).await?;
    tx.commit().await?;
    tracing::info!("parent invitation sent");
    Ok(Json(InvitationSent {
        pupil_id,
        email,
        expires_at,
    }))
}

/// Removes a code that was never delivered.
async fn forget_code(state: &AppState, code: &str) -> Result<(), ServerError> {
    let mut tx = write_tx(&state.db).await?;
    sqlx::query("DELETE FROM parent_codes WHERE code_hash = $1 AND used_at IS NULL")
        .bind(secret_hash(code))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
