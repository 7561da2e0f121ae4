//! Messaging end to end (issue 8): the real server on loopback with an injected clock, real core
//! instances, and a loopback push receiver of the test's own (REQ-MSG-1..6, NOT-2, NOT-5).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use homeroom_core::{CoreError, Homeroom};
use homeroom_e2e::push_receiver::PushReceiver;
use homeroom_e2e::{device, signed_in, TestServer};
use homeroom_protocol::access::Denied;
use homeroom_protocol::fixture;
use homeroom_protocol::notify::{Category, DigestKey};
use homeroom_server::clock::ManualClock;
use homeroom_server::push::{dispatch::dispatch_due, Senders};
use reqwest::StatusCode;
use tempfile::TempDir;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

/// Wednesday 4 March 2026, 21:30 in London (GMT): after the teacher's quiet hours began.
const WEDNESDAY_2130: &str = "2026-03-04T21:30:00Z";
/// Thursday 08:00 in London: the next school day's first allowed instant.
const THURSDAY_0800: &str = "2026-03-05T08:00:00Z";

struct World {
    _tmp: TempDir,
    server: TestServer,
    clock: Arc<ManualClock>,
    receiver: PushReceiver,
    rt: tokio::runtime::Runtime,
    db: homeroom_server::db::Db,
    senders: Senders,
    dirs: TempDir,
}

impl World {
    fn new(start: &str) -> World {
        let homeroom_e2e::clocked::ClockedServer {
            data: tmp,
            server,
            clock,
            receiver,
            rt,
            db,
            senders,
        } = homeroom_e2e::clocked::ClockedServer::start(at(start));
        World {
            _tmp: tmp,
            server,
            clock,
            receiver,
            rt,
            db,
            senders,
            dirs: TempDir::new().expect("device dirs"),
        }
    }

    /// A signed-in, synced device for a fixture person (pupils with their code).
    fn phone(&self, who: &str) -> Homeroom {
        let dir = self.dirs.path().join(who);
        let d = match fixture::user_by_id(who).and_then(|u| u.pupil_code()) {
            Some(code) => {
                let d = device(&self.server.url(), &dir);
                d.sign_in_with_pupil_code(&code).expect("pupil signs in");
                d
            }
            None => signed_in(&self.server.url(), &dir, who),
        };
        d.sync().expect("first sync");
        d
    }

    /// Runs the server's push dispatcher at the clock's time; returns what was pushed.
    fn dispatch(&self) -> Vec<homeroom_server::push::OutgoingPush> {
        self.rt
            .block_on(dispatch_due(&self.db, &self.senders, self.clock_now()))
            .expect("dispatch")
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use homeroom_server::clock::Clock;
        self.clock.now()
    }

    fn token(&self, who: &str) -> String {
        let u = fixture::user_by_id(who).expect("fixture person");
        let body = match u.pupil_code() {
            Some(code) => serde_json::json!({"method": "pupil_code", "code": code}),
            // Staff sign in only from an enrolled device (REQ-ACC-6): the shared helper knows how.
            None => {
                return self.rt.block_on(homeroom_e2e::api_token(
                    &reqwest::Client::new(),
                    &self.server.url(),
                    who,
                ))
            }
        };
        self.rt.block_on(async {
            let resp: serde_json::Value = reqwest::Client::new()
                .post(format!("{}/v1/sessions", self.server.url()))
                .json(&body)
                .send()
                .await
                .expect("sign in")
                .json()
                .await
                .expect("json");
            resp["token"].as_str().expect("token").to_owned()
        })
    }

    /// `POST /v1/messages` straight to the server, bypassing the core's own check.
    fn post_message(&self, who: &str, to: &str, body: &str) -> StatusCode {
        let token = self.token(who);
        self.rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{}/v1/messages", self.server.url()))
                .bearer_auth(token)
                .json(&serde_json::json!({
                    "message_id": uuid::Uuid::new_v4(), "to": to, "body": body
                }))
                .send()
                .await
                .expect("request")
                .status()
        })
    }

    fn get(&self, who: &str, path: &str) -> (StatusCode, String) {
        let token = self.token(who);
        self.rt.block_on(async {
            let r = reqwest::Client::new()
                .get(format!("{}{path}", self.server.url()))
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            (r.status(), r.text().await.expect("body"))
        })
    }
}

