//! The school's message policy end to end (issue 8, issue 5 §6): the admin's emergency that
//! breaks quiet hours (REQ-NOT-4), removing a parent from the school (REQ-MSG-5), the school's
//! working hours (REQ-NOT-1) and the leaders-only safeguarding record (REQ-PRV-5). The real server
//! on loopback with a clock the test moves, real cores, and a push receiver of the test's own.

use chrono::{DateTime, Duration, Utc};
use homeroom_core::{CoreError, Homeroom};
use homeroom_e2e::clocked::ClockedServer;
use homeroom_e2e::{api_token, cached_awards, device, signed_in};
use homeroom_protocol::fixture;
use homeroom_protocol::messaging::EmergencyRecord;
use homeroom_protocol::notify::Category;
use homeroom_protocol::safeguarding::SafeguardingRecord;
use homeroom_server::push::OutgoingPush;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

/// Wednesday 4 March 2026, 21:30 in London (GMT): deep in every staff member's quiet hours.
const WEDNESDAY_2130: &str = "2026-03-04T21:30:00Z";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

/// The fixture school on a server whose clock the test holds, and phones for its people.
struct School {
    s: ClockedServer,
    phones: TempDir,
}

impl std::ops::Deref for School {
    type Target = ClockedServer;
    fn deref(&self) -> &ClockedServer {
        &self.s
    }
}

impl School {
    fn at(start: &str) -> School {
        School {
            s: ClockedServer::start(at(start)),
            phones: TempDir::new().expect("phone dirs"),
        }
    }

    /// A signed-in, synced phone of a fixture parent or staff member.
    fn phone(&self, who: &str) -> Homeroom {
        let d = signed_in(&self.server.url(), &self.phones.path().join(who), who);
        d.sync().expect("first sync");
        d
    }

    /// A fresh session token of a fixture person over HTTP (pupils with their code).
    fn token(&self, who: &str) -> String {
        let http = reqwest::Client::new();
        match fixture::user_by_id(who).and_then(|u| u.pupil_code()) {
            None => self.rt.block_on(api_token(&http, &self.server.url(), who)),
            Some(code) => {
                let body = json!({"method": "pupil_code", "code": code});
                let (_, v) = self.send(Method::POST, None, "/v1/sessions", Some(body));
                v["token"].as_str().expect("pupil token").to_owned()
            }
        }
    }

