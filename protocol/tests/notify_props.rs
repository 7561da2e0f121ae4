//! Properties of the planner over random hours, zones, DST dates and event times (REQ-NOT-2..4).
//!
//! The oracle below reads the raw hours with chrono's own zone conversion, independently of the
//! compiled week mask and the offset search the planner uses.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Duration, Offset, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use homeroom_protocol::notify::*;
use proptest::prelude::*;
use uuid::Uuid;

/// Real zones: DST north and south, negative DST (Dublin), half- and quarter-hour offsets,
/// a half-hour DST shift (Lord Howe) and zones without DST.
const ZONES: [Tz; 16] = [
    chrono_tz::Europe::London,
    chrono_tz::Europe::Dublin,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::America::Los_Angeles,
    chrono_tz::America::St_Johns,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::Asia::Karachi,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::Asia::Tehran,
    chrono_tz::Australia::Adelaide,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Pacific::Auckland,
    chrono_tz::Africa::Cairo,
];

use homeroom_protocol::notify::hours::ALL_DAYS as WEEK;

const START_2026: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const END_2028: i64 = 1_861_920_000; // 2029-01-01T00:00:00Z

/// Hour-precise instants at which each zone's offset changes, 2026–2028.
fn transitions() -> &'static Vec<Vec<i64>> {
    static T: OnceLock<Vec<Vec<i64>>> = OnceLock::new();
    T.get_or_init(|| {
        ZONES
            .iter()
            .map(|tz| {
                let off = |s: i64| {
                    let t = DateTime::<Utc>::from_timestamp(s, 0).unwrap();
                    tz.offset_from_utc_datetime(&t.naive_utc())
                        .fix()
                        .local_minus_utc()
                };
                (START_2026..END_2028)
                    .step_by(3600)
                    .filter(|&s| off(s) != off(s - 3600))
                    .collect()
            })
            .collect()
    })
}

/// Times of day, often on the DST-prone small hours so boundaries land in gaps and repeats.
fn time_of_day() -> impl Strategy<Value = u16> {
    prop_oneof![
        (0u16..17).prop_map(|q| q * 15),
        (0u16..96).prop_map(|q| q * 15),
        0u16..1440,
    ]
}

fn daily_span() -> impl Strategy<Value = DailySpan> {
    (time_of_day(), time_of_day())
        .prop_filter("non-empty", |(s, e)| s != e)
        .prop_map(|(s, e)| {
            DailySpan::new(
                TimeOfDay::from_minutes(s).unwrap(),
                TimeOfDay::from_minutes(e).unwrap(),
            )
            .unwrap()
        })
}

fn quiet_hours() -> impl Strategy<Value = QuietHours> {
    (
        proptest::option::weighted(0.9, daily_span()),
        proptest::collection::vec(proptest::bool::weighted(0.2), 7),
    )
        .prop_map(|(daily, days)| QuietHours {
            daily,
            whole_days: WEEK
                .iter()
                .zip(days)
                .filter(|(_, on)| *on)
                .map(|(d, _)| *d)
                .collect(),
        })
}

fn timetable() -> impl Strategy<Value = Timetable> {
    proptest::collection::vec((0usize..7, daily_span()), 0..6).prop_map(|periods| Timetable {
        periods: periods
            .into_iter()
            .map(|(d, s)| WeeklySpan::new(WEEK[d], s.start, s.end).unwrap())
            .collect(),
    })
}

#[derive(Clone, Debug)]
enum Who {
    Staff(StaffHours),
    Parent(ParentHours),
}

fn who() -> impl Strategy<Value = Who> {
    (
        0usize..ZONES.len(),
        quiet_hours(),
        timetable(),
        any::<bool>(),
    )
        .prop_map(|(z, quiet, teaching, is_staff)| {
            if is_staff {
                Who::Staff(StaffHours {
                    time_zone: ZONES[z],
                    quiet,
                    teaching,
                    reply_slots: None,
                    usually_replies_within_hours: 24,
                })
            } else {
                Who::Parent(ParentHours {
                    time_zone: ZONES[z],
                    quiet: Some(quiet),
                })
            }
        })
}

