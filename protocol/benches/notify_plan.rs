//! Notification planning speed (issue 8, REQ-NOT-2): a School Story post to 1,000 parents across
//! five time zones must be planned in < 5 ms. Plain `Instant` timing, many iterations, median and
//! p99; `scripts/bench.d/notify.sh` turns the `RESULT` lines into docs/benchmarks/notify.md.
//!
//! Env: NOTIFY_BENCH_ITERS (default 3000 timed iterations per case).

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use chrono_tz::Tz;
use homeroom_protocol::notify::*;
use uuid::Uuid;

const ZONES: [Tz; 5] = [
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    chrono_tz::Asia::Karachi,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Sydney,
];
const PARENTS: usize = 1000;

/// Deterministic spread of settings: most parents set quiet hours, a quarter opt in to previews.
fn parent_hours(i: usize) -> ParentHours {
    let quiet = (i % 10 < 8).then(|| {
        let start = ["20:30", "21:00", "21:30", "22:00"][i % 4];
        let end = ["06:30", "07:00", "07:30"][i % 3];
        let span = DailySpan::new(start.parse().ok()?, end.parse().ok()?).ok()?;
        Some(QuietHours::nightly(span))
    });
    ParentHours {
        time_zone: ZONES[i % ZONES.len()],
        quiet: quiet.flatten(),
    }
}

fn recipients(hours: &[ParentHours]) -> Vec<Recipient> {
    hours
        .iter()
        .enumerate()
        .map(|(i, h)| Recipient {
            id: Uuid::from_u128(i as u128 + 1),
            schedule: NotifySchedule::for_parent(h)
                .unwrap_or_else(|_| NotifySchedule::always(h.time_zone)),
            lock_screen: if i % 4 == 0 {
                LockScreenPreview::Full
            } else {
                LockScreenPreview::Generic
            },
        })
        .collect()
}

fn post(at: DateTime<Utc>) -> NotifyEvent {
    NotifyEvent {
        id: Uuid::from_u128(7),
        at,
        kind: EventKind::SchoolStoryPost,
        preview: EventPreview {
            sender_name: "Mrs Osei".into(),
            text: "Year 4 had a wonderful trip to the science museum today — photos inside!".into(),
            child_name: None,
        },
    }
}

/// Planning instants: every 61 minutes for a week spanning London's and New York's autumn DST changes.
fn instants() -> Vec<DateTime<Utc>> {
    let start = DateTime::parse_from_rfc3339("2026-10-24T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    (0..24 * 9)
        .map(|k| start + ChronoDuration::minutes(61 * k))
        .collect()
}

struct Stats {
    median: Duration,
    p99: Duration,
    mean: Duration,
    iters: usize,
}

fn measure(iters: usize, mut f: impl FnMut(usize)) -> Stats {
    for i in 0..iters / 10 + 10 {
        f(i); // warm-up
    }
    let mut samples: Vec<Duration> = (0..iters)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed()
        })
        .collect();
    samples.sort_unstable();
    let total: Duration = samples.iter().sum();
    Stats {
        median: samples[samples.len() / 2],
        p99: samples[(samples.len() * 99 / 100).min(samples.len() - 1)],
        mean: total / iters as u32,
        iters,
    }
}

fn report(case: &str, what: &str, s: &Stats) {
    println!(
        "RESULT case={case} iters={} median_us={:.1} p99_us={:.1} mean_us={:.1} what=\"{what}\"",
        s.iters,
        s.median.as_secs_f64() * 1e6,
        s.p99.as_secs_f64() * 1e6,
        s.mean.as_secs_f64() * 1e6,
    );
}

fn main() {
    let iters: usize = std::env::var("NOTIFY_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let hours: Vec<ParentHours> = (0..PARENTS).map(parent_hours).collect();
    let people = recipients(&hours);
    let nows = instants();

    // Sanity: how many plans are held across the instants (both paths are exercised).
    let mut held = 0usize;
    let mut total = 0usize;
    for &now in &nows {
        for p in plan_all(&post(now), &people, now).unwrap_or_default() {
            total += 1;
            held += usize::from(p.decision.is_held());
        }
    }
    println!(
        "INFO parents={PARENTS} zones={} instants={} held_share={:.2}",
        ZONES.len(),
        nows.len(),
        held as f64 / total.max(1) as f64
    );

    let events: Vec<NotifyEvent> = nows.iter().map(|&t| post(t)).collect();
    let s = measure(iters, |i| {
        let k = i % nows.len();
        black_box(plan_all(black_box(&events[k]), black_box(&people), nows[k]).map(|v| v.len()))
            .unwrap_or_default();
    });
    report(
        "plan_all",
        "School Story post, 1,000 parents, 5 zones, compiled schedules (the < 5 ms target)",
        &s,
    );

    let s = measure(iters, |i| {
        let k = i % nows.len();
        let people = recipients(black_box(&hours));
        black_box(plan_all(&events[k], &people, nows[k]).map(|v| v.len())).unwrap_or_default();
    });
    report(
        "compile_and_plan",
        "the same, compiling all 1,000 schedules from their hours first (cold cache)",
        &s,
    );

    // 1,000 messages to 50 London staff in 20 conversations, all held overnight.
    let staff: Vec<Recipient> = (0..50u128)
        .map(|i| Recipient {
            id: Uuid::from_u128(10_000 + i),
            schedule: NotifySchedule::for_staff(&StaffHours::new(chrono_tz::Europe::London))
                .unwrap_or_else(|_| NotifySchedule::always(chrono_tz::Europe::London)),
            lock_screen: LockScreenPreview::Generic,
        })
        .collect();
    let night = DateTime::parse_from_rfc3339("2026-03-04T21:30:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let held_plans: Vec<PlannedNotification> = (0..1000u128)
        .filter_map(|i| {
            let at = night + ChronoDuration::seconds(i as i64);
            let e = NotifyEvent {
                id: Uuid::from_u128(20_000 + i),
                at,
                kind: EventKind::Message {
                    conversation: Uuid::from_u128(i % 20),
                    from: SenderKind::Parent,
                },
                preview: EventPreview::default(),
            };
            plan(&e, &staff[(i % 50) as usize], at).ok()
        })
        .collect();
    let s = measure(iters, |_| {
        black_box(build_digests(black_box(&held_plans)).len());
    });
    report(
        "build_digests",
        "1,000 held messages, 50 staff, 20 conversations → digests",
        &s,
    );
}
