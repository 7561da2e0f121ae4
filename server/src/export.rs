//! A thread as a dated written record, in plain text and HTML, for a meeting record or a
//! safeguarding log (REQ-MSG-6). Times are in the school's time zone, with the zone named.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use homeroom_protocol::notify::Tz;
use homeroom_protocol::wire::MessageRecord;

/// One message as exported.
pub struct ExportedMessage {
    pub record: MessageRecord,
    pub sender: String,
    pub read_at: Option<DateTime<Utc>>,
}

/// Everything an export shows.
pub struct ThreadRecord {
    pub school: String,
    pub parent_id: String,
    pub parent: String,
    pub staff: String,
    pub exported_by: String,
    pub exported_at: DateTime<Utc>,
    pub time_zone: Tz,
    pub messages: Vec<ExportedMessage>,
}

impl ThreadRecord {
    fn at(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.time_zone)
            .format("%A %-d %B %Y, %H:%M")
            .to_string()
    }

    fn role_of(&self, m: &ExportedMessage) -> &'static str {
        if m.record.sender_id == self.parent_id {
            "parent"
        } else {
            "staff"
        }
    }

    /// The record as plain text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Conversation record — {}", self.school);
        let _ = writeln!(
            out,
            "Between: {} (parent) and {} (staff)",
            self.parent, self.staff
        );
        let _ = writeln!(
            out,
            "Exported by {} on {} (times in {})",
            self.exported_by,
            self.at(self.exported_at),
            self.time_zone.name()
        );
        let _ = writeln!(out, "Messages: {}", self.messages.len());
        let _ = writeln!(out, "{}", "-".repeat(60));
        for m in &self.messages {
            let _ = writeln!(
                out,
                "\n[{}] {} ({}):",
                self.at(m.record.sent_at),
                m.sender,
                self.role_of(m)
            );
            for line in m.record.body.lines() {
                let _ = writeln!(out, "    {line}");
            }
            if let Some(r) = m.read_at {
                let _ = writeln!(out, "    (read {})", self.at(r));
            }
        }
        out
    }

    /// The record as a standalone HTML page (printable to PDF from any browser).
    pub fn to_html(&self) -> String {
        let mut out = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Conversation record</title>\
             <style>body{font-family:sans-serif;max-width:46em;margin:2em auto}\
             .m{margin:1em 0}.when{color:#555}.body{white-space:pre-wrap}</style></head><body>\n",
        );
        let _ = writeln!(out, "<h1>Conversation record — {}</h1>", esc(&self.school));
        let _ = writeln!(
            out,
            "<p>Between {} (parent) and {} (staff).<br>Exported by {} on {} (times in {}).</p>",
            esc(&self.parent),
            esc(&self.staff),
            esc(&self.exported_by),
            esc(&self.at(self.exported_at)),
            esc(self.time_zone.name())
        );
        for m in &self.messages {
            let _ = writeln!(
                out,
                "<div class=\"m\"><div class=\"when\"><time datetime=\"{}\">{}</time> — <b>{}</b> ({})</div><div class=\"body\">{}</div>{}</div>",
                m.record.sent_at.to_rfc3339(),
                esc(&self.at(m.record.sent_at)),
                esc(&m.sender),
                self.role_of(m),
                esc(&m.record.body),
                m.read_at
                    .map(|r| format!("<div class=\"when\">read {}</div>", esc(&self.at(r))))
                    .unwrap_or_default()
            );
        }
        out.push_str("</body></html>\n");
        out
    }
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn record() -> ThreadRecord {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        ThreadRecord {
            school: "Oak Hill".into(),
            parent_id: "pa1".into(),
            parent: "Sara Ahmed".into(),
            staff: "Ms Khan".into(),
            exported_by: "Ms Khan".into(),
            exported_at: at("2026-03-05T10:00:00Z"),
            time_zone: chrono_tz_london(),
            messages: vec![ExportedMessage {
                record: MessageRecord {
                    id: Uuid::from_u128(1),
                    thread_id: Uuid::from_u128(2),
                    parent_id: "pa1".into(),
                    staff_id: "tA".into(),
                    sender_id: "pa1".into(),
                    body: "Is <b>Amira</b> & co going?".into(),
                    sent_at: at("2026-03-04T21:30:00Z"),
                    attachments: Vec::new(),
                },
                sender: "Sara Ahmed".into(),
                read_at: Some(at("2026-03-05T08:05:00Z")),
            }],
        }
    }

    fn chrono_tz_london() -> Tz {
        homeroom_protocol::notify::parse_time_zone("Europe/London").unwrap()
    }

    #[test]
    fn text_record_is_dated_in_the_school_zone() {
        let text = record().to_text();
        assert!(
            text.contains("[Wednesday 4 March 2026, 21:30] Sara Ahmed (parent):"),
            "{text}"
        );
        assert!(
            text.contains("(read Thursday 5 March 2026, 08:05)"),
            "{text}"
        );
        assert!(text.contains("times in Europe/London"), "{text}");
    }

    #[test]
    fn html_record_escapes_message_text() {
        let html = record().to_html();
        assert!(
            html.contains("Is &lt;b&gt;Amira&lt;/b&gt; &amp; co going?"),
            "{html}"
        );
        assert!(!html.contains("<b>Amira</b>"));
    }
}
