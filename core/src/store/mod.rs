//! The device cache: one SQLite file holding what the person may see and the outbox of their
//! unsent writes, so a change and its outbox entry always commit together (REQ-OFF-1).
//! Notes, outbox entries and settings are sealed with the app's keystore key (REQ-PRV-3).

pub mod awards;
pub mod goals;
pub mod kv;
pub mod media;
pub mod messages;
pub mod migrations;
pub mod outbox;
pub mod posts;
pub mod resync;
pub mod seal;
pub mod social;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::{CoreError, StorageContext};
use seal::Sealer;

const KEY_CHECK: &str = "key_check";
const KEY_CHECK_TEXT: &str = "homeroom cache key check";

/// The open cache. One connection behind a mutex: SQLite has one writer anyway, and the
/// reads a phone makes are small.
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// A second connection that copies the WAL back into the database after a sync, so a
    /// tap's commit never waits for that copy and its fsyncs (opened on first use).
    checkpointer: Mutex<Option<Connection>>,
    sealer: Sealer,
}

/// WAL frames after which a commit checkpoints inline: only a safety valve for a device that
/// writes a lot without syncing (~16 MB); normally [`Store::checkpoint`] runs after each sync.
const INLINE_CHECKPOINT_FRAMES: i64 = 4000;

/// Rows rescued from a damaged cache: the unsent writes and the session.
struct Salvage {
    outbox: Vec<(String, Vec<u8>, String)>,
    session: Option<Vec<u8>>,
}

impl Store {
    /// Opens (creating if needed) the cache at `path` with the keystore `key`. A damaged file
    /// is set aside and rebuilt; its unsent writes are carried over when they can be read, and
    /// when they cannot, the error says so loudly (never silently dropped).
    #[tracing::instrument(skip_all)]
    pub fn open(path: &Path, key: &[u8]) -> Result<Self, CoreError> {
        let sealer = Sealer::new(key)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| CoreError::Io(format!("cannot create the data directory: {e}")))?;
        }
        if damage_marker(path).exists() {
            tracing::warn!("device cache was marked damaged; rebuilding it");
            let store = Self::rebuild(path, sealer);
            let _ = std::fs::remove_file(damage_marker(path));
            return store;
        }
        match Self::open_file(path, &sealer) {
            Err(CoreError::Storage { source, .. }) if is_corruption(&source) => {
                tracing::warn!("device cache is damaged; rebuilding it");
                Self::rebuild(path, sealer)
            }
            Ok(conn) => Ok(Store {
                path: path.to_owned(),
                conn: Mutex::new(conn),
                checkpointer: Mutex::new(None),
                sealer,
            }),
            Err(e) => Err(e),
        }
    }

    fn open_file(path: &Path, sealer: &Sealer) -> Result<Connection, CoreError> {
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
        conn.pragma_update(None, "wal_autocheckpoint", INLINE_CHECKPOINT_FRAMES)
            .ctx("setting wal_autocheckpoint")?;
        migrations::migrate(&mut conn)?;
        // The key check: a cache written under another key is refused, not misread.
        match kv::get_raw(&conn, KEY_CHECK)? {
            Some(sealed) => {
                if sealer.open(&sealed, KEY_CHECK)? != KEY_CHECK_TEXT.as_bytes() {
                    return Err(CoreError::WrongKey);
                }
            }
            None => kv::put_raw(
                &conn,
                KEY_CHECK,
                &sealer.seal_str(KEY_CHECK_TEXT, KEY_CHECK)?,
            )?,
        }
        Ok(conn)
    }

    /// Sets a damaged file aside, salvages what it can, and starts a fresh cache.
    fn rebuild(path: &Path, sealer: Sealer) -> Result<Self, CoreError> {
        let salvage = salvage(path);
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        let aside = path.with_extension(format!("corrupt-{stamp}"));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", path.display()));
            if from.exists() {
                let to = PathBuf::from(format!("{}{suffix}", aside.display()));
                std::fs::rename(&from, &to).map_err(|e| {
                    CoreError::Io(format!("cannot move the damaged cache aside: {e}"))
                })?;
            }
        }
        let conn = Self::open_file(path, &sealer)?;
        let store = Store {
            path: path.to_owned(),
            conn: Mutex::new(conn),
            checkpointer: Mutex::new(None),
            sealer,
        };
        match salvage {
            Ok(s) => {
                let n = s.outbox.len();
                {
                    let mut conn = store.conn();
                    let tx = conn.transaction().ctx("starting the salvage")?;
                    for (client_id, op, created_at) in &s.outbox {
                        outbox::restore_raw(&tx, client_id, op, created_at)?;
                    }
                    if let Some(session) = &s.session {
                        kv::put_raw(&tx, kv::SESSION, session)?;
                    }
                    tx.commit().ctx("committing the salvage")?;
                }
                tracing::warn!(unsent = n, "damaged cache rebuilt; unsent writes kept");
                Ok(store)
            }
            Err(why) => Err(CoreError::CacheCorrupt(format!(
                "unsent changes could not be recovered ({why}); the damaged copy is kept at {}",
                aside.display()
            ))),
        }
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

    /// Records that a query found the file damaged: the next open rebuilds it, keeping the outbox.
    pub fn note_error(&self, e: &CoreError) {
        if let CoreError::Storage { source, .. } = e {
            if is_corruption(source) {
                tracing::warn!("device cache damaged; it will be rebuilt on next open");
                let _ = std::fs::write(damage_marker(&self.path), b"damaged\n");
            }
        }
    }

    /// [`Store::note_error`] for a result.
    pub fn note_error_in<T>(&self, r: &Result<T, CoreError>) {
        if let Err(e) = r {
            self.note_error(e);
        }
    }

    /// Seals and opens sensitive values.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// Copies the WAL back into the database on the second connection (PASSIVE: it never
    /// blocks a writer), so commits on the main connection rarely checkpoint themselves.
    #[tracing::instrument(skip(self))]
    pub fn checkpoint(&self) -> Result<(), CoreError> {
        let mut slot = self.checkpointer.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let conn = Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ctx("opening the checkpoint connection")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .ctx("setting busy_timeout")?;
            *slot = Some(conn);
        }
        if let Some(conn) = slot.as_ref() {
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .ctx("checkpointing the WAL")?;
        }
        Ok(())
    }

    /// Deletes everything this person had on the device: cache, session and outbox (REQ-PRV-3).
    pub fn wipe(&self) -> Result<(), CoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().ctx("starting the wipe")?;
        tx.execute_batch(
            "DELETE FROM awards; DELETE FROM messages; DELETE FROM announcements; DELETE FROM outbox; DELETE FROM rejected_writes;
             DELETE FROM posts; DELETE FROM comments; DELETE FROM likes; DELETE FROM photo_verdicts;
             DELETE FROM media_uploads; DELETE FROM media_cache;
             DELETE FROM kv WHERE key <> 'key_check';",
        )
        .ctx("wiping the cache")?;
        tx.commit().ctx("committing the wipe")?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .ctx("checkpointing after the wipe")?;
        Ok(())
    }
}

