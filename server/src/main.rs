//! `homeroom-server --data-dir DIR [--listen 127.0.0.1:8080] [--seed-fixture]`

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
    /// Seed the fixture school (known passwords: tests and demos only).
    #[arg(long)]
    seed_fixture: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOMEROOM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = homeroom_server::Config {
        listen: args.listen,
        data_dir: args.data_dir,
        seed_fixture: args.seed_fixture,
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
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match bound.serve(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("homeroom-server: {e}");
            ExitCode::FAILURE
        }
    }
}
