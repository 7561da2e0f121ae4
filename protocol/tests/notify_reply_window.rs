//! The composer's reply-window hint in plain words (REQ-MSG-4).

use chrono::Weekday;
use chrono_tz::{Asia, Europe};
use homeroom_protocol::notify::*;

fn t(s: &str) -> TimeOfDay {
    s.parse().unwrap()
}

fn span(a: &str, b: &str) -> DailySpan {
    DailySpan::new(t(a), t(b)).unwrap()
}

const SCHOOL_DAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// Teaching 08:30–10:30, 10:40–12:15 and 12:15–15:30 every school day.
fn ms_khan() -> StaffHours {
    let mut hours = StaffHours::new(Europe::London);
    hours.teaching = Timetable::same_each_day(
        &SCHOOL_DAYS,
        &[
            span("08:30", "10:30"),
            span("10:40", "12:15"),
            span("12:15", "15:30"),
        ],
    );
    hours
}

// REQ-MSG-4: working hours minus teaching; a 10-minute changeover is not a reply slot.
#[test]
fn teacher_replies_before_and_after_lessons_on_school_days() {
    let w = reply_window(&WorkingHours::default(), &ms_khan()).unwrap();
    assert_eq!(
        w.describe("Ms Khan"),
        "Ms Khan replies 08:00–08:30 and 15:30–17:00 on school days; usually within 24 hours"
    );
    assert_eq!(w.slots.len(), 10);
}

// REQ-MSG-4: the reader in another zone is told whose clock the times are on.
#[test]
fn reader_in_another_zone_sees_the_teachers_zone_named() {
    let w = reply_window(&WorkingHours::default(), &ms_khan()).unwrap();
    assert_eq!(
        w.describe_for("Ms Khan", Asia::Karachi),
        "Ms Khan replies 08:00–08:30 and 15:30–17:00 on school days (Europe/London time); usually within 24 hours"
    );
    assert_eq!(
        w.describe_for("Ms Khan", Europe::London),
        w.describe("Ms Khan")
    );
}

// REQ-MSG-4: days that differ are described separately.
#[test]
fn free_wednesday_afternoon_is_described_separately() {
    let mut hours = ms_khan();
    hours
        .teaching
        .periods
        .retain(|p| !(p.day == Weekday::Wed && p.start == t("12:15")));
    hours.usually_replies_within_hours = 48;
    let w = reply_window(&WorkingHours::default(), &hours).unwrap();
    assert_eq!(
        w.describe("Ms Khan"),
        "Ms Khan replies 08:00–08:30 and 15:30–17:00 on Mon, Tue, Thu and Fri, \
         and 08:00–08:30 and 12:15–17:00 on Wed; usually within 2 days"
    );
}

// REQ-MSG-4, REQ-NOT-1: the staff member's own quiet hours narrow the window (a part-timer).
#[test]
fn part_timer_quiet_on_thursday_and_friday_replies_mon_to_wed() {
    let mut hours = StaffHours::new(Europe::London);
    hours.quiet.whole_days.extend([Weekday::Thu, Weekday::Fri]);
    hours.quiet.daily = Some(span("16:00", "08:00"));
    let w = reply_window(&WorkingHours::default(), &hours).unwrap();
    assert_eq!(
        w.describe("Mr Lee"),
        "Mr Lee replies 08:00–16:00 on Mon–Wed; usually within 24 hours"
    );
}

// REQ-MSG-4: explicit reply slots replace the derived window.
#[test]
fn explicit_reply_slots_are_used_as_given() {
    let mut hours = ms_khan();
    hours.reply_slots = Some(vec![
        WeeklySpan::new(Weekday::Tue, t("15:30"), t("16:30")).unwrap(),
        WeeklySpan::new(Weekday::Thu, t("15:30"), t("16:30")).unwrap(),
    ]);
    hours.usually_replies_within_hours = 1;
    let w = reply_window(&WorkingHours::default(), &hours).unwrap();
    assert_eq!(
        w.describe("Ms Khan"),
        "Ms Khan replies 15:30–16:30 on Tue and Thu; usually within 1 hour"
    );
}

// REQ-MSG-4: no free time at all is said plainly.
#[test]
fn teacher_without_free_time_has_no_regular_reply_times() {
    let mut hours = StaffHours::new(Europe::London);
    hours.teaching = Timetable::same_each_day(&SCHOOL_DAYS, &[span("08:00", "17:00")]);
    let w = reply_window(&WorkingHours::default(), &hours).unwrap();
    assert_eq!(
        w.describe("Mr Park"),
        "Mr Park has no regular reply times; usually replies within 24 hours"
    );
}

// REQ-MSG-4: the default staff member replies during the whole working day.
#[test]
fn default_staff_member_replies_0800_to_1700_on_school_days() {
    let w = reply_window(&WorkingHours::default(), &StaffHours::new(Europe::London)).unwrap();
    assert_eq!(
        w.describe("Mrs Osei"),
        "Mrs Osei replies 08:00–17:00 on school days; usually within 24 hours"
    );
    let json = serde_json::to_string(&w).unwrap();
    assert_eq!(serde_json::from_str::<ReplyWindow>(&json).unwrap(), w);
}
