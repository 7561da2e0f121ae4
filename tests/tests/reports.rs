//! Points reports (REQ-PTS-4): pie-chart data over HTTP and on the device, the report rows of
//! the access matrix, and month/all-time reports shared with a pupil's parents on request.

use chrono::Utc;
use homeroom_e2e::{api_token, get_as, get_json, post_as, signed_in, TestServer};
use homeroom_protocol::reports::Period;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

const MATRIX: &str = include_str!("../../../shared/policy/access-matrix.csv");

async fn award(http: &reqwest::Client, url: &str, token: &str, pupil: &str, skill: &str) {
    let body = json!({"writes": [{
        "client_id": Uuid::new_v4(),
        "op": {"type": "award_points", "awards": [{"award_id": Uuid::new_v4(), "pupil_id": pupil}],
               "skill_id": skill, "note": null, "awarded_at": Utc::now()}
    }]});
    let (_, r) = post_as(http, &format!("{url}/v1/push"), token, &body).await;
    assert_eq!(r["results"][0]["status"], "accepted", "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_report_row_of_the_access_matrix_holds_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let http = reqwest::Client::new();
    let ta = api_token(&http, &url, "tA").await;
    award(&http, &url, &ta, "a1", "classA-teamwork").await;
    let mut tokens = std::collections::HashMap::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in MATRIX.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 4 {
            continue;
        }
        let (actor, action, target, allow) = (f[0], f[1], f[2], f[3] == "allow");
        let resp = if let Some(period) = action.strip_prefix("read_report_") {
            if !tokens.contains_key(actor) {
                tokens.insert(actor, api_token(&http, &url, actor).await);
            }
            http.get(format!("{url}/v1/pupils/{target}/report?period={period}"))
                .bearer_auth(&tokens[actor])
                .send()
                .await
                .unwrap()
        } else if let Some(period) = action.strip_prefix("share_report_") {
            if !tokens.contains_key(actor) {
                tokens.insert(actor, api_token(&http, &url, actor).await);
            }
            http.post(format!("{url}/v1/pupils/{target}/report-shares"))
                .bearer_auth(&tokens[actor])
                .json(&json!({ "period": period }))
                .send()
                .await
                .unwrap()
        } else {
            continue;
        };
        let status = resp.status();
        let body = resp.text().await.unwrap();
        let got_allow = status == StatusCode::OK;
        if got_allow != allow {
            failures.push(format!("{line}: got {status} {body}"));
        }
        // A refusal says nothing about the pupil's points.
        if !allow && (status != StatusCode::FORBIDDEN || body.contains("slices")) {
            failures.push(format!(
                "{line}: refusal leaks or is not 403: {status} {body}"
            ));
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "every read_report_* and share_report_* row");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parent_sees_the_week_as_a_pie_and_the_month_only_once_the_teacher_shares_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::fresh(&tmp.path().join("server"));
    let url = server.url();
    let http = reqwest::Client::new();
    let ta = api_token(&http, &url, "tA").await;
    let pa1 = api_token(&http, &url, "pa1").await;
    let pa2 = api_token(&http, &url, "pa2").await;
    for skill in ["classA-teamwork", "classA-teamwork", "classA-off-task"] {
        award(&http, &url, &ta, "a1", skill).await;
    }
    award(&http, &url, &ta, "a2", "classA-teamwork").await;

    let week = get_json(
        &http,
        &format!("{url}/v1/pupils/a1/report?period=week"),
        &pa1,
    )
    .await;
    assert_eq!(
        (
            &week["positive"],
            &week["needs_work"],
            &week["total"],
            &week["awards"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(3))
    );
    let slices = week["slices"].as_array().unwrap();
    assert_eq!(slices.len(), 2, "one slice per skill used");
    assert_eq!(slices[0]["skill_id"], "classA-teamwork");
    assert_eq!(slices[0]["count"], 2);
    assert_eq!(slices[1]["kind"], "needs_work");

    // The month is the teacher's until shared (PTS-4).
    let month = get_as(
        &http,
        &format!("{url}/v1/pupils/a1/report?period=month"),
        &pa1,
    )
    .await;
    assert_eq!(month.0, StatusCode::FORBIDDEN);
    let none = get_json(&http, &format!("{url}/v1/pupils/a1/report-shares"), &pa1).await;
    assert_eq!(none, json!([]));
    let shares = format!("{url}/v1/pupils/a1/report-shares");
    let (_, shared) = post_as(&http, &shares, &ta, &json!({"period": "month"})).await;
    assert_eq!(shared["report"]["total"], 1);
    let list = get_json(&http, &format!("{url}/v1/pupils/a1/report-shares"), &pa1).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["report"]["period"], "month");
    assert_eq!(list[0]["shared_by"], "tA");
    // Another family never sees it; a week report is not "shared" (the family has it already).
    assert_eq!(get_as(&http, &shares, &pa2).await.0, StatusCode::FORBIDDEN);
    let week_share = post_as(&http, &shares, &ta, &json!({"period": "week"})).await;
    assert_eq!(week_share.0, StatusCode::BAD_REQUEST);
    let unknown = get_as(
        &http,
        &format!("{url}/v1/pupils/a1/report?period=decade"),
        &ta,
    )
    .await;
    assert_eq!(unknown.0, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.1["field"], "period");
}

#[test]
fn the_device_report_works_offline_and_matches_the_servers() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = TestServer::fresh(&tmp.path().join("server"));
    let tablet = signed_in(&server.url(), &tmp.path().join("tablet"), "tA");
    let phone = signed_in(&server.url(), &tmp.path().join("phone"), "pa1");
    tablet.sync().unwrap();
    for skill in ["classA-teamwork", "classA-hard-work", "classA-off-task"] {
        tablet.award_points(&["a1".into()], skill, None).unwrap();
    }
    tablet.sync().unwrap();
    phone.sync().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let from_server = rt.block_on(async {
        let http = reqwest::Client::new();
        let pa1 = api_token(&http, &server.url(), "pa1").await;
        get_json(
            &http,
            &format!("{}/v1/pupils/a1/report?period=fortnight", server.url()),
            &pa1,
        )
        .await
    });
    server.stop();
    // Offline now: the phone still draws the same pie.
    let on_phone = phone
        .points_report("a1", Period::Fortnight, Utc::now())
        .unwrap();
    assert_eq!(on_phone.total, from_server["total"].as_i64().unwrap());
    assert_eq!(
        on_phone.awards as u64,
        from_server["awards"].as_u64().unwrap()
    );
    assert_eq!(on_phone.slices.len(), 3);
    for (mine, theirs) in on_phone
        .slices
        .iter()
        .zip(from_server["slices"].as_array().unwrap())
    {
        assert_eq!(mine.skill_id, theirs["skill_id"].as_str().unwrap());
        assert_eq!(mine.count as u64, theirs["count"].as_u64().unwrap());
    }
    // The phone refuses what the rules refuse, offline too.
    assert!(phone
        .points_report("a1", Period::AllTime, Utc::now())
        .is_err());
    assert!(phone.points_report("a2", Period::Week, Utc::now()).is_err());
    assert_eq!(
        tablet
            .points_report("a1", Period::AllTime, Utc::now())
            .unwrap()
            .awards,
        3
    );
}
