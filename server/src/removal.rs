//! Removing an award everywhere: the row, every trace of it in the change log (its note must not
//! linger there), and a removal entry so devices that have it delete their copies.

use homeroom_protocol::wire::Change;
use uuid::Uuid;

use crate::error::ServerError;

/// Deletes award `award_id` of `pupil_id` and logs the removal, inside the caller's transaction.
pub async fn remove_award(
    tx: &mut crate::db::DbTx<'_>,
    school_id: &str,
    award_id: &Uuid,
    pupil_id: &str,
) -> Result<(), ServerError> {
    let id = award_id.to_string();
    sqlx::query("DELETE FROM awards WHERE id = $1 AND school_id = $2")
        .bind(&id)
        .bind(school_id)
        .execute(&mut **tx)
        .await?;
    // The award's own log entry starts with its tag and id (serde writes fields in order).
    sqlx::query("DELETE FROM changes WHERE school_id = $1 AND kind = 'award' AND pupil_id = $2 AND payload LIKE $3")
        .bind(school_id)
        .bind(pupil_id)
        .bind(format!("{{\"kind\":\"award\",\"id\":\"{id}\",%"))
        .execute(&mut **tx)
        .await?;
    let payload = serde_json::to_string(&Change::AwardRemoved {
        award_id: *award_id,
        pupil_id: pupil_id.to_owned(),
    })
    .map_err(|e| ServerError::Internal(e.to_string()))?;
    sqlx::query("INSERT INTO changes (school_id, kind, pupil_id, payload) VALUES ($1, 'award_removed', $2, $3)")
        .bind(school_id)
        .bind(pupil_id)
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
