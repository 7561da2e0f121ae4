//! Outgoing email (REQ-ACC-2: invitations carry the parent code). The server renders each
//! message itself; a [`Mailer`] only carries it, so delivery can change without touching routes.

pub mod invitation;
pub mod smtp;

use std::future::Future;
use std::pin::Pin;

/// One rendered message for one recipient: plain text and HTML alternatives of the same words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// A checked address (`homeroom_protocol::invites::validate_email`).
    pub to: String,
    /// A checked name for the `To:` header, if the sender gave one.
    pub to_name: Option<String>,
    /// Shown as the sender's name beside the configured address (the school's name).
    pub from_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message could not be built (an address or header the mail library refused).
    #[error("the message could not be built: {0}")]
    Message(String),
    /// The mail server could not be reached, or the conversation broke off.
    #[error("the mail server could not be reached: {0}")]
    Transport(String),
    /// The mail server answered, and said no.
    #[error("the mail server refused the message: {0}")]
    Refused(String),
}

/// A boxed future, so mailers can sit behind `dyn`.
pub type MailFuture<'a> = Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + 'a>>;

/// Hands a rendered message to whatever delivers mail; `Ok` means it was accepted for delivery.
pub trait Mailer: Send + Sync {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> MailFuture<'a>;
}
