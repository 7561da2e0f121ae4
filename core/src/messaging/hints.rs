//! Composer hints, worked out on the phone (REQ-MSG-4, MSG-7): when the recipient is notified and
//! replies, in plain words, and a gentle "contact the office" hint for appointments, attendance
//! or SEND. The draft's text never leaves the device for this.

use chrono::{DateTime, Utc};
use homeroom_protocol::messaging::PersonHours;
use homeroom_protocol::notify::{
    reply_window, DailySpan, NotifyError, QuietHours, Tz, WorkingHours,
};

/// What a draft seems to be about, when the school office is the better place for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingTopic {
    Appointments,
    Attendance,
    Send,
}

/// A hint to show above the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingHint {
    pub topic: RoutingTopic,
    pub text: String,
}

const ATTENDANCE: &[&str] = &[
    "absent",
    "absence",
    "off sick",
    "off school",
    "be off",
    "is off today",
    "sick today",
    "ill today",
    "poorly",
    "won't be in",
    "wont be in",
    "will not be in",
    "not coming in",
    "not be in",
    "attendance",
    "holiday in term",
    "term time holiday",
    "term-time holiday",
    "late today",
    "running late",
    "day off",
];
const APPOINTMENTS: &[&str] = &[
    "appointment",
    "appointments",
    "dentist",
    "doctor",
    "doctors",
    "gp",
    "hospital",
    "orthodontist",
    "optician",
    "clinic",
    "pick up early",
    "pick her up early",
    "pick him up early",
    "collect early",
    "collecting early",
    "leave early",
    "leaving early",
];
const SEND: &[&str] = &[
    "senco",
    "sen",
    "ehcp",
    "ehc plan",
    "special educational needs",
    "special needs",
    "additional needs",
    "learning support",
    "autism",
    "autistic",
    "adhd",
    "dyslexia",
    "dyslexic",
    "dyspraxia",
    "sensory needs",
    "speech and language",
    "one to one support",
    "1:1 support",
];

/// Words of `text`, lower-cased, one space apart, padded: " i have a dentist appointment ".
fn words(text: &str) -> String {
    let mut out = String::from(" ");
    for w in text
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == ':' || c == '-'))
        .filter(|w| !w.is_empty())
    {
        out.push_str(&w.to_lowercase().replace('’', "'"));
        out.push(' ');
    }
    out
}

fn mentions(padded: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| padded.contains(&format!(" {p} ")))
}

/// REQ-MSG-7: a hint to contact the school office when a draft is about appointments,
/// attendance or SEND; `None` otherwise. Pure and on-device.
pub fn routing_hint(draft: &str) -> Option<RoutingHint> {
    let padded = words(draft);
    // "SEND" in capitals is the term; "send" in lower case is just a verb.
    let send_acronym = draft
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "SEND");
    let (topic, text) = if mentions(&padded, ATTENDANCE) {
        (
            RoutingTopic::Attendance,
            "This looks like an absence or lateness. Please tell the school office too, so it \
             is recorded today: your child's teacher may not see this message until later.",
        )
    } else if mentions(&padded, APPOINTMENTS) {
        (
            RoutingTopic::Appointments,
            "This looks like an appointment. Please let the school office know, so they can \
             plan the pick-up and record the absence.",
        )
    } else if send_acronym || mentions(&padded, SEND) {
        (
            RoutingTopic::Send,
            "This looks like a special educational needs (SEND) question. The school office \
             can put you in touch with the SENCo, who is best placed to help.",
        )
    } else {
        return None;
    };
    Some(RoutingHint {
        topic,
        text: text.to_owned(),
    })
}

/// "17:00–08:00 every night and all day on Sat and Sun".
fn quiet_words(q: &QuietHours) -> String {
    let mut parts = Vec::new();
    if let Some(DailySpan { start, end }) = q.daily {
        parts.push(format!("{start}–{end} every night"));
    }
    if !q.whole_days.is_empty() {
        let days: Vec<String> = q.whole_days.iter().map(|d| d.to_string()).collect();
        parts.push(format!("all day on {}", days.join(" and ")));
    }
    parts.join(" and ")
}

/// What the composer shows about a recipient (REQ-MSG-4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposerHint {
    /// "Ms Khan's quiet hours are 17:00–08:00 every night and all day on Sat and Sun (Europe/London time)".
    pub quiet_hours: String,
    /// Staff only: "Ms Khan replies 08:00–17:00 on school days; usually within 24 hours".
    pub reply_window: Option<String>,
    /// When a message sent at `now` would be shown to them (now, or the end of their quiet time).
    pub notified_at: DateTime<Utc>,
    /// "Ms Khan will be notified at 08:00 on Thu 5 Mar (Europe/London time)", when held.
    pub notified_when: Option<String>,
}

