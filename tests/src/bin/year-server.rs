//! Serves the class year (issue 4's benchmark dataset) on a fixed loopback port until killed, so
//! a profiler can watch one side of a cold sync at a time. Seeds the data dir on first use.
//! Usage: year-server DATA_DIR PORT [SHRINK]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(port)) = (args.get(1), args.get(2).and_then(|p| p.parse::<u16>().ok()))
    else {
        eprintln!("usage: year-server DATA_DIR PORT [SHRINK]");
        return ExitCode::FAILURE;
    };
    let shrink = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let dir = std::path::Path::new(dir);
    let marker = dir.join("class-year-seeded");
    let server = homeroom_e2e::TestServer::start(dir, ([127, 0, 0, 1], port).into());
    if !marker.exists() {
        let year = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(homeroom_e2e::class_year::seed(&server.url(), shrink)),
            Err(e) => {
                eprintln!("year-server: runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!("seeded: {year:?}");
        if let Err(e) = std::fs::write(&marker, b"") {
            eprintln!("year-server: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!("serving the class year on {}", server.url());
    loop {
        std::thread::park();
    }
}
