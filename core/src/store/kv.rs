//! Small named values: the session, the sync cursor, the directory.

use rusqlite::{Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{CoreError, StorageContext};

pub const SESSION: &str = "session";
pub const CURSOR: &str = "cursor";
pub const DIRECTORY: &str = "directory";

/// Reads a JSON value; a value that no longer parses counts as absent.
pub fn get<T: DeserializeOwned>(conn: &Connection, key: &str) -> Result<Option<T>, CoreError> {
    let raw: Option<String> = conn
        .query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .ctx("reading a setting")?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

/// Writes a JSON value.
pub fn put<T: Serialize>(conn: &Connection, key: &str, value: &T) -> Result<(), CoreError> {
    let raw =
        serde_json::to_string(value).map_err(|e| CoreError::Io(format!("encode {key}: {e}")))?;
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, raw),
    )
    .ctx("writing a setting")?;
    Ok(())
}
