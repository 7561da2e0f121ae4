//! Seeds the fixture school of DESIGN.md (known passwords) for tests and the demo.

use crate::db::Db;
use homeroom_protocol::fixture;

use crate::auth::{hash_password, secret_hash};
use crate::db::role_name;
use crate::error::ServerError;

/// Inserts the fixture school unless it is already there; returns whether it seeded.
#[tracing::instrument(skip_all)]
pub async fn seed_fixture(pool: &Db) -> Result<bool, ServerError> {
    let present: Option<(String,)> = sqlx::query_as("SELECT id FROM schools WHERE id = $1")
        .bind(fixture::SCHOOL_ID)
        .fetch_optional(pool)
        .await?;
    if present.is_some() {
        return Ok(false);
    }
    // Hash outside the transaction: argon2 is deliberately slow.
    let mut hashed = Vec::new();
    for u in fixture::USERS.iter() {
        let password = match u.pupil_id {
            None => Some(hash_password(&u.password())?),
            Some(_) => None,
        };
        hashed.push((u, password));
    }
    let mut tx = pool.begin().await?;
    for (id, name) in [
        (fixture::SCHOOL_ID, fixture::SCHOOL_NAME),
        (fixture::OTHER_SCHOOL_ID, "Riverside Academy"),
    ] {
        sqlx::query("INSERT INTO schools (id, name) VALUES ($1, $2)")
            .bind(id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    for (u, password_hash) in &hashed {
        sqlx::query(
            "INSERT INTO users (id, school_id, role, display_name, email, password_hash, pupil_id, pupil_code_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(u.id)
        .bind(u.school_id)
        .bind(role_name(u.role))
        .bind(u.display_name)
        .bind(u.pupil_id.is_none().then(|| u.email()))
        .bind(password_hash.as_deref())
        .bind(u.pupil_id)
        .bind(u.pupil_code().map(|c| secret_hash(&c)))
        .execute(&mut *tx)
        .await?;
    }
    for c in fixture::CLASSES.iter() {
        let class = crate::classes::NewClass {
            id: c.id,
            school_id: fixture::SCHOOL_ID,
            name: c.name,
            show_points_to_parents: c.show_points_to_parents,
            teacher_ids: c.teachers,
            staff_ids: c.staff,
        };
        crate::classes::insert(&mut tx, &class).await?;
    }
    for p in fixture::PUPILS.iter() {
        sqlx::query(
            "INSERT INTO pupils (id, school_id, display_name, class_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(p.id)
        .bind(fixture::SCHOOL_ID)
        .bind(p.display_name)
        .bind(p.class_id)
        .execute(&mut *tx)
        .await?;
        for parent in p.parents {
            sqlx::query("INSERT INTO parent_links (pupil_id, parent_id) VALUES ($1, $2)")
                .bind(p.id)
                .bind(*parent)
                .execute(&mut *tx)
                .await?;
        }
    }
    // REQ-CON-1: the fixture's consent records (devices get them in their directory).
    for (pupil_id, record) in fixture::consent() {
        crate::consent::set(&mut tx, fixture::SCHOOL_ID, &pupil_id, &record, None).await?;
    }
    // Riverside's tablet carries the same test key: a key is looked up per school.
    for (school, admin) in [(fixture::SCHOOL_ID, "H"), (fixture::OTHER_SCHOOL_ID, "X")] {
        sqlx::query(
            "INSERT INTO enrolled_devices (id, school_id, key_hash, label, enrolled_by, enrolled_at) VALUES ($1, $2, $3, 'test tablet', $4, $5)",
        )
        .bind(format!("{school}-test-tablet"))
        .bind(school)
        .bind(secret_hash(fixture::ENROLLED_TABLET_KEY))
        .bind(admin)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}
