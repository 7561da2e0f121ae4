//! Named cases for the notification planner: defaults, teaching periods, DST changes, zones,
//! emergencies, digests and lock-screen text (REQ-NOT-1..5).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc, Weekday};
use chrono_tz::{America, Asia, Europe, Tz};
use homeroom_protocol::notify::*;
use uuid::Uuid;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A local time that exists exactly once in `tz`.
fn local(tz: Tz, s: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    tz.from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn t(s: &str) -> TimeOfDay {
    s.parse().unwrap()
}

fn span(a: &str, b: &str) -> DailySpan {
    DailySpan::new(t(a), t(b)).unwrap()
}

fn staff_hours(tz: Tz) -> StaffHours {
    StaffHours::new(tz)
}

fn recipient(schedule: NotifySchedule) -> Recipient {
    Recipient {
        id: Uuid::new_v4(),
        schedule,
        lock_screen: LockScreenPreview::Generic,
    }
}

fn staff(tz: Tz) -> Recipient {
    recipient(NotifySchedule::for_staff(&staff_hours(tz)).unwrap())
}

fn parent(tz: Tz, quiet: Option<DailySpan>) -> Recipient {
    recipient(
        NotifySchedule::for_parent(&ParentHours {
            time_zone: tz,
            quiet: quiet.map(QuietHours::nightly),
        })
        .unwrap(),
    )
}

fn event(kind: EventKind, at: DateTime<Utc>) -> NotifyEvent {
    NotifyEvent {
        id: Uuid::new_v4(),
        at,
        kind,
        preview: EventPreview {
            sender_name: "Mr Ahmed".into(),
            text: "Aisha has a dentist appointment tomorrow".into(),
            child_name: Some("Aisha".into()),
        },
    }
}

fn message_in(conversation: Uuid, from: SenderKind, at: DateTime<Utc>) -> NotifyEvent {
    event(EventKind::Message { conversation, from }, at)
}

fn message(at: DateTime<Utc>) -> NotifyEvent {
    message_in(Uuid::nil(), SenderKind::Parent, at)
}

/// When the plan shows the notification.
fn shown_at(r: &Recipient, e: &NotifyEvent, now: DateTime<Utc>) -> DateTime<Utc> {
    plan(e, r, now).unwrap().decision.shown_at(now)
}

fn now_delivery(r: &Recipient, now: DateTime<Utc>) -> bool {
    matches!(
        plan(&message(now), r, now).unwrap().decision,
        Decision::DeliverNow {
            breaks_quiet_hours: false
        }
    )
}

// ---- defaults (REQ-NOT-1, REQ-NOT-2) ----

// REQ-NOT-1, REQ-NOT-2: default quiet hours 17:00–08:00.
#[test]
fn message_at_2130_is_held_until_0800_next_school_day() {
    let teacher = staff(Europe::London);
    let now = local(Europe::London, "2026-03-04 21:30"); // Wednesday, GMT
    let planned = plan(&message(now), &teacher, now).unwrap();
    assert_eq!(
        planned.decision,
        Decision::Digest {
            at: utc("2026-03-05T08:00:00Z"),
            key: DigestKey::Conversation(Uuid::nil())
        }
    );
    assert!(!planned.emergency);
}

// REQ-NOT-1, REQ-NOT-2: weekends are quiet.
#[test]
fn friday_1659_is_delivered_now_and_1701_waits_until_monday_0800() {
    let teacher = staff(Europe::London);
    assert!(now_delivery(
        &teacher,
        local(Europe::London, "2026-06-12 16:59")
    ));
    let now = local(Europe::London, "2026-06-12 17:01");
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        local(Europe::London, "2026-06-15 08:00")
    );
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        utc("2026-06-15T07:00:00Z")
    );
}

// REQ-NOT-2: the boundary itself: 08:00 is allowed, 07:59:59 is not.
#[test]
fn quiet_hours_end_exactly_at_0800_and_start_exactly_at_1700() {
    let teacher = staff(Europe::London);
    assert!(!now_delivery(&teacher, utc("2026-03-05T07:59:59Z")));
    assert!(now_delivery(&teacher, utc("2026-03-05T08:00:00Z")));
    assert!(now_delivery(&teacher, utc("2026-03-05T16:59:59Z")));
    assert!(!now_delivery(&teacher, utc("2026-03-05T17:00:00Z")));
}

// REQ-NOT-3: a parent without quiet hours is always notified at once.
#[test]
fn parent_without_quiet_hours_is_notified_at_once_even_at_night() {
    let p = parent(Asia::Karachi, None);
    assert!(now_delivery(&p, utc("2026-03-04T22:30:00Z")));
}

