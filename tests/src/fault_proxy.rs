//! A loopback TCP proxy of the tests' own that can refuse, stall, garble or truncate what
//! passes between a device and the server — the network faults phones meet on buses.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Relay faithfully.
    Pass,
    /// Accept, then close at once without a word.
    Drop,
    /// Accept and read, never answer.
    Stall,
    /// Answer `200 OK` with a body that is not the API's JSON.
    Garbage,
    /// Relay the request, then only the response head and a few body bytes, then close.
    Truncate,
    /// Relay faithfully until this many bytes went to the server on the connection, then cut it
    /// (an upload dying mid-way when the bus leaves the Wi-Fi).
    CutAfter(u64),
}

/// A running proxy in front of `upstream`.
pub struct FaultProxy {
    pub addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    stop: Arc<AtomicBool>,
    /// Open client connections, cut when the fault changes (as a network change would).
    open: Arc<Mutex<Vec<TcpStream>>>,
    /// Bytes relayed in `Pass` mode: device → server, server → device (what the radio carries).
    counted: Arc<[AtomicU64; 2]>,
}

impl FaultProxy {
    /// Starts relaying from a free loopback port to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        listener.set_nonblocking(true).expect("nonblocking accept");
        let fault = Arc::new(Mutex::new(Fault::Pass));
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::<TcpStream>::new()));
        let counted: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let (f, s, o, n) = (fault.clone(), stop.clone(), open.clone(), counted.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        if let Ok(c) = client.try_clone() {
                            o.lock().unwrap_or_else(|p| p.into_inner()).push(c);
                        }
                        let mode = *f.lock().unwrap_or_else(|p| p.into_inner());
                        let (s, n) = (s.clone(), n.clone());
                        std::thread::spawn(move || handle(client, upstream, mode, &s, &n));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FaultProxy {
            addr,
            fault,
            stop,
            open,
            counted,
        }
    }

    /// Bytes relayed so far (device → server, server → device), headers included.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.counted[0].load(Ordering::Relaxed),
            self.counted[1].load(Ordering::Relaxed),
        )
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies `fault` from now on: open connections are cut, so the next request reconnects.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(|p| p.into_inner()) = fault;
        for c in self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    mode: Fault,
    stop: &AtomicBool,
    counted: &Arc<[AtomicU64; 2]>,
) {
    let _ = client.set_nonblocking(false);
    match mode {
        Fault::Drop => {
            let _ = client.shutdown(Shutdown::Both);
        }
        Fault::Stall => {
            let _ = client.set_read_timeout(Some(Duration::from_millis(50)));
            let mut buf = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                match client.read(&mut buf) {
                    Ok(0) => return,
                    _ => continue,
                }
            }
        }
        Fault::Garbage => {
            let mut buf = [0u8; 65536];
            let _ = client.read(&mut buf);
            let body = b"<html>captive portal: please log in</html>";
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = client.write_all(head.as_bytes());
            let _ = client.write_all(body);
        }
        Fault::CutAfter(limit) => {
            let Ok(server) = TcpStream::connect(upstream) else {
                return;
            };
            let (Ok(mut s_read), Ok(mut c_write)) = (server.try_clone(), client.try_clone()) else {
                return;
            };
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
            });
            let mut upstream_side = server;
            let _ = std::io::copy(&mut (&mut client).take(limit), &mut upstream_side);
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream_side.shutdown(Shutdown::Both);
        }
        Fault::Pass | Fault::Truncate => {
            let Ok(server) = TcpStream::connect(upstream) else {
                return;
            };
            let (Ok(mut c_read), Ok(mut s_write)) = (client.try_clone(), server.try_clone()) else {
                return;
            };
            // Relayed at once, as a real network would: no Nagle delay added by the proxy.
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let up = counted.clone();
            std::thread::spawn(move || {
                relay_counting(&mut c_read, &mut s_write, &up[0]);
                let _ = s_write.shutdown(Shutdown::Write);
            });
            let mut server = server;
            if mode == Fault::Pass {
                relay_counting(&mut server, &mut client, &counted[1]);
            } else {
                relay_head_and_a_little(&mut server, &mut client);
            }
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}

/// Copies `from` to `to` until either side closes, counting bytes as they pass (so a reading
/// taken while a connection is still open is already true).
fn relay_counting(from: &mut TcpStream, to: &mut TcpStream, counter: &AtomicU64) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
                counter.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
}

/// Relays the response head and at most 8 body bytes.
fn relay_head_and_a_little(server: &mut TcpStream, client: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while server.read(&mut byte).unwrap_or(0) == 1 {
        seen.push(byte[0]);
        if seen.ends_with(b"\r\n\r\n") {
            break;
        }
    }
    let mut body = [0u8; 8];
    let n = server.read(&mut body).unwrap_or(0);
    let _ = client.write_all(&seen);
    let _ = client.write_all(&body[..n]);
}
