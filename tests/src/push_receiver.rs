//! A loopback push receiver of the test's own: records every push the server's loopback sender
//! posts, so a test sees what would have reached a phone, and when (REQ-NOT-2).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use homeroom_server::push::OutgoingPush;

/// A tiny HTTP server on a free loopback port that keeps each JSON body it is posted.
pub struct PushReceiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<OutgoingPush>>>,
}

impl PushReceiver {
    /// Starts the receiver in a background thread (it lives as long as the test process).
    pub fn start() -> PushReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; length];
                let ok = reader.read_exact(&mut body).is_ok();
                let status = match serde_json::from_slice::<OutgoingPush>(&body) {
                    Ok(push) if ok => {
                        sink.lock().expect("receiver lock").push(push);
                        "200 OK"
                    }
                    _ => "400 Bad Request",
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        PushReceiver { addr, received }
    }

    /// The URL to give the server's loopback sender.
    pub fn url(&self) -> String {
        format!("http://{}/push", self.addr)
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<OutgoingPush> {
        self.received.lock().expect("receiver lock").clone()
    }
}