// ---- teaching periods (REQ-NOT-1, REQ-NOT-2) ----

fn teacher_with_timetable() -> Recipient {
    let mut hours = staff_hours(Europe::London);
    hours.teaching = Timetable::same_each_day(
        &[
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        &[
            span("09:00", "10:00"),
            span("10:00", "11:00"),
            span("11:15", "12:00"),
        ],
    );
    recipient(NotifySchedule::for_staff(&hours).unwrap())
}

// REQ-NOT-2: no notifications while teaching; released when the period ends.
#[test]
fn message_during_a_lesson_is_held_until_the_lesson_ends() {
    let teacher = teacher_with_timetable();
    let now = local(Europe::London, "2026-03-04 09:30");
    // Back-to-back periods 09:00–10:00 and 10:00–11:00 are one quiet run.
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        local(Europe::London, "2026-03-04 11:00")
    );
    assert!(now_delivery(
        &teacher,
        local(Europe::London, "2026-03-04 11:05")
    ));
    let now = local(Europe::London, "2026-03-04 11:20");
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        local(Europe::London, "2026-03-04 12:00")
    );
}

// REQ-NOT-2: a first lesson at 09:00 does not delay the 08:00 release.
#[test]
fn overnight_message_is_released_at_0800_when_first_lesson_starts_at_0900() {
    let teacher = teacher_with_timetable();
    let now = local(Europe::London, "2026-03-03 19:00");
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        local(Europe::London, "2026-03-04 08:00")
    );
}

// REQ-NOT-2: quiet hours and a lesson touching them form one quiet run.
#[test]
fn lesson_starting_at_0800_pushes_the_morning_release_to_its_end() {
    let mut hours = staff_hours(Europe::London);
    hours.teaching.periods = vec![WeeklySpan::new(Weekday::Thu, t("08:00"), t("09:30")).unwrap()];
    let teacher = recipient(NotifySchedule::for_staff(&hours).unwrap());
    let now = local(Europe::London, "2026-03-04 21:30");
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        local(Europe::London, "2026-03-05 09:30")
    );
}

// ---- daylight saving (REQ-NOT-2) ----

// REQ-NOT-2: Europe/London falls back on 2026-10-25; Monday 08:00 is GMT.
#[test]
fn london_weekend_over_autumn_change_is_held_until_monday_0800_gmt() {
    let teacher = staff(Europe::London);
    let now = local(Europe::London, "2026-10-23 18:00"); // Friday, BST
    assert_eq!(now, utc("2026-10-23T17:00:00Z"));
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        utc("2026-10-26T08:00:00Z")
    );
}

// REQ-NOT-2: an end boundary in the repeated hour releases at its earlier occurrence.
#[test]
fn london_repeated_hour_releases_at_the_earlier_0130() {
    let p = parent(Europe::London, Some(span("23:00", "01:30")));
    let now = utc("2026-10-24T23:30:00Z"); // 00:30 BST
    assert_eq!(
        shown_at(&p, &message(now), now),
        utc("2026-10-25T00:30:00Z")
    ); // 01:30 BST
       // Between 01:30 BST and the fall-back the clock reads allowed minutes.
    assert!(now_delivery(&p, utc("2026-10-25T00:45:00Z"))); // 01:45 BST
}

// REQ-NOT-2: on the second pass of the repeated hour the clock reads quiet minutes again.
#[test]
fn london_second_pass_of_repeated_hour_is_quiet_until_the_later_0130() {
    let p = parent(Europe::London, Some(span("23:00", "01:30")));
    let now = utc("2026-10-25T01:10:00Z"); // 01:10 GMT, second pass
    assert_eq!(
        shown_at(&p, &message(now), now),
        utc("2026-10-25T01:30:00Z")
    ); // 01:30 GMT
}

// REQ-NOT-2: a start boundary in the repeated hour: minutes before it are allowed again after the fall-back.
#[test]
fn london_start_boundary_in_repeated_hour_allows_the_second_pass_before_it() {
    let p = parent(Europe::London, Some(span("01:30", "06:00")));
    let now = utc("2026-10-25T00:40:00Z"); // 01:40 BST: quiet
                                           // The clock falls back to 01:00 GMT at 01:00Z, before the 01:30 start.
    assert_eq!(
        shown_at(&p, &message(now), now),
        utc("2026-10-25T01:00:00Z")
    );
    let now = utc("2026-10-25T01:31:00Z"); // 01:31 GMT: quiet until 06:00 GMT
    assert_eq!(
        shown_at(&p, &message(now), now),
        utc("2026-10-25T06:00:00Z")
    );
}

