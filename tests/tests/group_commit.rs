//! Pushes that arrive together are committed together (the server's group commit) without
//! giving up any per-write guarantee: each write applied at most once even when its replays land
//! in the same batch, refusals isolated to their own write, nothing visible before commit
//! (REQ-OFF-1, issue 5 load).

use homeroom_e2e::{api_token, get_json, post_as, TestServer};
use serde_json::{json, Value};

fn award(client: &str, award: &str, pupil: &str) -> Value {
    json!({
        "client_id": client,
        "op": {"type": "award_points", "awards": [{"award_id": award, "pupil_id": pupil}],
               "skill_id": "classA-teamwork", "note": null, "awarded_at": "2026-11-23T10:00:00Z"}
    })
}

/// Sends one push as `token` on its own task; the task answers the push's JSON (after a 200).
fn spawn_push(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    writes: Vec<Value>,
) -> tokio::task::JoinHandle<Value> {
    let (http, url, token) = (http.clone(), url.to_owned(), token.to_owned());
    tokio::spawn(async move {
        let (status, answer) = post_as(
            &http,
            &format!("{url}/v1/push"),
            &token,
            &json!({ "writes": writes }),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        answer
    })
}

#[test]
fn concurrent_pushes_and_replays_apply_each_write_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let url = server.url();
        let token = api_token(&http, &url, "tA").await;
        let push = |writes: Vec<Value>| spawn_push(&http, &url, &token, writes);
        let replayed = "00000000-0000-4000-8000-00000000aaaa";
        let mut tasks = Vec::new();
        for i in 0..60u32 {
            // Every push carries a fresh award; a third also replay the same write; and every
            // tenth carries a write the rules refuse (a pupil of another class).
            let mut writes = vec![award(
                &format!("00000000-0000-4000-8000-{i:012}"),
                &format!("00000000-0000-4000-9000-{i:012}"),
                if i % 2 == 0 { "a1" } else { "a2" },
            )];
            if i % 3 == 0 {
                writes.push(award(
                    replayed,
                    "00000000-0000-4000-9000-00000000aaaa",
                    "a1",
                ));
            }
            if i % 10 == 0 {
                writes.push(award(
                    &format!("00000000-0000-4000-8000-{:012}", 1000 + i),
                    &format!("00000000-0000-4000-9000-{:012}", 1000 + i),
                    "b1",
                ));
            }
            tasks.push(push(writes));
        }
        let mut accepted = 0;
        let mut replay_accepted = 0;
        let mut refused = 0;
        for t in tasks {
            let answer = t.await.unwrap();
            for r in answer["results"].as_array().unwrap() {
                let kind = r["status"].as_str().unwrap_or_default().to_owned();
                let is_replay = r["client_id"] == replayed;
                match kind.as_str() {
                    "accepted" if is_replay => replay_accepted += 1,
                    "accepted" => accepted += 1,
                    "already_applied" => assert!(is_replay, "only replays repeat: {r}"),
                    _ => {
                        assert!(!is_replay, "the replayed write is valid: {r}");
                        refused += 1;
                    }
                }
            }
        }
        assert_eq!(accepted, 60, "every fresh award applied");
        assert_eq!(replay_accepted, 1, "the replayed write applied once");
        assert_eq!(refused, 6, "each refusal isolated to its write");

        // The log holds exactly what was accepted: 61 awards, no refused one.
        let pulled = get_json(&http, &format!("{url}/v1/pull?since=0"), &token).await;
        let awards: Vec<&Value> = pulled["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["kind"] == "award"
                    && c["id"]
                        .as_str()
                        .is_some_and(|id| id.starts_with("00000000-0000-4000-9000"))
            })
            .collect();
        assert_eq!(awards.len(), 61);
        assert!(awards.iter().all(|a| a["pupil_id"] != "b1"));
    });
}

/// A write is all or nothing: when its second award is refused (the id is taken), its first
/// award must not stay behind, even when it shares a group commit with accepted pushes.
#[test]
fn a_refused_write_keeps_none_of_its_awards_in_a_shared_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let url = server.url();
        let token = api_token(&http, &url, "tA").await;
        let taken = "00000000-0000-4000-9000-0000000000ff";
        let (status, first) = post_as(
            &http,
            &format!("{url}/v1/push"),
            &token,
            &json!({"writes": [award("00000000-0000-4000-8000-0000000000ff", taken, "a1")]}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(first["results"][0]["status"], "accepted");

        let two_awards = json!({
            "client_id": "00000000-0000-4000-8000-0000000000fe",
            "op": {"type": "award_points",
                   "awards": [{"award_id": "00000000-0000-4000-9000-0000000000fe", "pupil_id": "a1"},
                              {"award_id": taken, "pupil_id": "a2"}],
                   "skill_id": "classA-teamwork", "note": null, "awarded_at": "2026-11-23T10:00:00Z"}
        });
        let mut tasks = Vec::new();
        for i in 0..30u32 {
            let writes = if i == 15 {
                vec![two_awards.clone()]
            } else {
                vec![award(
                    &format!("00000000-0000-4000-8000-{i:012}"),
                    &format!("00000000-0000-4000-9000-{i:012}"),
                    "a2",
                )]
            };
            tasks.push(spawn_push(&http, &url, &token, writes));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            let answer = t.await.unwrap();
            statuses.push(answer["results"][0]["status"].as_str().unwrap().to_owned());
        }
        assert_eq!(statuses.iter().filter(|s| *s == "accepted").count(), 29);
        assert_eq!(statuses[15], "rejected", "the write naming a taken id");

        let pulled = get_json(&http, &format!("{url}/v1/pull?since=0"), &token).await;
        let ids: Vec<&str> = pulled["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "award")
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert!(
            !ids.contains(&"00000000-0000-4000-9000-0000000000fe"),
            "the refused write's first award was kept: {ids:?}"
        );
        assert_eq!(ids.iter().filter(|id| **id == taken).count(), 1);
        assert_eq!(
            ids.iter()
                .filter(|id| id.starts_with("00000000-0000-4000-9000-0000000000"))
                .count(),
            30,
            "29 fresh awards and the first one"
        );
    });
}
