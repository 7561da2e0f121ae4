//! The real server in a process of its own, for the test that SIGKILLs it mid-sync: serves the
//! fixture school from DATA_DIR on ADDR (port 0: any) and prints the bound address on stdout.
//! With `HOMEROOM_TEST_DATABASE_URL` set it uses that cluster, as the in-process test server does.
//! Usage: crash-server DATA_DIR ADDR

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, addr] = args.as_slice() else {
        return Err("usage: crash-server DATA_DIR ADDR".into());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let data_dir = std::path::PathBuf::from(dir);
        let config = homeroom_server::Config {
            listen: addr.parse()?,
            database_url: homeroom_e2e::test_database_url(&data_dir).await,
            data_dir,
            seed_fixture: true,
            smtp: None,
        };
        let bound = homeroom_server::bind(&config).await?;
        let mut out = std::io::stdout();
        writeln!(out, "{}", bound.addr)?;
        out.flush()?;
        // Runs until killed: the test never asks it to stop politely.
        bound.serve(std::future::pending()).await?;
        Ok(())
    })
}