    /// One request with an optional bearer token; the status and the JSON answer (or null).
    fn send(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.rt.block_on(async {
            let mut req =
                reqwest::Client::new().request(method, format!("{}{path}", self.server.url()));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.expect("request");
            let status = resp.status();
            let text = resp.text().await.expect("body");
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    /// A request as fixture person `who`.
    fn as_(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.send(method, Some(&self.token(who)), path, body)
    }

    /// Registers a loopback push device for `who`, named `<who>-phone`.
    fn push_device(&self, who: &str) {
        let body = json!({"platform": "loopback", "token": format!("{who}-phone")});
        let (status, _) = self.as_(who, Method::PUT, "/v1/me/push-device", Some(body));
        assert_eq!(status, StatusCode::OK, "{who} registers a push device");
    }

    fn emergency(&self, who: &str, body: &str) -> (StatusCode, Value) {
        let req = json!({"emergency_id": uuid::Uuid::new_v4(), "body": body});
        self.as_(who, Method::POST, "/v1/emergencies", Some(req))
    }

    fn rows(&self, sql: &'static str) -> i64 {
        self.rt.block_on(async {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&self.db)
                .await
                .expect("count")
        })
    }
}

fn recipients(pushed: &[OutgoingPush]) -> Vec<&str> {
    let mut r: Vec<&str> = pushed.iter().map(|p| p.recipient_id.as_str()).collect();
    r.sort();
    r
}

// REQ-NOT-4: at 21:30 the admin's emergency reaches staff in their quiet hours and parents at
// once, marked as an emergency, while a parent's message at the same moment waits for 08:00.
#[test]
fn admin_emergency_at_2130_is_pushed_at_once_to_staff_and_parents_marked_emergency() {
    let s = School::at(WEDNESDAY_2130);
    for who in ["tA", "L", "pa1", "pa2", "pa3"] {
        s.push_device(who);
    }
    let pa1 = s.phone("pa1");
    pa1.send_message("tA", "Is PE tomorrow?").expect("message");
    pa1.sync().expect("sent");

    let (status, body) = s.emergency("H", "The school is closed tomorrow: the boiler has failed");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let record: EmergencyRecord = serde_json::from_value(body).expect("emergency record");
    // Staff H, L, tA, sA, tB (less the sender) and parents pa1, pa2, pb1; pa3's family left.
    assert_eq!(record.recipients, 7);
    assert_eq!(record.sent_at, at(WEDNESDAY_2130));

    let pushed = s.dispatch();
    assert_eq!(recipients(&pushed), ["L", "pa1", "pa2", "tA"], "{pushed:?}");
    for p in &pushed {
        assert!(p.emergency, "marked as an emergency: {p:?}");
        assert_eq!(p.category, Category::Emergency);
        assert_eq!(p.deliver_at, at(WEDNESDAY_2130), "delivered at once");
        assert_eq!(p.events, [record.id]);
        // REQ-NOT-5: generic on a locked screen, but unmistakably an emergency.
        assert_eq!(p.title, "Emergency");
        assert_eq!(p.body, "Emergency announcement from school");
    }
    assert_eq!(
        s.receiver.received(),
        pushed,
        "the receiver got exactly these"
    );
    assert!(
        s.dispatch().is_empty(),
        "sent once; pa1's message still waits"
    );

    s.clock.set(at("2026-03-05T08:00:00Z"));
    let morning = s.dispatch();
    assert_eq!(recipients(&morning), ["tA"]);
    assert!(!morning[0].emergency, "an ordinary message is never marked");
    let (_, audit) = s.as_("H", Method::GET, "/v1/audit", None);
    assert_eq!(audit[0]["action"], "send_emergency");
}

// REQ-NOT-4: the server's own dispatcher, ticking only hourly here, sends the emergency as soon as
// it is recorded: the emergency wakes it rather than waiting for the next tick.
#[test]
fn emergency_wakes_the_servers_push_dispatcher_at_once() {
    let s = School {
        s: ClockedServer::start_dispatching(at(WEDNESDAY_2130)),
        phones: TempDir::new().expect("phone dirs"),
    };
    s.push_device("tA");
    let (status, body) = s.emergency("H", "Snow: the school is closed tomorrow");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while s.receiver.received().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let got = s.receiver.received();
    assert_eq!(
        recipients(&got),
        ["tA"],
        "pushed without waiting for the hourly tick"
    );
    assert!(got[0].emergency);
    assert_eq!(got[0].deliver_at, at(WEDNESDAY_2130));
}

// REQ-NOT-4: nobody but the admin sends an emergency; a refusal plans nothing.
#[test]
fn teacher_leader_parent_and_pupil_cannot_send_an_emergency() {
    let s = School::at(WEDNESDAY_2130);
    for who in ["tA", "L", "pa1", "a1"] {
        let (status, body) = s.emergency(who, "Everyone go home");
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    assert_eq!(s.rows("SELECT COUNT(*) FROM emergencies"), 0);
    assert_eq!(s.rows("SELECT COUNT(*) FROM push_plans"), 0);
    let (status, body) = s.emergency("H", "   ");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "body");
}

// REQ-NOT-4, MSG-5, ACC-7: the access-matrix rows of send_emergency and remove_parent hold over
// HTTP (refusals first: an allowed removal changes the school).
#[test]
fn emergency_and_parent_removal_rows_of_the_access_matrix_hold_over_http() {
    let s = School::at("2026-03-04T10:00:00Z");
    let matrix = include_str!("../../../shared/policy/access-matrix.csv");
    let mut rows: Vec<Vec<&str>> = matrix
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| matches!(r[1], "send_emergency" | "remove_parent"))
        .collect();
    rows.sort_by_key(|r| r[3] == "allow");
    assert!(rows.len() >= 5, "the matrix has these rows");
    for r in rows {
        let (actor, action, target, expect) = (r[0], r[1], r[2], r[3]);
        let (status, body) = match action {
            "send_emergency" => s.emergency(actor, "Fire drill at 10:30"),
            _ => s.as_(
                actor,
                Method::POST,
                &format!("/v1/users/{target}/school-removal"),
                Some(json!({"reason": "repeated abuse of staff"})),
            ),
        };
        let held = if expect == "allow" {
            status.is_success()
        } else {
            status == StatusCode::FORBIDDEN
        };
        assert!(held, "{actor},{action},{target}: {status} {body}");
    }
}

// REQ-MSG-5: leaders remove a parent from the school. Their token gets 401 (account_removed),
// their phone wipes the school's data on its next sync, they cannot sign in again — and the
// pupil's second parent is unaffected.
#[test]
fn removed_parent_loses_sessions_and_data_while_the_second_parent_is_unaffected() {
    let s = School::at("2026-03-04T10:00:00Z");
    let ta = s.phone("tA");
    ta.award_points(&["a1".to_owned()], "classA-teamwork", None)
        .expect("award");
    ta.sync().expect("award sent");
    let code = ta
        .issue_parent_code("a1")
        .expect("code for a second parent");
    let second_dir = s.phones.path().join("second-parent");
    let second = device(&s.server.url(), &second_dir);
    second
        .join_with_parent_code(
            &code.code,
            "dad@example.test",
            "a long password 1",
            "Yusuf Ahmed",
        )
        .expect("second parent joins");
    second.sync().expect("second parent syncs");

    let pa1 = s.phone("pa1");
    pa1.send_message("tA", "Please call me").expect("message");
    pa1.sync().expect("sent");
    let pa1_dir = s.phones.path().join("pa1");
    assert_eq!(cached_awards(&pa1_dir, "a1"), 1);
    let old_token = s.token("pa1");

    let (status, body) = s.as_(
        "L",
        Method::POST,
        "/v1/users/pa1/school-removal",
        Some(json!({"reason": "repeated abuse of staff after two warnings"})),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pupils_unlinked"], json!(["a1"]));
    assert!(body["sessions_ended"].as_u64().expect("count") >= 2);

    let (status, body) = s.send(Method::GET, Some(&old_token), "/v1/pull", None);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "account_removed");
    assert!(matches!(pa1.sync(), Err(CoreError::RemovedFromSchool)));
    assert_eq!(
        cached_awards(&pa1_dir, "a1"),
        0,
        "the phone purged the pupil"
    );
    assert!(matches!(pa1.threads(), Err(CoreError::NotSignedIn)));
    let cache = rusqlite::Connection::open(pa1_dir.join("homeroom-cache.sqlite3")).expect("cache");
    let left: i64 = cache
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .expect("count");
    assert_eq!(left, 0, "no thread is left on the phone");
    let (status, body) = s.send(
        Method::POST,
        None,
        "/v1/sessions",
        Some(json!({"method": "password", "email": "pa1@greenfield.test", "password": "pa1-password"})),
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no way back in: {body}");
    assert_eq!(body["error"], "account_removed");

    // The second parent keeps the child, the points and the right to message the teacher.
    second.sync().expect("second parent still syncs");
    assert_eq!(second.points_for("a1").expect("points").len(), 1);
    second
        .send_message("tA", "Amira will be late")
        .expect("may message");
    assert_eq!(second.sync().expect("sent").sent, 1);
    let (_, audit) = s.as_("H", Method::GET, "/v1/audit", None);
    assert!(audit
        .as_array()
        .expect("entries")
        .iter()
        .any(|e| e["action"] == "remove_parent" && e["target"] == "pa1" && e["actor_id"] == "L"));
}

// REQ-NOT-1, MSG-4: the admin moves the school's working hours to 07:30–16:00; a parent's
// evening message then reaches the teacher at 07:30, and the composer says so.
#[test]
fn changed_working_hours_change_when_a_held_push_is_delivered() {
    let s = School::at(WEDNESDAY_2130);
    s.push_device("tA");
    let hours = json!({"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "hours": {"start": "07:30", "end": "16:00"}});
    let (status, body) = s.as_(
        "H",
        Method::PUT,
        "/v1/school/working-hours",
        Some(hours.clone()),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, read) = s.as_("pa1", Method::GET, "/v1/school/working-hours", None);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, hours);

    let pa1 = s.phone("pa1");
    let hint = pa1
        .composer_hint("tA", at(WEDNESDAY_2130))
        .expect("composer hint");
    assert_eq!(
        hint.notified_when.as_deref(),
        Some("Ms Khan will be notified at 07:30 on Thu 5 Mar")
    );
    assert!(
        hint.reply_window
            .as_deref()
            .is_some_and(|w| w.contains("07:30–16:00")),
        "{hint:?}"
    );
    pa1.send_message("tA", "Amira has a dentist appointment")
        .expect("message");
    pa1.sync().expect("sent");

    s.clock.set(at("2026-03-05T07:29:00Z"));
    assert!(s.dispatch().is_empty(), "still quiet at 07:29");
    s.clock.set(at("2026-03-05T07:30:00Z"));
    let pushed = s.dispatch();
    assert_eq!(recipients(&pushed), ["tA"]);
    assert_eq!(pushed[0].deliver_at, at("2026-03-05T07:30:00Z"));
}

// REQ-NOT-1: a push already held for 08:00 moves when the admin brings the school day forward.
#[test]
fn a_push_already_held_moves_when_the_working_hours_change() {
    let s = School::at(WEDNESDAY_2130);
    s.push_device("tA");
    let pa1 = s.phone("pa1");
    pa1.send_message("tA", "Can we talk about the trip?")
        .expect("message");
    pa1.sync().expect("sent");
    let hours = json!({"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "hours": {"start": "07:00", "end": "15:00"}});
    let (status, body) = s.as_("H", Method::PUT, "/v1/school/working-hours", Some(hours));
    assert_eq!(status, StatusCode::OK, "{body}");

    s.clock.set(at("2026-03-05T06:59:00Z"));
    assert!(s.dispatch().is_empty(), "still quiet at 06:59");
    s.clock.set(at("2026-03-05T07:00:00Z"));
    let pushed = s.dispatch();
    assert_eq!(recipients(&pushed), ["tA"], "not left waiting for 08:00");
    assert_eq!(pushed[0].deliver_at, at("2026-03-05T07:00:00Z"));
}

// REQ-NOT-1: only the admin sets working hours; bad input is refused with the field at fault and
// changes nothing.
#[test]
fn bad_working_hours_are_refused_with_the_field_and_nothing_changes() {
    let s = School::at(WEDNESDAY_2130);
    let good = json!({"days": ["Mon"], "hours": {"start": "08:00", "end": "15:00"}});
    for who in ["tA", "L", "pa1"] {
        let (status, _) = s.as_(
            who,
            Method::PUT,
            "/v1/school/working-hours",
            Some(good.clone()),
        );
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }
    let cases = [
        (
            json!({"days": [], "hours": {"start": "08:00", "end": "17:00"}}),
            "days",
        ),
        (
            json!({"days": ["Mon", "Mon"], "hours": {"start": "08:00", "end": "17:00"}}),
            "days",
        ),
        (
            json!({"days": ["Mon", "Funday"], "hours": {"start": "08:00", "end": "17:00"}}),
            "days[1]",
        ),
        (
            json!({"days": ["Mon"], "hours": {"start": "8h", "end": "17:00"}}),
            "hours.start",
        ),
        (
            json!({"days": ["Mon"], "hours": {"start": "08:00", "end": "25:00"}}),
            "hours.end",
        ),
        (
            json!({"days": ["Mon"], "hours": {"start": "17:00", "end": "08:00"}}),
            "hours.end",
        ),
    ];
    for (body, field) in cases {
        let (status, err) = s.as_(
            "H",
            Method::PUT,
            "/v1/school/working-hours",
            Some(body.clone()),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(err["field"], field, "{body}: {err}");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, _) = s.as_(
        "H",
        Method::PUT,
        "/v1/school/working-hours",
        Some(json!({"days": ["Mon"], "hours": {"start": "08:00", "end": "17:00"}, "extra": 1})),
    );
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );
    let (_, read) = s.as_("tA", Method::GET, "/v1/school/working-hours", None);
    assert_eq!(
        read,
        json!({"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "hours": {"start": "08:00", "end": "17:00"}})
    );
}

// REQ-PRV-5: a report writes a copy of the message and its thread to the leaders-only
// safeguarding record; the retention job and erasing the pupil concerned leave it whole, while
// the conversation itself is erased with the pupil (REQ-PRV-4).
#[test]
fn safeguarding_record_is_for_leaders_and_survives_retention_and_pupil_erasure() {
    let s = School::at("2026-03-04T10:00:00Z");
    let pa1 = s.phone("pa1");
    let mut ids = Vec::new();
    for body in [
        "Why was Amira kept in?",
        "This is a disgrace",
        "I will sort you out",
    ] {
        ids.push(pa1.send_message("tA", body).expect("message").record.id);
        pa1.sync().expect("sent");
        s.clock.advance(Duration::minutes(1));
    }
    let ta = s.phone("tA");
    ta.report_message(&ids[2].to_string(), Some("threatening"))
        .expect("report");
    ta.sync().expect("report sent");

    for who in ["tA", "pa1", "sA"] {
        let (status, body) = s.as_(who, Method::GET, "/v1/safeguarding", None);
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        assert!(!body.to_string().contains("sort you out"), "nothing leaks");
    }
    let read = |who: &str| -> Vec<SafeguardingRecord> {
        let (status, body) = s.as_(who, Method::GET, "/v1/safeguarding", None);
        assert_eq!(status, StatusCode::OK, "{who}: {body}");
        serde_json::from_value(body).expect("records")
    };
    let first = read("L");
    assert_eq!(first.len(), 1);
    let r = &first[0];
    assert_eq!(r.message.id, ids[2]);
    assert_eq!(r.reporter_id, "tA");
    assert_eq!(r.reason.as_deref(), Some("threatening"));
    assert_eq!(r.thread.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert_eq!(r.names.get("pa1").map(String::as_str), Some("Sara Ahmed"));
    assert_eq!(r.pupils_concerned, ["a1"]);
    assert_eq!(read("H"), first);

    // Two years on, the retention job has run: the record is whole.
    s.rt.block_on(homeroom_server::retention::run_once(
        &s.db,
        at("2028-03-05T10:00:00Z"),
    ))
    .expect("retention runs");
    assert_eq!(read("L"), first);

    // a1 leaves and is erased: the conversation goes, the safeguarding copy stays.
    let (status, _) = s.as_("tA", Method::DELETE, "/v1/classes/classA/pupils/a1", None);
    assert_eq!(status, StatusCode::OK);
    let (status, erased) = s.as_("H", Method::DELETE, "/v1/pupils/a1", None);
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["messages_deleted"], 3);
    assert_eq!(s.rows("SELECT COUNT(*) FROM messages"), 0);
    let (_, reports) = s.as_("L", Method::GET, "/v1/reports", None);
    assert_eq!(reports, json!([]), "the working report list forgot it");
    assert_eq!(read("L"), first, "the restricted record did not");
}
