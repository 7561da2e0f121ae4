//! The server's database: opening it, migrating it, and loading the facts the rules read.

use std::path::Path;
use std::time::Duration;

use homeroom_protocol::access::{ClassFacts, PupilFacts, Role, SchoolFacts, UserFacts};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::error::ServerError;

/// The server's connection pool; every query goes through this alias so the backend can change
/// in one place (SQL is written portably: `$1..$N` placeholders, no backend-specific syntax).
pub type Db = SqlitePool;

/// A transaction on [`Db`].
pub type DbTx<'c> = sqlx::Transaction<'c, sqlx::Sqlite>;

/// Starts a transaction that holds the write lock from its first statement, so concurrent
/// writers queue instead of failing when a read upgrades to a write.
pub async fn write_tx(db: &Db) -> Result<DbTx<'static>, ServerError> {
    Ok(db.begin_with("BEGIN IMMEDIATE").await?)
}

/// Opens (creating if needed) the embedded SQLite database in `data_dir` and migrates it.
#[tracing::instrument(skip_all)]
pub async fn open(data_dir: &Path) -> Result<Db, ServerError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| ServerError::Internal(format!("create data dir: {e}")))?;
    let opts = SqliteConnectOptions::new()
        .filename(data_dir.join("homeroom.sqlite3"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(opts)
        .await?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .map_err(|e| ServerError::Internal(format!("migrate: {e}")))?;
    Ok(pool)
}

/// Parses a role stored as its snake_case name.
pub fn parse_role(s: &str) -> Result<Role, ServerError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| ServerError::Internal(format!("unknown role in database: {s}")))
}

/// The snake_case name a role is stored as.
pub fn role_name(role: Role) -> String {
    match serde_json::to_value(role) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Loads every fact of one school that the access rules read (a school is small: hundreds of rows).
#[tracing::instrument(skip(pool))]
pub async fn school_facts(pool: &Db, school_id: &str) -> Result<SchoolFacts, ServerError> {
    let mut facts = SchoolFacts::default();
    for row in sqlx::query(
        "SELECT id, role, school_id, pupil_id, messaging_removed FROM users WHERE school_id = ?",
    )
    .bind(school_id)
    .fetch_all(pool)
    .await?
    {
        facts.users.insert(
            row.try_get("id")?,
            UserFacts {
                role: parse_role(row.try_get::<&str, _>("role")?)?,
                school_id: row.try_get("school_id")?,
                pupil_id: row.try_get("pupil_id")?,
                messaging_removed: row.try_get::<i64, _>("messaging_removed")? != 0,
            },
        );
    }
    for row in
        sqlx::query("SELECT id, school_id, show_points_to_parents FROM classes WHERE school_id = ?")
            .bind(school_id)
            .fetch_all(pool)
            .await?
    {
        facts.classes.insert(
            row.try_get("id")?,
            ClassFacts {
                school_id: row.try_get("school_id")?,
                teacher_ids: Vec::new(),
                staff_ids: Vec::new(),
                show_points_to_parents: row.try_get::<i64, _>("show_points_to_parents")? != 0,
            },
        );
    }
    for row in sqlx::query(
        "SELECT cs.class_id, cs.user_id, cs.is_teacher FROM class_staff cs
         JOIN classes c ON c.id = cs.class_id WHERE c.school_id = ? ORDER BY cs.user_id",
    )
    .bind(school_id)
    .fetch_all(pool)
    .await?
    {
        let class_id: String = row.try_get("class_id")?;
        let user_id: String = row.try_get("user_id")?;
        if let Some(c) = facts.classes.get_mut(&class_id) {
            if row.try_get::<i64, _>("is_teacher")? != 0 {
                c.teacher_ids.push(user_id);
            } else {
                c.staff_ids.push(user_id);
            }
        }
    }
    for row in sqlx::query("SELECT id, school_id, class_id FROM pupils WHERE school_id = ?")
        .bind(school_id)
        .fetch_all(pool)
        .await?
    {
        facts.pupils.insert(
            row.try_get("id")?,
            PupilFacts {
                school_id: row.try_get("school_id")?,
                class_id: row.try_get("class_id")?,
                parent_ids: Vec::new(),
            },
        );
    }
    for row in sqlx::query(
        "SELECT l.pupil_id, l.parent_id FROM parent_links l
         JOIN pupils p ON p.id = l.pupil_id WHERE p.school_id = ? ORDER BY l.parent_id",
    )
    .bind(school_id)
    .fetch_all(pool)
    .await?
    {
        let pupil_id: String = row.try_get("pupil_id")?;
        if let Some(p) = facts.pupils.get_mut(&pupil_id) {
            p.parent_ids.push(row.try_get("parent_id")?);
        }
    }
    Ok(facts)
}
