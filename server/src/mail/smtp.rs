//! Delivery over SMTP (lettre, rustls only): the [`Mailer`] a real school runs with.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{MailError, MailFuture, Mailer, OutgoingMail};

/// How long one delivery may take before the teacher hears it failed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text: only for a relay on the same machine or a test sink.
    None,
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl FromStr for TlsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" => Ok(TlsMode::None),
            "starttls" => Ok(TlsMode::StartTls),
            "tls" | "implicit" => Ok(TlsMode::Tls),
            other => Err(format!(
                "SMTP TLS mode {other:?} is not one of none, starttls, tls"
            )),
        }
    }
}

/// Where and how the server sends mail (`--smtp-*` flags or `HOMEROOM_SMTP_*`).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// The sender address on every message (`From:` and the envelope).
    pub from: String,
    pub tls: TlsMode,
    /// Sign in to the mail server when both are set.
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
}

impl SmtpConfig {
    /// A plain-text relay at `host:port` sending as `from`, without credentials.
    pub fn new(host: &str, port: u16, from: &str, tls: TlsMode) -> Self {
        SmtpConfig {
            host: host.to_owned(),
            port,
            from: from.to_owned(),
            tls,
            username: None,
            password: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for SmtpConfig {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends each message in its own SMTP session (invitations are rare; no pool to go stale).
pub struct SmtpMailer {
    from: Address,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    /// Checks the configuration and prepares the transport; nothing is sent yet.
    pub fn new(config: &SmtpConfig) -> Result<Self, MailError> {
        let from: Address = config
            .from
            .parse()
            .map_err(|e| MailError::Message(format!("SMTP sender address: {e}")))?;
        let tls = match config.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls => Tls::Required(tls_parameters(&config.host)?),
            TlsMode::Tls => Tls::Wrapper(tls_parameters(&config.host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout))
            .hello_name(ClientId::Domain(from.domain().to_owned()));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpMailer {
            from,
            transport: builder.build(),
        })
    }

    fn message(&self, mail: &OutgoingMail) -> Result<Message, MailError> {
        let to: Address = mail
            .to
            .parse()
            .map_err(|e| MailError::Message(format!("recipient address: {e}")))?;
        Message::builder()
            .from(Mailbox::new(
                Some(mail.from_name.clone()),
                self.from.clone(),
            ))
            .to(Mailbox::new(mail.to_name.clone(), to))
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| MailError::Message(e.to_string()))
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, MailError> {
    TlsParameters::new(host.to_owned())
        .map_err(|e| MailError::Transport(format!("TLS set-up for {host}: {e}")))
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> MailFuture<'a> {
        use tracing::Instrument;
        Box::pin(
            async move {
                let message = self.message(mail)?;
                match self.transport.send(message).await {
                    Ok(_) => Ok(()),
                    Err(e) if e.is_permanent() || e.is_transient() => {
                        Err(MailError::Refused(e.to_string()))
                    }
                    Err(e) => Err(MailError::Transport(e.to_string())),
                }
            }
            .instrument(tracing::info_span!("smtp_send")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_read_as_documented() {
        assert_eq!("STARTTLS".parse::<TlsMode>(), Ok(TlsMode::StartTls));
        assert_eq!("tls".parse::<TlsMode>(), Ok(TlsMode::Tls));
        assert_eq!("none".parse::<TlsMode>(), Ok(TlsMode::None));
        assert!("ssl3".parse::<TlsMode>().is_err());
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let mut c = SmtpConfig::new("mail.example.org", 587, "school@example.org", TlsMode::None);
        c.password = Some("hunter2-secret".into());
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn a_bad_sender_address_is_refused_at_start() {
        let c = SmtpConfig::new("mail.example.org", 25, "not an address", TlsMode::None);
        assert!(matches!(SmtpMailer::new(&c), Err(MailError::Message(_))));
    }
}