/// Works out the composer's words for writing to `name` with `hours`, read by someone in `reader`.
pub fn composer_hint(
    name: &str,
    hours: &PersonHours,
    school: &WorkingHours,
    reader: Tz,
    now: DateTime<Utc>,
) -> Result<ComposerHint, NotifyError> {
    let tz = hours.time_zone();
    let zone_note = if tz == reader {
        String::new()
    } else {
        format!(" ({} time)", tz.name())
    };
    let (quiet_hours, reply) = match hours {
        PersonHours::Staff(h) => (
            format!(
                "{name}'s quiet hours are {}{zone_note}",
                quiet_words(&h.quiet)
            ),
            Some(reply_window(school, h)?.describe_for(name, reader)),
        ),
        PersonHours::Parent(h) => match &h.quiet {
            Some(q) => (
                format!("{name}'s quiet hours are {}{zone_note}", quiet_words(q)),
                None,
            ),
            None => (format!("{name} has not set quiet hours"), None),
        },
    };
    let notified_at = hours.schedule()?.next_allowed(now)?;
    let notified_when = (notified_at > now).then(|| {
        format!(
            "{name} will be notified at {}{zone_note}",
            notified_at.with_timezone(&tz).format("%H:%M on %a %-d %b")
        )
    });
    Ok(ComposerHint {
        quiet_hours,
        reply_window: reply,
        notified_at,
        notified_when,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use homeroom_protocol::notify::{parse_time_zone, StaffHours};

    fn tz(name: &str) -> Tz {
        parse_time_zone(name).unwrap()
    }

    #[test]
    fn absence_appointment_and_send_drafts_get_an_office_hint() {
        let t = |s: &str| routing_hint(s).map(|h| h.topic);
        assert_eq!(t("Amira is off sick today"), Some(RoutingTopic::Attendance));
        assert_eq!(
            t("She won't be in tomorrow"),
            Some(RoutingTopic::Attendance)
        );
        assert_eq!(
            t("Dentist appointment at 2, can I collect early?"),
            Some(RoutingTopic::Appointments)
        );
        assert_eq!(
            t("Could we talk about her SEND support?"),
            Some(RoutingTopic::Send)
        );
        assert_eq!(t("Has the SENCo seen the EHCP?"), Some(RoutingTopic::Send));
    }

    #[test]
    fn ordinary_drafts_get_no_hint() {
        for d in [
            "Please send the reading book home",
            "Thank you for the lovely trip photos!",
            "Is the sending of homework on Fridays?",
            "",
        ] {
            assert_eq!(routing_hint(d), None, "{d}");
        }
    }

    #[test]
    fn composer_says_when_ms_khan_is_notified_and_replies() {
        let london = tz("Europe/London");
        let hours = PersonHours::Staff(StaffHours::new(london));
        let now = "2026-03-04T21:30:00Z".parse().unwrap();
        let h = composer_hint("Ms Khan", &hours, &WorkingHours::default(), london, now).unwrap();
        assert_eq!(
            h.quiet_hours,
            "Ms Khan's quiet hours are 17:00–08:00 every night and all day on Sat and Sun"
        );
        assert_eq!(
            h.reply_window.as_deref(),
            Some("Ms Khan replies 08:00–17:00 on school days; usually within 24 hours")
        );
        assert_eq!(
            h.notified_at,
            "2026-03-05T08:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            h.notified_when.as_deref(),
            Some("Ms Khan will be notified at 08:00 on Thu 5 Mar")
        );
    }

    #[test]
    fn a_reader_in_karachi_is_told_the_teachers_zone() {
        let hours = PersonHours::Staff(StaffHours::new(tz("Europe/London")));
        let now = "2026-03-04T17:30:00Z".parse().unwrap();
        let h = composer_hint(
            "Ms Khan",
            &hours,
            &WorkingHours::default(),
            tz("Asia/Karachi"),
            now,
        )
        .unwrap();
        assert!(
            h.quiet_hours.ends_with("(Europe/London time)"),
            "{}",
            h.quiet_hours
        );
        assert!(
            h.notified_when.unwrap().ends_with("(Europe/London time)"),
            "zone named"
        );
    }
}
