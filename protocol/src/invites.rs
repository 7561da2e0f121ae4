//! Email invitations carrying a parent code (REQ-ACC-2) and the admin's approval of a third
//! parent (REQ-ACC-3): the wire types and the checks an app can run before asking the server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest address accepted (RFC 5321 limits a path to 256 octets, less the brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part (before the `@`), as RFC 5321 allows.
const MAX_LOCAL_LEN: usize = 64;
/// Longest name for the greeting and the `To:` header.
pub const MAX_RECIPIENT_NAME_CHARS: usize = 80;

/// A teacher asks the server to email a pupil's parent code to a family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendInvitation {
    /// Where the invitation goes.
    pub email: String,
    /// How to greet the recipient (optional; "Dear parent or carer" without it).
    #[serde(default)]
    pub name: Option<String>,
}

/// The invitation left the server; the code itself is only in the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationSent {
    pub pupil_id: String,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

/// The answer (202) to a code redeemed for a pupil who already has two parents: an account
/// exists, but the link waits for the school's admin (REQ-ACC-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinPending {
    /// Always `awaiting_approval`.
    pub status: String,
    pub request_id: String,
    pub message: String,
}

/// Where a request for a third (or later) parent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Declined,
    /// The pupil left the class before anyone decided.
    Withdrawn,
}

impl RequestStatus {
    /// The name stored in the database and sent on the wire.
    pub fn name(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Declined => "declined",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Pending,
            RequestStatus::Approved,
            RequestStatus::Declined,
            RequestStatus::Withdrawn,
        ]
        .into_iter()
        .find(|r| r.name() == s)
    }
}

/// One request for an extra parent, as the admin lists it (`GET /v1/parent-requests`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentRequest {
    pub id: String,
    pub pupil_id: String,
    pub pupil_name: String,
    pub parent_id: String,
    pub parent_name: String,
    pub parent_email: String,
    /// The parents already linked to the pupil, by name: what the admin weighs.
    pub linked_parents: Vec<String>,
    pub requested_at: DateTime<Utc>,
    pub status: RequestStatus,
}

/// The admin's decision on a request, as answered by approve and decline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentRequestDecided {
    pub id: String,
    pub pupil_id: String,
    pub parent_id: String,
    pub status: RequestStatus,
}

/// Checks an email address as typed: trimmed and lower-cased, one `@`, a dotted domain of
/// letters, digits and hyphens, a plain local part, and nothing that could break a mail header
/// (no spaces, quotes, angle brackets, commas or control characters such as CR and LF).
pub fn validate_email(typed: &str) -> Result<String, String> {
    let email = typed.trim().to_lowercase();
    if email.is_empty() {
        return Err("an email address is needed".into());
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(format!(
            "an email address has at most {MAX_EMAIL_LEN} characters"
        ));
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("an email address has no spaces, line breaks or control characters".into());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("an email address has an @ in it".into());
    };
    if local.is_empty() || local.len() > MAX_LOCAL_LEN {
        return Err("the part before the @ needs 1 to 64 characters".into());
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before the @ has characters an address cannot have".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !domain_ok {
        return Err("the part after the @ must be a domain such as example.org".into());
    }
    Ok(email)
}

/// Checks a recipient's name for the greeting and the `To:` header: trimmed, 1–80 characters,
/// no control characters (a CR or LF there would try to add a header) and no angle brackets.
pub fn validate_recipient_name(typed: &str) -> Result<String, String> {
    let name = typed.trim();
    if name.is_empty() || name.chars().count() > MAX_RECIPIENT_NAME_CHARS {
        return Err(format!(
            "a name of 1 to {MAX_RECIPIENT_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        return Err("a name has no line breaks, control characters or angle brackets".into());
    }
    Ok(name.to_owned())
}

/// The part of a pupil's name an invitation may carry: the first name only, so a mistyped
/// address reveals as little as possible about the child.
pub fn first_name(display_name: &str) -> &str {
    display_name.split_whitespace().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_pass_lower_cased_and_trimmed() {
        assert_eq!(
            validate_email("  Kim.O'Neill+school@Example.CO.uk ").unwrap(),
            "kim.o'neill+school@example.co.uk"
        );
    }

    #[test]
    fn header_injection_and_malformed_addresses_are_refused() {
        for bad in [
            "kim@example.org\r\nBcc: all@example.org",
            "kim@example.org\nBcc: x@example.org",
            "kim@example.org, other@example.org",
            "Kim <kim@example.org>",
            "\"kim\"@example.org",
            "kim@@example.org",
            "kim@example",
            "kim@-example.org",
            "kim..x@example.org",
            "@example.org",
            "kim",
            "",
            "kim@exa mple.org",
            "kim@example.org\0",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_email(&format!("{}@example.org", "a".repeat(65))).is_err());
        assert!(validate_email(&format!("a@{}.org", "b".repeat(250))).is_err());
    }

    #[test]
    fn names_with_line_breaks_are_refused() {
        assert_eq!(
            validate_recipient_name(" Mrs Okafor ").unwrap(),
            "Mrs Okafor"
        );
        assert!(validate_recipient_name("Kim\r\nBcc: x@example.org").is_err());
        assert!(validate_recipient_name("Kim <x@example.org>").is_err());
        assert!(validate_recipient_name("  ").is_err());
    }

    #[test]
    fn only_the_first_name_is_shown() {
        assert_eq!(first_name("Amira Khan"), "Amira");
        assert_eq!(first_name("  Ben  "), "Ben");
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["pending", "approved", "declined", "withdrawn"] {
            assert_eq!(RequestStatus::parse(s).unwrap().name(), s);
        }
        assert_eq!(RequestStatus::parse("maybe"), None);
    }
}