/// "now": uniform over 2026–2028, or within three days of one of the zone's DST changes.
fn now_for(tz: Tz, near_change: bool, pick: usize, delta: i64, uniform: i64) -> DateTime<Utc> {
    let z = ZONES.iter().position(|z| *z == tz).unwrap();
    let changes = &transitions()[z];
    let secs = if near_change && !changes.is_empty() {
        changes[pick % changes.len()] + delta
    } else {
        uniform
    };
    DateTime::from_timestamp(secs, 0).unwrap() + Duration::milliseconds(delta.rem_euclid(1000))
}

/// Whether a span (repeating on `days`) covers local minute `m` of weekday `wd`.
fn span_covers(span: &DailySpan, on: impl Fn(Weekday) -> bool, wd: Weekday, m: u16) -> bool {
    let (s, e) = (span.start.minutes(), span.end.minutes());
    if s < e {
        on(wd) && s <= m && m < e
    } else {
        (on(wd) && m >= s) || (on(wd.pred()) && m < e)
    }
}

/// The oracle: does the wall clock read a quiet (or teaching) minute at `at`?
fn blocked(who: &Who, at: DateTime<Utc>) -> bool {
    let (tz, quiet, teaching) = match who {
        Who::Staff(h) => (h.time_zone, Some(&h.quiet), &h.teaching.periods[..]),
        Who::Parent(h) => (h.time_zone, h.quiet.as_ref(), &[][..]),
    };
    let local = at.with_timezone(&tz);
    let (wd, m) = (local.weekday(), (local.hour() * 60 + local.minute()) as u16);
    let quiet_now = quiet.is_some_and(|q| {
        q.whole_days.contains(&wd)
            || q.daily
                .as_ref()
                .is_some_and(|d| span_covers(d, |_| true, wd, m))
    });
    quiet_now
        || teaching
            .iter()
            .any(|p| span_covers(&p.times(), |d| d == p.day, wd, m))
}

fn schedule(who: &Who) -> Result<NotifySchedule, NotifyError> {
    match who {
        Who::Staff(h) => NotifySchedule::for_staff(h),
        Who::Parent(h) => NotifySchedule::for_parent(h),
    }
}