// REQ-NOT-2: Europe/London springs forward on 2027-03-28; a boundary in the gap resolves to the
// first valid instant after it (02:00 BST).
#[test]
fn london_end_boundary_in_skipped_hour_releases_at_0200_bst() {
    let p = parent(Europe::London, Some(span("22:00", "01:30")));
    let now = utc("2027-03-27T23:00:00Z");
    assert_eq!(
        shown_at(&p, &message(now), now),
        utc("2027-03-28T01:00:00Z")
    ); // 02:00 BST
    assert!(!now_delivery(&p, utc("2027-03-28T00:59:59Z"))); // 00:59:59 GMT
}

// REQ-NOT-2: a start boundary in the gap begins quiet hours at the jump.
#[test]
fn london_start_boundary_in_skipped_hour_begins_quiet_at_0200_bst() {
    let p = parent(Europe::London, Some(span("01:30", "07:00")));
    assert!(now_delivery(&p, utc("2027-03-28T00:59:00Z"))); // 00:59 GMT
    let now = utc("2027-03-28T01:00:30Z"); // 02:00:30 BST
    assert_eq!(
        shown_at(&p, &message(now), now),
        utc("2027-03-28T06:00:00Z")
    ); // 07:00 BST
}

// REQ-NOT-2: the default weekend across the spring change ends at Monday 08:00 BST.
#[test]
fn london_weekend_over_spring_change_is_held_until_monday_0800_bst() {
    let teacher = staff(Europe::London);
    let now = local(Europe::London, "2027-03-26 17:30");
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        utc("2027-03-29T07:00:00Z")
    );
}

// REQ-NOT-2: America/New_York falls back on 2026-11-01.
#[test]
fn new_york_friday_1701_before_fall_back_waits_until_monday_0800_est() {
    let teacher = staff(America::New_York);
    let now = local(America::New_York, "2026-10-30 17:01"); // EDT
    assert_eq!(now, utc("2026-10-30T21:01:00Z"));
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        utc("2026-11-02T13:00:00Z")
    );
    // And 16:59 EDT is still delivered at once.
    assert!(now_delivery(
        &teacher,
        local(America::New_York, "2026-10-30 16:59")
    ));
}

// REQ-NOT-2, REQ-NOT-3: New York's repeated 01:00–02:00 hour, parent quiet 00:00–01:30.
#[test]
fn new_york_repeated_hour_releases_at_each_0130() {
    let p = parent(America::New_York, Some(span("00:00", "01:30")));
    let now = utc("2026-11-01T04:15:00Z"); // 00:15 EDT
    assert_eq!(
        shown_at(&p, &message(now), now),
        utc("2026-11-01T05:30:00Z")
    ); // 01:30 EDT
    let now = utc("2026-11-01T06:10:00Z"); // 01:10 EST
    assert_eq!(
        shown_at(&p, &message(now), now),
        utc("2026-11-01T06:30:00Z")
    ); // 01:30 EST
}

// ---- a teacher in London, a parent in Karachi (REQ-NOT-2, REQ-NOT-3) ----

// REQ-NOT-2: the teacher's hours are read in London, whatever the sender's zone.
#[test]
fn karachi_parent_writing_at_2230_reaches_london_teacher_at_0800_london() {
    let teacher = staff(Europe::London);
    let now = local(Asia::Karachi, "2027-01-13 22:30"); // 17:30 GMT, Wednesday
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        local(Europe::London, "2027-01-14 08:00")
    );
    // In summer the gap between the zones is four hours, not five.
    let now = local(Asia::Karachi, "2026-06-10 21:30"); // 17:30 BST
    assert_eq!(
        shown_at(&teacher, &message(now), now),
        utc("2026-06-11T07:00:00Z")
    );
    let now = local(Asia::Karachi, "2026-06-10 20:30"); // 16:30 BST
    assert!(now_delivery(&teacher, now));
}

// REQ-NOT-3: the parent's quiet hours are read in Karachi.
#[test]
fn london_teacher_replying_at_1645_reaches_karachi_parent_at_0700_karachi() {
    let p = parent(Asia::Karachi, Some(span("21:00", "07:00")));
    let reply = |at| message_in(Uuid::nil(), SenderKind::Staff, at);
    let now = local(Europe::London, "2027-01-13 15:30"); // 20:30 PKT
    assert!(matches!(
        plan(&reply(now), &p, now).unwrap().decision,
        Decision::DeliverNow { .. }
    ));
    let now = local(Europe::London, "2027-01-13 16:45"); // 21:45 PKT
    assert_eq!(
        shown_at(&p, &reply(now), now),
        local(Asia::Karachi, "2027-01-14 07:00")
    );
    assert_eq!(shown_at(&p, &reply(now), now), utc("2027-01-14T02:00:00Z"));
}