/// pa1 writes tA three messages at 21:30, a minute apart; returns their ids.
fn three_evening_messages(w: &World, pa1: &Homeroom) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    for body in [
        "Amira left her reading book at school",
        "Could she bring it home tomorrow?",
        "Thank you!",
    ] {
        ids.push(
            pa1.send_message("tA", body)
                .expect("parent may message tA")
                .record
                .id,
        );
        assert_eq!(pa1.sync().expect("sent").sent, 1);
        w.clock.advance(Duration::minutes(1));
    }
    ids
}

// REQ-NOT-2, NOT-5, MSG-1: three messages at 21:30 are one digest at 08:00 the next school day,
// on the server's push record and in the plan the teacher's own phone makes.
#[test]
fn evening_messages_reach_the_teacher_as_one_digest_at_0800_next_school_day() {
    let w = World::new(WEDNESDAY_2130);
    let ta = w.phone("tA");
    ta.register_push_device("loopback", "tA-phone")
        .expect("device registered");
    let pa1 = w.phone("pa1");
    let ids = three_evening_messages(&w, &pa1);

    assert!(w.dispatch().is_empty(), "nothing is pushed in quiet hours");
    w.clock.set(at("2026-03-05T07:59:00Z"));
    assert!(w.dispatch().is_empty(), "still quiet at 07:59");
    assert!(w.receiver.received().is_empty());

    w.clock.set(at(THURSDAY_0800));
    let pushed = w.dispatch();
    assert_eq!(pushed.len(), 1, "one digest, not three pushes: {pushed:?}");
    let received = w.receiver.received();
    assert_eq!(received, pushed, "the receiver got exactly what was sent");
    let digest = &received[0];
    assert_eq!(digest.recipient_id, "tA");
    assert_eq!(digest.device_token, "tA-phone");
    assert_eq!(digest.deliver_at, at(THURSDAY_0800));
    assert_eq!(digest.events, ids, "pa1's three messages, oldest first");
    assert_eq!(digest.category, Category::MessageFromParent);
    assert!(!digest.emergency);
    // REQ-NOT-5: no message text or name on the lock screen by default.
    assert_eq!(digest.title, "Homeroom");
    assert_eq!(digest.body, "3 new messages from a parent");
    assert!(w.dispatch().is_empty(), "sent once");

    // The core on tA's phone, synced at 21:33, plans the same.
    ta.sync().expect("teacher syncs");
    let plan = ta
        .plan_notifications(at("2026-03-04T21:33:00Z"))
        .expect("plan");
    assert!(plan.now.is_empty(), "nothing shown at once: {plan:?}");
    assert_eq!(plan.digests.len(), 1);
    assert_eq!(plan.digests[0].deliver_at, at(THURSDAY_0800));
    assert_eq!(plan.digests[0].events, ids);
    let thread = uuid::Uuid::parse_str(&pa1.thread_with("tA").expect("thread id")).expect("uuid");
    assert_eq!(plan.digests[0].key, DigestKey::Conversation(thread));
    assert_eq!(plan.digests[0].content.body, digest.body);
    assert!(digest.collapse_key.ends_with(&thread.to_string()));
}

// REQ-MSG-1: delivered when the teacher's phone has it, read when the teacher opens it; the
// parent's phone learns both.
#[test]
fn parent_sees_delivered_then_read_after_the_teacher_opens_the_thread() {
    let w = World::new("2026-03-04T10:00:00Z");
    let pa1 = w.phone("pa1");
    let ta = w.phone("tA");
    let sent = pa1.send_message("tA", "Is PE on Friday?").expect("sent");
    assert!(sent.pending);
    pa1.sync().expect("push");
    let thread = pa1.thread_with("tA").expect("thread");

    ta.sync().expect("teacher pulls");
    let list = ta.threads().expect("threads");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].other_name, "Sara Ahmed");
    assert_eq!(list[0].unread, 1);
    pa1.sync().expect("parent pulls state");
    let mine = pa1.thread(&thread).expect("thread");
    assert!(!mine[0].pending && mine[0].delivered_at.is_some() && mine[0].read_at.is_none());

    w.clock.advance(Duration::minutes(5));
    ta.mark_thread_read(&thread).expect("read");
    assert_eq!(ta.threads().expect("threads")[0].unread, 0);
    ta.sync().expect("read sent");
    pa1.sync().expect("parent pulls read");
    let mine = pa1.thread(&thread).expect("thread");
    assert_eq!(mine[0].read_at, Some(at("2026-03-04T10:05:00Z")));

    // A reply goes the other way, in the same thread.
    ta.send_message("pa1", "Yes, bring trainers")
        .expect("teacher replies");
    ta.sync().expect("push");
    pa1.sync().expect("pull");
    let bodies: Vec<String> = pa1
        .thread(&thread)
        .expect("thread")
        .into_iter()
        .map(|m| m.record.body)
        .collect();
    assert_eq!(bodies, ["Is PE on Friday?", "Yes, bring trainers"]);
}

