//! An SMTP sink of the test's own (REQ-ACC-2): a tiny SMTP server on a free loopback port, on
//! tokio, that records each message's envelope and DATA — or refuses, when a test asks it to.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use homeroom_server::mail::smtp::{SmtpConfig, TlsMode};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The sender address test servers are configured with.
pub const SINK_FROM: &str = "homeroom@greenfield.test";

/// Longest DATA the sink keeps (a guard, not a limit the server should meet).
const MAX_DATA: usize = 1 << 20;

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    /// Accepts every message.
    Accept,
    /// Refuses every recipient with a permanent 550.
    RejectRecipients,
    /// Accepts the envelope, then refuses the message after DATA with a 554.
    RejectData,
}

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The raw DATA, dot-unstuffed, CRLF line ends.
    pub data: String,
}

impl ReceivedMail {
    /// The parsed message (headers decoded, MIME parts and transfer encodings undone).
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(self.data.as_bytes()).expect("the sink received a parsable message")
    }

    /// A header's decoded value.
    pub fn header(&self, name: &str) -> Option<String> {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name)
    }

    /// The decoded body of the first part of type `mime` (`text/plain`, `text/html`).
    pub fn part(&self, mime: &str) -> Option<String> {
        fn find(m: &mailparse::ParsedMail<'_>, mime: &str) -> Option<String> {
            if m.subparts.is_empty() {
                return (m.ctype.mimetype == mime).then(|| m.get_body().expect("decodable body"));
            }
            m.subparts.iter().find_map(|p| find(p, mime))
        }
        find(&self.parsed(), mime)
    }
}

/// A running sink; it lives as long as the test process.
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    mode: Arc<Mutex<SinkMode>>,
}

impl SmtpSink {
    /// Starts the sink on its own thread and runtime, so sync and async tests can both use it.
    pub fn start() -> SmtpSink {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink");
        std_listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = std_listener.local_addr().expect("sink address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(Mutex::new(SinkMode::Accept));
        let (store, modes) = (received.clone(), mode.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("sink runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (store, modes) = (store.clone(), modes.clone());
                    tokio::spawn(async move {
                        let _ = session(stream, store, modes).await;
                    });
                }
            });
        });
        SmtpSink {
            addr,
            received,
            mode,
        }
    }

    /// Changes how the sink answers from the next command on.
    pub fn set_mode(&self, mode: SinkMode) {
        *self.mode.lock().expect("sink lock") = mode;
    }

    /// Every message accepted so far, in order.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().expect("sink lock").clone()
    }

    /// The server's SMTP settings for this sink (plain text on loopback, short timeout).
    pub fn config(&self) -> SmtpConfig {
        let mut c = SmtpConfig::new(
            &self.addr.ip().to_string(),
            self.addr.port(),
            SINK_FROM,
            TlsMode::None,
        );
        c.timeout = std::time::Duration::from_secs(10);
        c
    }
}

/// One SMTP conversation: greeting, EHLO, MAIL, RCPT, DATA, QUIT (RFC 5321, no extensions).
async fn session(
    stream: TcpStream,
    store: Arc<Mutex<Vec<ReceivedMail>>>,
    modes: Arc<Mutex<SinkMode>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut rcpts: Vec<String> = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let mode = *modes.lock().expect("sink lock");
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250 8BITMIME\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                from = angle(&command);
                rcpts.clear();
                b"250 OK\r\n"
            }
            "RCPT" if mode == SinkMode::RejectRecipients => b"550 5.1.1 mailbox unavailable\r\n",
            "RCPT" => {
                rcpts.push(angle(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let data = read_data(&mut lines).await?;
                if mode == SinkMode::RejectData {
                    b"554 5.6.0 message refused\r\n"
                } else {
                    store.lock().expect("sink lock").push(ReceivedMail {
                        mail_from: from.clone(),
                        rcpt_to: rcpts.clone(),
                        data,
                    });
                    b"250 OK queued\r\n"
                }
            }
            "RSET" => {
                rcpts.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The address between angle brackets of `MAIL FROM:<a>` or `RCPT TO:<b>`.
fn angle(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}

/// Reads DATA up to the lone dot, undoing dot-stuffing.
async fn read_data<R: AsyncReadExt + Unpin>(lines: &mut BufReader<R>) -> std::io::Result<String> {
    let mut data = String::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 || line == ".\r\n" || line == ".\n" {
            return Ok(data);
        }
        let line = line.strip_prefix('.').unwrap_or(&line);
        if data.len() + line.len() <= MAX_DATA {
            data.push_str(line);
        }
    }
}