fn event(kind: EventKind, at: DateTime<Utc>) -> NotifyEvent {
    NotifyEvent {
        id: Uuid::nil(),
        at,
        kind,
        preview: EventPreview::default(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, ..ProptestConfig::default() })]

    // REQ-NOT-2, REQ-NOT-3: never shown in quiet hours or teaching; held ones at the FIRST allowed instant.
    #[test]
    fn nothing_is_shown_in_quiet_hours_and_held_ones_are_shown_at_the_first_allowed_instant(
        who in who(),
        near_change in proptest::bool::weighted(0.7),
        pick in any::<usize>(),
        delta in -3 * 86_400i64..3 * 86_400,
        uniform in START_2026..END_2028,
        kind in prop_oneof![
            Just(EventKind::Message { conversation: Uuid::nil(), from: SenderKind::Parent }),
            Just(EventKind::SafeguardingReport { report: Uuid::nil() }),
            Just(EventKind::SchoolStoryPost),
            Just(EventKind::Emergency { issued_by_admin: false, school_wide: true }),
        ],
    ) {
        let tz = match &who { Who::Staff(h) => h.time_zone, Who::Parent(h) => h.time_zone };
        let now = now_for(tz, near_change, pick, delta, uniform);
        let schedule = match schedule(&who) {
            Err(NotifyError::AlwaysQuiet) => return Err(TestCaseError::reject("always quiet")),
            other => other.unwrap(),
        };
        prop_assert_eq!(schedule.is_quiet_at(now).unwrap(), blocked(&who, now));
        let recipient = Recipient { id: Uuid::nil(), schedule, lock_screen: LockScreenPreview::Generic };
        let planned = plan(&event(kind, now), &recipient, now).unwrap();
        prop_assert!(!planned.emergency);
        match planned.decision {
            Decision::DeliverNow { breaks_quiet_hours } => {
                prop_assert!(!breaks_quiet_hours);
                prop_assert!(!blocked(&who, now), "delivered at {now} inside quiet hours");
            }
            Decision::HoldUntil { at } | Decision::Digest { at, .. } => {
                prop_assert!(at > now);
                prop_assert!(at - now < Duration::days(8), "held too long: {now} -> {at}");
                prop_assert!(!blocked(&who, at), "released at {at} inside quiet hours");
                prop_assert!(blocked(&who, at - Duration::seconds(1)), "{at} is not the first allowed instant");
                // Every wall minute lasts 60 s, so stepping by a minute visits each one.
                let mut probe = now;
                while probe < at {
                    prop_assert!(blocked(&who, probe), "{probe} was allowed before release at {at}");
                    probe += Duration::minutes(1);
                }
            }
        }
    }

    // REQ-NOT-4: an admin's school-wide emergency is shown at once, marked, and says whether it broke quiet hours.
    #[test]
    fn admin_emergency_is_always_shown_now_and_marked(
        who in who(),
        pick in any::<usize>(),
        delta in -3 * 86_400i64..3 * 86_400,
        uniform in START_2026..END_2028,
    ) {
        let tz = match &who { Who::Staff(h) => h.time_zone, Who::Parent(h) => h.time_zone };
        let now = now_for(tz, true, pick, delta, uniform);
        let Ok(schedule) = schedule(&who) else { return Err(TestCaseError::reject("always quiet")) };
        let recipient = Recipient { id: Uuid::nil(), schedule, lock_screen: LockScreenPreview::Full };
        let kind = EventKind::Emergency { issued_by_admin: true, school_wide: true };
        let planned = plan(&event(kind, now), &recipient, now).unwrap();
        prop_assert!(planned.emergency);
        prop_assert_eq!(planned.decision, Decision::DeliverNow { breaks_quiet_hours: blocked(&who, now) });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    // REQ-NOT-2: every held notification lands in exactly one digest, one per recipient,
    // conversation and release instant, shown when its own hold ends.
    #[test]
    fn held_notifications_fold_into_one_digest_per_conversation_and_release(
        messages in proptest::collection::vec((0u128..4, 0u128..5, 0i64..7 * 86_400), 1..80),
        zone in 0usize..ZONES.len(),
    ) {
        let start = DateTime::from_timestamp(START_2026 + 86_400 * 60, 0).unwrap();
        let people: Vec<Recipient> = (0..4u128)
            .map(|i| Recipient {
                id: Uuid::from_u128(i),
                schedule: NotifySchedule::for_staff(&StaffHours::new(ZONES[zone])).unwrap(),
                lock_screen: LockScreenPreview::Generic,
            })
            .collect();
        let plans: Vec<PlannedNotification> = messages
            .iter()
            .enumerate()
            .map(|(i, &(r, c, s))| {
                let at = start + Duration::seconds(s);
                let mut e = event(EventKind::Message { conversation: Uuid::from_u128(c), from: SenderKind::Parent }, at);
                e.id = Uuid::from_u128(1000 + i as u128);
                plan(&e, &people[r as usize], at).unwrap()
            })
            .collect();
        let digests = build_digests(&plans);
        let held: Vec<&PlannedNotification> = plans.iter().filter(|p| p.decision.is_held()).collect();
        prop_assert_eq!(digests.iter().map(|d| d.events.len()).sum::<usize>(), held.len());
        let mut seen = std::collections::HashSet::new();
        for d in &digests {
            prop_assert!(seen.insert((d.recipient, d.key, d.deliver_at)), "two digests for one conversation and release");
            prop_assert!(matches!(d.key, DigestKey::Conversation(_)));
            for id in &d.events {
                let p = held.iter().find(|p| p.event == *id).unwrap();
                prop_assert_eq!(p.recipient, d.recipient);
                prop_assert_eq!(p.decision, Decision::Digest { at: d.deliver_at, key: d.key });
            }
            let at = |id: &Uuid| held.iter().find(|p| p.event == *id).map(|p| p.event_at);
            let oldest_first = d.events.windows(2).all(|w| at(&w[0]) <= at(&w[1]));
            prop_assert!(oldest_first);
        }
        prop_assert!(digests.windows(2).all(|w| w[0].deliver_at <= w[1].deliver_at));
    }
}
