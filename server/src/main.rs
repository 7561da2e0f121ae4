//! `homeroom-server --data-dir DIR [--database-url postgres://…] [--listen 127.0.0.1:8080] [--seed-fixture]
//! [--smtp-host H --smtp-from ADDR [--smtp-port N] [--smtp-tls starttls|tls|none] [--smtp-username U]]`

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// The Homeroom reference server.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the embedded SQLite database and media.
    #[arg(long)]
    data_dir: PathBuf,
    /// Keep the data in PostgreSQL at this URL instead of SQLite (also `HOMEROOM_DATABASE_URL`).
    #[arg(long)]
    database_url: Option<String>,
    /// Seed the fixture school (known passwords: tests and demos only).
    #[arg(long)]
    seed_fixture: bool,
    /// SMTP server for invitation emails (REQ-ACC-2); without it invitations answer 503.
    #[arg(long, env = "HOMEROOM_SMTP_HOST")]
    smtp_host: Option<String>,
    /// SMTP port (default by TLS mode: 25 none, 587 starttls, 465 tls).
    #[arg(long, env = "HOMEROOM_SMTP_PORT")]
    smtp_port: Option<u16>,
    /// Sender address of invitation emails, e.g. homeroom@school.example.
    #[arg(long, env = "HOMEROOM_SMTP_FROM")]
    smtp_from: Option<String>,
    /// How the SMTP connection is protected: starttls, tls (implicit) or none (local relay only).
    #[arg(long, env = "HOMEROOM_SMTP_TLS", default_value = "starttls")]
    smtp_tls: homeroom_server::mail::smtp::TlsMode,
    /// SMTP user name; the password comes only from HOMEROOM_SMTP_PASSWORD (not the command line).
    #[arg(long, env = "HOMEROOM_SMTP_USERNAME")]
    smtp_username: Option<String>,
}

/// The SMTP settings from flags and environment, if a host is given.
fn smtp_config(args: &Args) -> Result<Option<homeroom_server::mail::smtp::SmtpConfig>, String> {
    use homeroom_server::mail::smtp::{SmtpConfig, TlsMode};
    let Some(host) = args.smtp_host.as_deref().filter(|h| !h.is_empty()) else {
        return Ok(None);
    };
    let from = args
        .smtp_from
        .as_deref()
        .filter(|f| !f.is_empty())
        .ok_or("--smtp-host needs --smtp-from (HOMEROOM_SMTP_FROM) too")?;
    let port = args.smtp_port.unwrap_or(match args.smtp_tls {
        TlsMode::None => 25,
        TlsMode::StartTls => 587,
        TlsMode::Tls => 465,
    });
    let mut config = SmtpConfig::new(host, port, from, args.smtp_tls);
    config.username = args.smtp_username.clone();
    config.password = std::env::var("HOMEROOM_SMTP_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    if config.username.is_some() != config.password.is_some() {
        return Err(
            "SMTP sign-in needs both HOMEROOM_SMTP_USERNAME and HOMEROOM_SMTP_PASSWORD".into(),
        );
    }
    Ok(Some(config))
}

fn main() -> ExitCode {
    unblock_termination_signals();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("homeroom-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run())
}

/// A parent may hand us a signal mask with SIGTERM blocked (seen with Foundation's `Process`);
/// a server that cannot be stopped politely is an operational hazard, so take them back.
fn unblock_termination_signals() {
    // SAFETY: plain libc calls on a local, zero-initialised sigset, before any thread exists.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// Resolves on SIGINT or SIGTERM, so in-flight requests finish before the process exits.
async fn termination() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

async fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOMEROOM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let smtp = match smtp_config(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("homeroom-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = homeroom_server::Config {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args
            .database_url
            .or_else(|| std::env::var("HOMEROOM_DATABASE_URL").ok())
            .filter(|u| !u.is_empty()),
        seed_fixture: args.seed_fixture,
        smtp,
    };
    let bound = match homeroom_server::bind(&config).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("homeroom-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The first stdout line is read by tests and scripts to find the port.
    println!("homeroom-server listening on http://{}", bound.addr);
    let _ = std::io::stdout().flush();
    // REQ-PTS-7: expired awards are deleted hourly (and at start).
    let _retention =
        homeroom_server::retention::spawn(bound.db(), std::time::Duration::from_secs(3600));
    // REQ-NOT-2: due notifications and digests are pushed every 30 s.
    let senders = match homeroom_server::push::senders_from_env() {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => {
            eprintln!("homeroom-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _dispatcher = homeroom_server::push::dispatch::spawn(
        bound.db(),
        senders,
        std::sync::Arc::new(homeroom_server::clock::SystemClock),
        std::time::Duration::from_secs(30),
        bound.push_wake(),
    );
    match bound.serve(termination()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("homeroom-server: {e}");
            ExitCode::FAILURE
        }
    }
}
