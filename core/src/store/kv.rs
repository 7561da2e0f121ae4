//! Small named values — the session, the sync cursor, the directory — sealed at rest.

use rusqlite::{Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{CoreError, StorageContext};
use crate::store::seal::Sealer;

pub const SESSION: &str = "session";
pub const CURSOR: &str = "cursor";
pub const DIRECTORY: &str = "directory";
/// Which copy of the server's change log the cursor counts in.
pub const LOG_ID: &str = "log_id";

/// Reads and opens a JSON value; a value that no longer parses counts as absent.
pub fn get<T: DeserializeOwned>(
    conn: &Connection,
    sealer: &Sealer,
    key: &str,
) -> Result<Option<T>, CoreError> {
    match get_raw(conn, key)? {
        None => Ok(None),
        Some(sealed) => {
            let plain = sealer.open(&sealed, &place(key))?;
            Ok(serde_json::from_slice(&plain).ok())
        }
    }
}

/// Seals and writes a JSON value.
pub fn put<T: Serialize>(
    conn: &Connection,
    sealer: &Sealer,
    key: &str,
    value: &T,
) -> Result<(), CoreError> {
    let raw = serde_json::to_vec(value).map_err(|e| CoreError::Io(format!("encode {key}: {e}")))?;
    put_raw(conn, key, &sealer.seal(&raw, &place(key))?)
}

fn place(key: &str) -> String {
    format!("kv:{key}")
}

/// The stored bytes, as they are.
pub fn get_raw(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, CoreError> {
    conn.query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .ctx("reading a setting")
}

/// Stores bytes as they are.
pub fn put_raw(conn: &Connection, key: &str, value: &[u8]) -> Result<(), CoreError> {
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
    .ctx("writing a setting")?;
    Ok(())
}

/// Removes a value; absent is fine.
pub fn delete(conn: &Connection, key: &str) -> Result<(), CoreError> {
    conn.execute("DELETE FROM kv WHERE key = ?1", [key])
        .ctx("removing a setting")?;
    Ok(())
}
