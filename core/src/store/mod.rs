//! The device cache: one SQLite file holding what the person may see and the outbox of their
//! unsent writes, so a change and its outbox entry always commit together (REQ-OFF-1).

pub mod awards;
pub mod kv;
pub mod migrations;
pub mod outbox;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags};

use crate::error::{CoreError, StorageContext};

/// The open cache. One connection behind a mutex: SQLite has one writer anyway, and the
/// reads a phone makes are small.
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the cache at `path`, applies the pragmas and migrations.
    #[tracing::instrument(skip_all)]
    pub fn open(path: &Path) -> Result<Self, CoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| CoreError::Io(format!("cannot create the data directory: {e}")))?;
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ctx("opening the cache")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .ctx("setting busy_timeout")?;
        // WAL: readers never block the writer; NORMAL sync is durable across an app kill.
        conn.pragma_update(None, "journal_mode", "WAL")
            .ctx("enabling WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .ctx("setting synchronous")?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .ctx("setting temp_store")?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .ctx("enabling foreign keys")?;
        migrations::migrate(&mut conn)?;
        Ok(Store {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    /// Where the cache lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for one unit of work. Never hold it while calling app code.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back),
        // so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deletes everything this person had on the device: cache, session and outbox (REQ-PRV-3).
    pub fn wipe(&self) -> Result<(), CoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().ctx("starting the wipe")?;
        tx.execute_batch(
            "DELETE FROM awards; DELETE FROM outbox; DELETE FROM rejected_writes; DELETE FROM kv;",
        )
        .ctx("wiping the cache")?;
        tx.commit().ctx("committing the wipe")?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .ctx("checkpointing after the wipe")?;
        Ok(())
    }
}