// REQ-MSG-2: a pupil gets a typed error from the core and 403 from the server, and never a
// message in a pull.
#[test]
fn pupil_cannot_send_or_read_messages() {
    let w = World::new("2026-03-04T10:00:00Z");
    let pa1 = w.phone("pa1");
    pa1.send_message("tA", "hello").expect("sent");
    pa1.sync().expect("push");

    let a1 = w.phone("a1");
    match a1.send_message("tA", "can I have more time?") {
        Err(CoreError::NotAllowed(Denied::PupilsHaveNoMessaging)) => {}
        other => panic!("expected the pupils-have-no-messaging error, got {other:?}"),
    }
    assert!(matches!(
        a1.threads(),
        Err(CoreError::NotAllowed(Denied::PupilsHaveNoMessaging))
    ));
    assert_eq!(a1.pending_writes().expect("outbox"), 0, "nothing queued");
    assert_eq!(w.post_message("a1", "tA", "hi"), StatusCode::FORBIDDEN);
    let (status, pull) = w.get("a1", "/v1/pull?since=0");
    assert_eq!(status, StatusCode::OK);
    assert!(
        !pull.contains("\"message\""),
        "no message reaches a pupil: {pull}"
    );
}

// REQ-MSG-1: a parent cannot message a teacher of another class (core and server).
#[test]
fn parent_cannot_message_a_teacher_of_another_class() {
    let w = World::new("2026-03-04T10:00:00Z");
    let pa1 = w.phone("pa1");
    assert!(matches!(
        pa1.send_message("tB", "hello"),
        Err(CoreError::NotAllowed(_))
    ));
    assert_eq!(pa1.pending_writes().expect("outbox"), 0);
    assert_eq!(w.post_message("pa1", "tB", "hello"), StatusCode::FORBIDDEN);
    assert_eq!(w.post_message("pa1", "pa2", "hello"), StatusCode::FORBIDDEN);
    assert_eq!(w.post_message("pa1", "tA", "hello"), StatusCode::OK);
}

// REQ-MSG-5: a reported message reaches the leaders at once with its thread; leaders warn, then
// remove the parent's messaging, which the core and the server both enforce.
#[test]
fn reported_message_reaches_leaders_with_its_thread_and_leaders_can_remove_messaging() {
    let w = World::new(WEDNESDAY_2130);
    let l = w.phone("L");
    l.register_push_device("loopback", "L-phone")
        .expect("device");
    let pa1 = w.phone("pa1");
    let ids = three_evening_messages(&w, &pa1);
    let ta = w.phone("tA");
    ta.report_message(&ids[1].to_string(), Some("rude"))
        .expect("recipient may report");
    ta.sync().expect("report sent");

    let (status, body) = w.get("L", "/v1/reports");
    assert_eq!(status, StatusCode::OK);
    let reports: Vec<homeroom_protocol::wire::MessageReport> =
        serde_json::from_str(&body).expect("reports");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].message.id, ids[1]);
    assert_eq!(reports[0].reporter_id, "tA");
    assert_eq!(reports[0].reason.as_deref(), Some("rude"));
    let context: Vec<_> = reports[0].thread.iter().map(|m| m.id).collect();
    assert_eq!(context, ids, "the whole thread for context");
    assert_eq!(w.get("tA", "/v1/reports").0, StatusCode::FORBIDDEN);

    // The leader's notification is held alone (never folded) to 08:00, generic on the lock screen.
    w.clock.set(at(THURSDAY_0800));
    let pushed = w.dispatch();
    let to_l: Vec<_> = pushed.iter().filter(|p| p.recipient_id == "L").collect();
    assert_eq!(to_l.len(), 1);
    assert_eq!(to_l[0].category, Category::SafeguardingReport);
    assert_eq!(to_l[0].body, "A message was reported and needs review");

    let token = w.token("L");
    let post = |path: &str| {
        w.rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{}{path}", w.server.url()))
                .bearer_auth(&token)
                .json(&serde_json::json!({"reason": "abusive messages to staff"}))
                .send()
                .await
                .expect("request")
                .status()
        })
    };
    assert_eq!(post("/v1/users/pa1/messaging-warnings"), StatusCode::OK);
    assert_eq!(
        post("/v1/users/tA/messaging-warnings"),
        StatusCode::FORBIDDEN
    );
    assert_eq!(post("/v1/users/pa1/messaging-removal"), StatusCode::OK);

    pa1.sync().expect("directory refresh");
    assert!(matches!(
        pa1.send_message("tA", "hello?"),
        Err(CoreError::NotAllowed(Denied::MessagingRemoved))
    ));
    assert_eq!(w.post_message("pa1", "tA", "hello?"), StatusCode::FORBIDDEN);
}

