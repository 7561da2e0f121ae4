//! The server keeps school facts and directories in memory (issue 5 load, issue 4 cold sync);
//! every change to what they are built from must be seen by the very next request, or a removed
//! family would keep access (REQ-ACC-1, ACC-5, CON-4). Runs on SQLite and, when
//! HOMEROOM_TEST_DATABASE_URL is set, on PostgreSQL.

use homeroom_protocol::fixture;
use homeroom_server::db::Db;
use homeroom_server::facts_cache::FactsCache;

async fn school(dir: &std::path::Path) -> Db {
    let url = homeroom_e2e::test_database_url(dir).await;
    let db = homeroom_server::db::open(dir, url.as_deref())
        .await
        .unwrap();
    homeroom_server::seed::seed_fixture(&db).await.unwrap();
    db
}

async fn exec(db: &Db, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.execute(db).await.unwrap();
}

#[tokio::test]
async fn cached_facts_follow_every_membership_change_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let db = school(tmp.path()).await;
    let cache = FactsCache::default();
    let s = fixture::SCHOOL_ID;

    let before = cache.facts(&db, s).await.unwrap();
    assert!(before.pupils["a1"].parent_ids.contains(&"pa1".to_string()));
    let again = cache.facts(&db, s).await.unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&before.facts, &again.facts),
        "unchanged facts are reused, not rebuilt"
    );

    // A family leaves: the parent link goes (REQ-ACC-1).
    exec(
        &db,
        "DELETE FROM parent_links WHERE pupil_id = $1 AND parent_id = $2",
        &["a1", "pa1"],
    )
    .await;
    let now = cache.facts(&db, s).await.unwrap();
    assert!(!now.pupils["a1"].parent_ids.contains(&"pa1".to_string()));

    // A pupil leaves the class.
    exec(
        &db,
        "UPDATE pupils SET class_id = NULL WHERE id = $1",
        &["a2"],
    )
    .await;
    assert_eq!(
        cache.facts(&db, s).await.unwrap().pupils["a2"].class_id,
        None
    );

    // Staff change.
    exec(
        &db,
        "DELETE FROM class_staff WHERE class_id = $1 AND user_id = $2",
        &["classA", "sA"],
    )
    .await;
    let now = cache.facts(&db, s).await.unwrap();
    assert!(!now.classes["classA"].staff_ids.contains(&"sA".to_string()));

    // A class stops showing points to parents (REQ-PTS-5).
    exec(
        &db,
        "UPDATE classes SET show_points_to_parents = 0 WHERE id = $1",
        &["classA"],
    )
    .await;
    assert!(!cache.facts(&db, s).await.unwrap().classes["classA"].show_points_to_parents);

    // A parent loses messaging (REQ-MSG-5).
    exec(
        &db,
        "UPDATE users SET messaging_removed = 1 WHERE id = $1",
        &["pb1"],
    )
    .await;
    assert!(cache.facts(&db, s).await.unwrap().users["pb1"].messaging_removed);
}

async fn dir(
    cache: &FactsCache,
    db: &Db,
    caller: &homeroom_server::auth::Caller,
) -> std::sync::Arc<homeroom_protocol::wire::Directory> {
    let snap = cache.facts(db, &caller.school_id).await.unwrap();
    cache.directory(db, caller, &snap).await.unwrap()
}

#[tokio::test]
async fn cached_directory_follows_names_skills_and_consent() {
    let tmp = tempfile::tempdir().unwrap();
    let db = school(tmp.path()).await;
    let cache = FactsCache::default();
    let s = fixture::SCHOOL_ID;
    let teacher = homeroom_server::auth::Caller {
        user_id: "tA".into(),
        school_id: s.into(),
        role: homeroom_protocol::access::Role::Teacher,
        session: String::new(),
        facts_generation: 0,
    };
    let first = dir(&cache, &db, &teacher).await;
    let again = dir(&cache, &db, &teacher).await;
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "reused while nothing changed"
    );

    exec(
        &db,
        "UPDATE pupils SET display_name = $1 WHERE id = $2",
        &["Renamed Pupil", "a1"],
    )
    .await;
    let renamed = dir(&cache, &db, &teacher).await;
    assert!(renamed
        .pupils
        .iter()
        .any(|p| p.id == "a1" && p.display_name == "Renamed Pupil"));
    assert_ne!(renamed.version, first.version);

    exec(
        &db,
        "UPDATE skills SET name = $1 WHERE id = $2",
        &["Kindness", "classA-teamwork"],
    )
    .await;
    assert!(dir(&cache, &db, &teacher)
        .await
        .skills
        .iter()
        .any(|k| k.id == "classA-teamwork" && k.name == "Kindness"));

    // Consent withdrawn reaches the tablet's consent filter on the next pull (REQ-CON-4).
    assert!(!dir(&cache, &db, &teacher).await.consent["a1"]
        .uses
        .is_empty());
    exec(&db, "DELETE FROM consent WHERE pupil_id = $1", &["a1"]).await;
    exec(
        &db,
        "INSERT INTO consent (pupil_id, record, updated_by, updated_at) VALUES ($1, $2, $3, $4)",
        &["a1", "{}", "H", "2026-01-01T00:00:00Z"],
    )
    .await;
    let now = dir(&cache, &db, &teacher).await;
    assert!(
        now.consent["a1"].uses.is_empty(),
        "the withdrawal is seen at once"
    );
    assert_ne!(now.version, renamed.version);
}
