//! The HTTP routes, one module per resource.

pub mod classes;
pub mod codes;
pub mod consent;
pub mod devices;
pub mod emergencies;
pub mod invitations;
pub mod media;
pub mod membership;
pub mod messages;
pub mod parent_requests;
pub mod parents;
pub mod pupils;
pub mod reports;
pub mod safeguarding;
pub mod school_hours;
pub mod session;
pub mod sync;

use homeroom_protocol::access::{can, Action, Target};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ServerError;

/// Refuses with 403 unless the caller may do `action` to `target` under the shared rules; asked
/// before anything else, so a refusal says nothing about whether the target exists.
pub(crate) async fn require(
    state: &AppState,
    caller: &Caller,
    action: Action,
    target: Target<'_>,
) -> Result<(), ServerError> {
    let facts = state.facts.for_caller(&state.db, caller).await?;
    can(&facts, Some(&caller.user_id), action, &target)
        .map_err(|d| ServerError::Forbidden(d.to_string()))
}