/// The file whose presence says "rebuild this cache on next open".
fn damage_marker(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.damaged", path.display()))
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt)
    )
}

/// Reads the outbox and session out of a damaged file, read-only.
fn salvage(path: &Path) -> Result<Salvage, String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    // As recovery tools do: read past a damaged schema entry of another table.
    conn.execute_batch("PRAGMA writable_schema = ON;")
        .map_err(|e| e.to_string())?;
    let has_outbox: bool = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|e| e.to_string())?
        > 0;
    let mut outbox = Vec::new();
    if has_outbox {
        let mut stmt = conn
            .prepare("SELECT client_id, op, created_at FROM outbox ORDER BY seq")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| e.to_string())?;
        for row in rows {
            outbox.push(row.map_err(|e| e.to_string())?);
        }
    }
    let session = kv::get_raw(&conn, kv::SESSION).ok().flatten();
    Ok(Salvage { outbox, session })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    /// Rows of `kv` readable from the main database file alone (the WAL left behind).
    fn rows_in_main_file(store_path: &Path, copy: &Path) -> i64 {
        std::fs::copy(store_path, copy).unwrap();
        let conn = Connection::open(copy).unwrap();
        let has_kv: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'kv'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if has_kv == 0 {
            return 0;
        }
        conn.query_row("SELECT COUNT(*) FROM kv WHERE key LIKE 'row-%'", [], |r| {
            r.get(0)
        })
        .unwrap()
    }

    #[test]
    fn commits_leave_the_checkpoint_to_the_sync_and_the_checkpoint_lands_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite3");
        let store = Store::open(&path, &KEY).unwrap();
        for i in 0..800 {
            kv::put_raw(&store.conn(), &format!("row-{i}"), &[0u8; 600]).unwrap();
        }
        // 800 commits are more frames than SQLite's default inline checkpoint (1,000) but under
        // ours: no commit copied the WAL back, so the main file alone holds none of them.
        assert_eq!(rows_in_main_file(&path, &dir.path().join("a.sqlite3")), 0);
        store.checkpoint().unwrap();
        assert_eq!(rows_in_main_file(&path, &dir.path().join("b.sqlite3")), 800);
    }
}
