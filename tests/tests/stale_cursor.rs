//! A device's sync cursor from another copy of the server's data — a server restored from a
//! backup, or rebuilt — is refused, and the device starts over from nothing without losing
//! its unsent work or keeping what the server no longer has (REQ-OFF-1, issue 4 "a stale cursor").

use homeroom_e2e::{cached_awards, note_counts, server_db, signed_in, TestServer};
use std::collections::BTreeMap;
use std::path::Path;

fn counts(notes: &[&str]) -> BTreeMap<String, usize> {
    notes.iter().map(|n| (n.to_string(), 1)).collect()
}

/// Does to the server's database what restoring a backup taken before `award_id` does: the
/// award and its log entry are gone. With `rotate`, the operator also follows the README's
/// restore step and gives the log a new id.
async fn restore_backup_without(data_dir: &Path, award_id: &str, rotate: bool) {
    let db = server_db(data_dir).await;
    sqlx::query("DELETE FROM awards WHERE id = $1")
        .bind(award_id)
        .execute(&db)
        .await
        .unwrap();
    let gone = sqlx::query("DELETE FROM changes WHERE kind = 'award' AND payload LIKE $1")
        .bind(format!("%{award_id}%"))
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(gone.rows_affected(), 1, "the award's log entry existed");
    if rotate {
        sqlx::query("UPDATE change_log_identity SET log_id = 'restored-copy' WHERE id = 1")
            .execute(&db)
            .await
            .unwrap();
    }
    db.close().await;
}

#[test]
fn a_restored_server_makes_devices_resync_from_scratch_keeping_unsent_awards() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let tablet_dir = tmp.path().join("tablet");
    let tablet = signed_in(&server.url(), &tablet_dir, "tA");
    let phone_dir = tmp.path().join("phone");
    let phone = signed_in(&server.url(), &phone_dir, "pa1");
    tablet.sync().unwrap();
    tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("kept"))
        .unwrap();
    tablet.sync().unwrap();
    let lost = tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("not in the backup"))
        .unwrap()
        .remove(0);
    tablet.sync().unwrap();
    phone.sync().unwrap();
    assert_eq!(
        note_counts(&phone, "a1"),
        counts(&["kept", "not in the backup"])
    );

    // The server goes down; the teacher carries on offline.
    server.stop();
    tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("awarded offline"))
        .unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(restore_backup_without(server.data_dir(), &lost, true));
    server.restart();

    // The tablet's unsent award reaches the server; what the restored copy lacks leaves the
    // tablet, and nothing is doubled.
    tablet.sync().unwrap();
    assert_eq!(tablet.pending_writes().unwrap(), 0);
    assert_eq!(
        note_counts(&tablet, "a1"),
        counts(&["kept", "awarded offline"])
    );
    phone.sync().unwrap();
    assert_eq!(
        note_counts(&phone, "a1"),
        counts(&["kept", "awarded offline"])
    );
    assert_eq!(cached_awards(&phone_dir, "a1"), 2, "the SQLite file agrees");
    assert_eq!(cached_awards(&tablet_dir, "a1"), 2);
    // Later syncs are ordinary incremental ones again.
    assert_eq!(phone.sync().unwrap().received, 0);
}

#[test]
fn a_cursor_ahead_of_the_servers_log_restarts_the_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    let phone_dir = tmp.path().join("phone");
    let phone = signed_in(&server.url(), &phone_dir, "pa1");
    tablet.sync().unwrap();
    tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("kept"))
        .unwrap();
    tablet.sync().unwrap();
    let lost = tablet
        .award_points(&["a1".into()], "classA-teamwork", Some("newest, then lost"))
        .unwrap()
        .remove(0);
    tablet.sync().unwrap();
    phone.sync().unwrap();
    assert_eq!(note_counts(&phone, "a1").len(), 2);

    // Restored without rotating the log id: the phone's cursor is now past the log's end.
    server.stop();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(restore_backup_without(server.data_dir(), &lost, false));
    server.restart();
    phone.sync().unwrap();
    assert_eq!(note_counts(&phone, "a1"), counts(&["kept"]));
    assert_eq!(cached_awards(&phone_dir, "a1"), 1);
}

#[test]
fn a_pull_with_a_foreign_log_id_is_refused_with_a_clear_409() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let token = homeroom_e2e::api_token(&http, &server.url(), "pa1").await;
        let first =
            homeroom_e2e::get_json(&http, &format!("{}/v1/pull?since=0", server.url()), &token)
                .await;
        let log_id = first["log_id"].as_str().unwrap().to_owned();
        assert!(!log_id.is_empty());
        let url = format!("{}/v1/pull?since=0&log_id={log_id}", server.url());
        homeroom_e2e::get_json(&http, &url, &token).await;
        let other = http
            .get(format!(
                "{}/v1/pull?since=0&log_id=someone-else",
                server.url()
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 409);
        let body: serde_json::Value = other.json().await.unwrap();
        assert_eq!(body["error"], "stale_cursor");
    });
}
