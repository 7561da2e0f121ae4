//! The server's database: opening it, migrating it, and loading the facts the rules read.

use std::path::Path;

use homeroom_protocol::access::{ClassFacts, PupilFacts, Role, SchoolFacts, UserFacts};
use sqlx::any::AnyPoolOptions;
use sqlx::{Executor, Row};

use crate::error::ServerError;

/// The server's connection pool: SQLite (embedded, the default) or PostgreSQL (scale), chosen by
/// URL at start. Every query is written once, portably: `$1..$N` placeholders, no
/// backend-specific syntax, only text/integer/real/blob values.
pub type Db = sqlx::AnyPool;

/// A transaction on [`Db`].
pub type DbTx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Which database a pool talks to: the few statements that differ (write locks) branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend behind a pool, from its connection URL.
pub fn backend(db: &Db) -> Backend {
    if db
        .connect_options()
        .database_url
        .scheme()
        .starts_with("postgres")
    {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// Starts a transaction that holds the write lock from its first statement, so concurrent
/// writers queue instead of failing when a read upgrades to a write, and change-log sequence
/// numbers become visible in order (a pull cursor never skips a change committed late).
pub async fn write_tx(db: &Db) -> Result<DbTx<'static>, ServerError> {
    match backend(db) {
        Backend::Sqlite => Ok(db.begin_with("BEGIN IMMEDIATE").await?),
        Backend::Postgres => {
            let mut tx = db.begin().await?;
            // One writer at a time, released at commit or rollback; the key is arbitrary.
            tx.execute("SELECT pg_advisory_xact_lock(7061)").await?;
            Ok(tx)
        }
    }
}

/// Where the server keeps its data: a PostgreSQL URL if given, else SQLite in the data dir.
pub fn database_url(data_dir: &Path, database_url: Option<&str>) -> Result<String, ServerError> {
    if let Some(url) = database_url {
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(ServerError::Internal(
                "--database-url must be a postgres:// URL (SQLite lives in --data-dir)".into(),
            ));
        }
        return Ok(url.to_owned());
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ServerError::Internal(format!("create data dir {}: {e}", data_dir.display()))
    })?;
    let dir = std::fs::canonicalize(data_dir)
        .map_err(|e| ServerError::Internal(format!("data dir {}: {e}", data_dir.display())))?;
    let path = dir.join("homeroom.sqlite3").display().to_string();
    let escaped: String = path
        .chars()
        .map(|c| match c {
            '%' => "%25".to_owned(),
            '?' => "%3F".to_owned(),
            '#' => "%23".to_owned(),
            ' ' => "%20".to_owned(),
            c => c.to_string(),
        })
        .collect();
    Ok(format!("sqlite://{escaped}?mode=rwc"))
}

/// Opens (creating if needed) the database and migrates it: embedded SQLite in `data_dir`, or
/// the PostgreSQL database at `database_url`.
#[tracing::instrument(skip_all)]
pub async fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Db, ServerError> {
    sqlx::any::install_default_drivers();
    let url = self::database_url(data_dir, database_url)?;
    let postgres = database_url.is_some();
    let pool = AnyPoolOptions::new()
        .max_connections(if postgres { 16 } else { 8 })
        // An embedded SQLite connection cannot drop like a network one; pinging it before every
        // use only adds a round trip to its worker thread per query.
        .test_before_acquire(postgres)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if !postgres {
                    // The pragmas DESIGN.md asks for; WAL lets pulls read while a push writes.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    let migrator = if postgres {
        sqlx::migrate!("./migrations/postgres")
    } else {
        sqlx::migrate!("./migrations/sqlite")
    };
    migrator
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
        "SELECT id, role, school_id, pupil_id, messaging_removed FROM users WHERE school_id = $1",
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
    for row in sqlx::query(
        "SELECT id, school_id, show_points_to_parents FROM classes WHERE school_id = $1",
    )
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
         JOIN classes c ON c.id = cs.class_id WHERE c.school_id = $1 ORDER BY cs.user_id",
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
    for row in sqlx::query("SELECT id, school_id, class_id FROM pupils WHERE school_id = $1")
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
         JOIN pupils p ON p.id = l.pupil_id WHERE p.school_id = $1 ORDER BY l.parent_id",
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