// ---- emergencies (REQ-NOT-4) ----

fn emergency(issued_by_admin: bool, school_wide: bool) -> EventKind {
    EventKind::Emergency {
        issued_by_admin,
        school_wide,
    }
}

// REQ-NOT-4: an admin's school-wide emergency breaks quiet hours and says so.
#[test]
fn admin_school_wide_emergency_breaks_quiet_hours_and_is_marked() {
    let now = local(Europe::London, "2026-03-04 22:00");
    let e = event(emergency(true, true), now);
    for r in [
        staff(Europe::London),
        teacher_with_timetable(),
        parent(Asia::Karachi, Some(span("21:00", "07:00"))),
    ] {
        let p = plan(&e, &r, now).unwrap();
        assert_eq!(
            p.decision,
            Decision::DeliverNow {
                breaks_quiet_hours: true
            }
        );
        assert!(p.emergency);
        assert_eq!(p.category, Category::Emergency);
        assert_eq!(p.content.title, "Emergency");
    }
    // In working hours it is still an emergency, but breaks nothing.
    let now = local(Europe::London, "2026-03-04 13:00");
    let p = plan(
        &event(emergency(true, true), now),
        &staff(Europe::London),
        now,
    )
    .unwrap();
    assert_eq!(
        p.decision,
        Decision::DeliverNow {
            breaks_quiet_hours: false
        }
    );
    assert!(p.emergency);
    // During a lesson it breaks the teaching period too.
    let now = local(Europe::London, "2026-03-04 09:30");
    let p = plan(
        &event(emergency(true, true), now),
        &teacher_with_timetable(),
        now,
    )
    .unwrap();
    assert_eq!(
        p.decision,
        Decision::DeliverNow {
            breaks_quiet_hours: true
        }
    );
}

// REQ-NOT-4: only an admin, and only school-wide: anything else waits like an announcement.
#[test]
fn emergency_not_from_admin_or_not_school_wide_waits_for_quiet_hours_to_end() {
    let now = local(Europe::London, "2026-03-04 22:00");
    for kind in [
        emergency(false, true),
        emergency(true, false),
        emergency(false, false),
    ] {
        let p = plan(&event(kind, now), &staff(Europe::London), now).unwrap();
        assert_eq!(
            p.decision,
            Decision::Digest {
                at: utc("2026-03-05T08:00:00Z"),
                key: DigestKey::SchoolAnnouncements
            }
        );
        assert!(!p.emergency);
        assert_eq!(p.category, Category::SchoolAnnouncement);
    }
}

// REQ-NOT-2, REQ-MSG-5: a safeguarding report is held like everything else, and shown alone.
#[test]
fn safeguarding_report_in_quiet_hours_is_held_alone_not_folded() {
    let leader = staff(Europe::London);
    let now = local(Europe::London, "2026-03-04 21:30");
    let p = plan(
        &event(
            EventKind::SafeguardingReport {
                report: Uuid::nil(),
            },
            now,
        ),
        &leader,
        now,
    )
    .unwrap();
    assert_eq!(
        p.decision,
        Decision::HoldUntil {
            at: utc("2026-03-05T08:00:00Z")
        }
    );
    let digests = build_digests(std::slice::from_ref(&p));
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].key, DigestKey::Alone(p.event));
}

// ---- digests (REQ-NOT-2) ----