// REQ-MSG-6: staff export the thread as a dated record (text and HTML); a parent cannot.
#[test]
fn teacher_exports_the_thread_as_a_dated_record() {
    let w = World::new(WEDNESDAY_2130);
    let pa1 = w.phone("pa1");
    three_evening_messages(&w, &pa1);
    let ta = w.phone("tA");
    let thread = ta.thread_with("pa1").expect("thread");
    let text = ta.export_thread(&thread, "text").expect("export");
    assert!(
        text.contains("Between: Sara Ahmed (parent) and Ms Khan (staff)"),
        "{text}"
    );
    assert!(
        text.contains("[Wednesday 4 March 2026, 21:30] Sara Ahmed (parent):"),
        "{text}"
    );
    assert!(text.contains("[Wednesday 4 March 2026, 21:32] Sara Ahmed (parent):"));
    assert!(text.contains("Could she bring it home tomorrow?"));
    let html = ta.export_thread(&thread, "html").expect("html export");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<time datetime=\"2026-03-04T21:30:00+00:00\">"));
    assert!(matches!(
        pa1.export_thread(&thread, "text"),
        Err(CoreError::Server { status: 403, .. })
    ));
}

// REQ-MSG-3: the class teacher announces to the class's parents (one-way); others cannot.
#[test]
fn class_teacher_announces_to_parents_of_the_class_only() {
    let w = World::new("2026-03-04T10:00:00Z");
    let ta = w.phone("tA");
    ta.announce("classA", "Trip to the museum on Friday")
        .expect("class teacher announces");
    ta.sync().expect("sent");
    assert!(matches!(
        w.phone("tB").announce("classA", "hello"),
        Err(CoreError::NotAllowed(_))
    ));
    assert!(matches!(
        w.phone("pa1").announce("classA", "hello"),
        Err(CoreError::NotAllowed(_))
    ));
    let pa1 = w.phone("pa1");
    let got = pa1.announcements().expect("announcements");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].record.body, "Trip to the museum on Friday");
    assert!(w
        .phone("pb1")
        .announcements()
        .expect("other class")
        .is_empty());
}

// REQ-MSG-4: the composer tells a parent when the teacher is notified and replies.
#[test]
fn composer_tells_the_parent_when_ms_khan_replies() {
    let w = World::new(WEDNESDAY_2130);
    let pa1 = w.phone("pa1");
    let hint = pa1.composer_hint("tA", at(WEDNESDAY_2130)).expect("hint");
    assert_eq!(
        hint.reply_window.as_deref(),
        Some("Ms Khan replies 08:00–17:00 on school days; usually within 24 hours")
    );
    assert_eq!(
        hint.notified_when.as_deref(),
        Some("Ms Khan will be notified at 08:00 on Thu 5 Mar")
    );
    assert!(pa1.routing_hint("Amira is off sick today").is_some());
}

// REQ-NOT-5, NOT-1: a teacher who opted in to previews sees the sender and latest text in the
// digest; the hours they saved are the ones the server plans with.
#[test]
fn teacher_who_opted_in_sees_sender_and_latest_text_in_the_digest() {
    use homeroom_protocol::messaging::{NotifySettings, PersonHours};
    use homeroom_protocol::notify::{parse_time_zone, LockScreenPreview, StaffHours};
    let w = World::new(WEDNESDAY_2130);
    let ta = w.phone("tA");
    ta.register_push_device("loopback", "tA-phone")
        .expect("device");
    let mut hours = StaffHours::new(parse_time_zone("Europe/London").expect("zone"));
    hours.quiet.daily = Some(
        homeroom_protocol::notify::DailySpan::new(
            "18:00".parse().expect("time"),
            "07:30".parse().expect("time"),
        )
        .expect("span"),
    );
    ta.set_notify_settings(&NotifySettings {
        hours: PersonHours::Staff(hours),
        lock_screen: LockScreenPreview::Full,
    })
    .expect("settings saved");
    let pa1 = w.phone("pa1");
    three_evening_messages(&w, &pa1);
    w.clock.set(at("2026-03-05T07:30:00Z"));
    let pushed = w.dispatch();
    assert_eq!(
        pushed.len(),
        1,
        "released at her own 07:30, not the default 08:00"
    );
    assert_eq!(pushed[0].title, "Sara Ahmed");
    assert_eq!(pushed[0].body, "3 new · latest: Thank you!");
    // REQ-PRV-2: once sent, the server keeps a record that it sent, not what it said.
    let count = |sql: &'static str| -> i64 {
        w.rt.block_on(sqlx::query_scalar(sql).fetch_one(&w.db))
            .expect("count")
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM push_log WHERE title LIKE '%Sara%' OR body LIKE '%Thank%'"),
        0,
        "the push log holds no names or message text"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM push_log WHERE outcome = 'sent'"),
        1,
        "the sending itself is logged"
    );
    let planned =
        count("SELECT COUNT(*) FROM push_plans WHERE plan LIKE '%Sara%' OR plan LIKE '%Thank%'");
    assert_eq!(planned, 0, "sent plans drop their words");
}