// REQ-NOT-2: one digest per conversation when quiet hours end.
#[test]
fn messages_held_overnight_become_one_digest_per_conversation_at_0800() {
    let teacher = staff(Europe::London);
    let other = staff(Europe::London);
    let (c, d) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let mut held = Vec::new();
    for (i, (r, conv)) in [
        (&teacher, c),
        (&teacher, d),
        (&teacher, c),
        (&teacher, c),
        (&teacher, d),
        (&other, c),
    ]
    .into_iter()
    .enumerate()
    {
        let now =
            local(Europe::London, "2026-03-04 21:00") + chrono::Duration::minutes(i as i64 * 10);
        held.push(plan(&message_in(conv, SenderKind::Parent, now), r, now).unwrap());
    }
    // A message during the day is delivered at once and never reaches a digest.
    let day = local(Europe::London, "2026-03-05 10:00");
    held.push(plan(&message_in(c, SenderKind::Parent, day), &teacher, day).unwrap());

    let digests = build_digests(&held);
    assert_eq!(digests.len(), 3);
    assert!(digests
        .iter()
        .all(|g| g.deliver_at == utc("2026-03-05T08:00:00Z")));
    let of = |r: &Recipient, k| {
        digests
            .iter()
            .find(|g| g.recipient == r.id && g.key == DigestKey::Conversation(k))
            .unwrap()
    };
    let tc = of(&teacher, c);
    assert_eq!(tc.events, vec![held[0].event, held[2].event, held[3].event]); // oldest first
    assert_eq!(tc.content.body, "3 new messages from a parent"); // REQ-NOT-5: no text
    assert!(!tc.content.shows_private);
    assert_eq!(of(&teacher, d).events.len(), 2);
    assert_eq!(of(&other, c).events.len(), 1);
    assert_eq!(of(&other, c).content.body, "New message from a parent");
    assert_eq!(next_delivery(&digests), Some(utc("2026-03-05T08:00:00Z")));
}

// REQ-NOT-2: a lesson's digest and the overnight digest are released separately.
#[test]
fn held_notifications_released_at_different_times_are_different_digests() {
    let teacher = teacher_with_timetable();
    let night = local(Europe::London, "2026-03-03 21:00");
    let lesson = local(Europe::London, "2026-03-04 09:30");
    let held = vec![
        plan(&message(night), &teacher, night).unwrap(),
        plan(&message(lesson), &teacher, lesson).unwrap(),
    ];
    let digests = build_digests(&held);
    let times: Vec<_> = digests.iter().map(|d| d.deliver_at).collect();
    assert_eq!(
        times,
        vec![
            local(Europe::London, "2026-03-04 08:00"),
            local(Europe::London, "2026-03-04 11:00")
        ]
    );
}

// REQ-NOT-5: an opted-in digest shows the latest text; a generic one only counts.
#[test]
fn opted_in_digest_shows_latest_text_and_count() {
    let mut teacher = staff(Europe::London);
    teacher.lock_screen = LockScreenPreview::Full;
    let now = local(Europe::London, "2026-03-04 21:00");
    let mut second = message(now + chrono::Duration::minutes(5));
    second.preview.text = "Sorry, it is on Friday".into();
    let held = vec![
        plan(&message(now), &teacher, now).unwrap(),
        plan(&second, &teacher, second.at).unwrap(),
    ];
    let digests = build_digests(&held);
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].content.title, "Mr Ahmed · Aisha");
    assert_eq!(
        digests[0].content.body,
        "2 new · latest: Sorry, it is on Friday"
    );
}

// ---- lock screen and fan-out (REQ-NOT-5) ----

// REQ-NOT-5: each recipient gets the text their own choice allows.
#[test]
fn plan_all_gives_each_parent_the_lock_screen_text_they_chose() {
    let now = local(Europe::London, "2026-03-04 12:00");
    let mut opted_in = parent(Europe::London, None);
    opted_in.lock_screen = LockScreenPreview::Full;
    let recipients = vec![parent(Europe::London, None), opted_in];
    let post = event(EventKind::SchoolStoryPost, now);
    let plans = plan_all(&post, &recipients, now).unwrap();
    assert_eq!(plans[0].content.body, "New post in School Story");
    assert!(!plans[0].content.title.contains("Aisha") && !plans[0].content.body.contains("Aisha"));
    assert_eq!(
        plans[1].content.body,
        "Aisha has a dentist appointment tomorrow"
    );
    assert!(plans[1].content.shows_private);
    assert_eq!(plans[0], plan(&post, &recipients[0], now).unwrap());
}

// ---- errors and wire ----

#[test]
fn hours_that_are_always_quiet_are_rejected() {
    let mut hours = staff_hours(Europe::London);
    hours.quiet.whole_days = homeroom_protocol::notify::hours::ALL_DAYS.to_vec();
    assert_eq!(
        NotifySchedule::for_staff(&hours),
        Err(NotifyError::AlwaysQuiet)
    );
}

#[test]
fn planned_notifications_round_trip_through_json() {
    let now = local(Europe::London, "2026-03-04 21:30");
    let p = plan(&message(now), &staff(Europe::London), now).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("\"type\":\"digest\""), "{json}");
    let back: PlannedNotification = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let digests = build_digests(&[p]);
    let back: Vec<Digest> =
        serde_json::from_str(&serde_json::to_string(&digests).unwrap()).unwrap();
    assert_eq!(back, digests);
}