// REQ-NOT-3: a parent in Karachi with quiet hours 21:00–07:00 gets the teacher's 16:45 London
// reply (21:45 in Karachi) at 07:00 Karachi time.
#[test]
fn parent_in_karachi_gets_an_evening_reply_at_0700_karachi_time() {
    use homeroom_protocol::messaging::{NotifySettings, PersonHours};
    use homeroom_protocol::notify::{parse_time_zone, DailySpan, ParentHours, QuietHours};
    let w = World::new("2026-03-04T16:45:00Z");
    let pa1 = w.phone("pa1");
    pa1.register_push_device("loopback", "pa1-phone")
        .expect("device");
    pa1.set_notify_settings(&NotifySettings {
        hours: PersonHours::Parent(ParentHours {
            time_zone: parse_time_zone("Asia/Karachi").expect("zone"),
            quiet: Some(QuietHours::nightly(
                DailySpan::new("21:00".parse().expect("t"), "07:00".parse().expect("t"))
                    .expect("span"),
            )),
        }),
        lock_screen: Default::default(),
    })
    .expect("settings saved");
    let ta = w.phone("tA");
    ta.send_message("pa1", "Yes, PE is on Friday")
        .expect("reply");
    ta.sync().expect("sent");
    assert!(w.dispatch().is_empty(), "21:45 in Karachi: held");
    w.clock.set(at("2026-03-05T01:59:00Z"));
    assert!(w.dispatch().is_empty());
    w.clock.set(at("2026-03-05T02:00:00Z"));
    let pushed = w.dispatch();
    assert_eq!(pushed.len(), 1);
    assert_eq!(
        pushed[0].deliver_at,
        at("2026-03-05T02:00:00Z"),
        "07:00 in Karachi"
    );
    assert_eq!(pushed[0].body, "New message from school staff");
    // The parent's composer names the teacher's zone (REQ-MSG-4).
    pa1.sync().expect("directory with her own zone");
    let hint = pa1
        .composer_hint("tA", at("2026-03-05T02:00:00Z"))
        .expect("hint");
    assert!(hint
        .reply_window
        .expect("staff reply window")
        .ends_with("(Europe/London time); usually within 24 hours"),);
}

// REQ-MSG-1, STO-6: the conversation list listener gets a snapshot, then only the change.
#[test]
fn conversation_list_listener_gets_a_snapshot_then_the_new_thread() {
    use std::sync::Mutex;
    let w = World::new("2026-03-04T10:00:00Z");
    let ta = w.phone("tA");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let id = ta
        .observe_threads(Arc::new(move |u| sink.lock().expect("lock").push(u)))
        .expect("subscribed");
    let pa1 = w.phone("pa1");
    pa1.send_message("tA", "Hello").expect("sent");
    pa1.sync().expect("pushed");
    ta.sync().expect("pulled");
    ta.unobserve(id);
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(matches!(&seen[0], homeroom_core::views::ViewUpdate::Snapshot(v) if v.is_empty()));
    match &seen[1] {
        homeroom_core::views::ViewUpdate::Changes {
            inserted,
            updated,
            removed,
        } => {
            assert_eq!(inserted.len(), 1);
            assert_eq!(inserted[0].other_name, "Sara Ahmed");
            assert_eq!(inserted[0].unread, 1);
            assert!(updated.is_empty() && removed.is_empty());
        }
        other => panic!("expected changes, got {other:?}"),
    }
}
