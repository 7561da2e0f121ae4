//! The invitation email (REQ-ACC-2): the school's name, the pupil's first name only, the parent
//! code, when it expires and how to use it — nothing of any other child.

use chrono::{DateTime, Utc};
use homeroom_protocol::invites::first_name;

use crate::export::esc;

/// What one invitation says; rendered as a subject, plain text and HTML.
#[derive(Debug, Clone)]
pub struct Invitation<'a> {
    pub school_name: &'a str,
    /// The pupil's full display name; only the first name is shown.
    pub pupil_name: &'a str,
    /// The greeting's name, if the teacher gave one.
    pub recipient_name: Option<&'a str>,
    pub code: &'a str,
    pub expires_at: DateTime<Utc>,
}

impl Invitation<'_> {
    /// The subject names the school only: a preview on a shared screen says nothing of a child.
    pub fn subject(&self) -> String {
        format!("Your invitation to join {} on Homeroom", self.school_name)
    }

    fn greeting(&self) -> String {
        format!("Dear {},", self.recipient_name.unwrap_or("parent or carer"))
    }

    fn expiry(&self) -> String {
        self.expires_at
            .format("%A %-d %B %Y at %H:%M UTC")
            .to_string()
    }

    fn steps(&self) -> [String; 3] {
        [
            "Install the Homeroom app on your phone and open it.".to_owned(),
            "Choose \"I have a parent code\".".to_owned(),
            "Type the code above (capitals or not, dashes or not), then your email address and a \
             password of your own."
                .to_owned(),
        ]
    }

    fn intro(&self) -> String {
        format!(
            "{} invites you to follow {}'s learning on Homeroom: points, work shared by the class \
             and messages with the class teacher.",
            self.school_name,
            first_name(self.pupil_name)
        )
    }

    fn closing(&self) -> String {
        format!(
            "If you were not expecting this email, ignore it: nothing happens unless the code is \
             used. Questions? Ask {} directly; replies to this email are not read.",
            self.school_name
        )
    }

    /// The plain-text alternative.
    pub fn text(&self) -> String {
        let steps: Vec<String> = self
            .steps()
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 1))
            .collect();
        format!(
            "{}\n\n{}\n\nYour parent code:\n\n    {}\n\nThe code works once and expires on {}.\n\
             To join:\n{}\n\n{}\n",
            self.greeting(),
            self.intro(),
            self.code,
            self.expiry(),
            steps.join("\n"),
            self.closing()
        )
    }

    /// The HTML alternative: the same words, every value escaped.
    pub fn html(&self) -> String {
        let steps: String = self
            .steps()
            .iter()
            .map(|s| format!("<li>{}</li>", esc(s)))
            .collect();
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body>\n<p>{}</p>\n<p>{}</p>\n<p>Your parent code:</p>\n\
             <p style=\"font-family: monospace; font-size: 1.5em; letter-spacing: 0.1em\">\
             <strong>{}</strong></p>\n<p>The code works once and expires on {}.</p>\n\
             <p>To join:</p>\n<ol>{}</ol>\n<p>{}</p>\n</body></html>\n",
            esc(&self.subject()),
            esc(&self.greeting()),
            esc(&self.intro()),
            esc(self.code),
            esc(&self.expiry()),
            steps,
            esc(&self.closing())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn invitation() -> Invitation<'static> {
        Invitation {
            school_name: "Greenfield <Primary> & Nursery",
            pupil_name: "Amira Khan",
            recipient_name: None,
            code: "ABCD-EFGH-JKMN-PQ",
            expires_at: Utc.with_ymd_and_hms(2026, 12, 7, 18, 11, 0).unwrap(),
        }
    }

    #[test]
    fn the_mail_carries_the_code_the_expiry_and_only_the_first_name() {
        // REQ-ACC-2, ACC-5: the family's child by first name; no surname, no other pupil.
        let inv = invitation();
        for body in [inv.text(), inv.html()] {
            assert!(body.contains("ABCD-EFGH-JKMN-PQ"), "{body}");
            assert!(body.contains("Amira"));
            assert!(!body.contains("Khan"), "{body}");
            assert!(
                body.contains("Monday 7 December 2026 at 18:11 UTC"),
                "{body}"
            );
            assert!(body.contains("I have a parent code"));
        }
        assert!(!inv.subject().contains("Amira"));
        assert!(inv.text().starts_with("Dear parent or carer,"));
    }

    #[test]
    fn html_escapes_every_value() {
        let html = invitation().html();
        assert!(html.contains("Greenfield &lt;Primary&gt; &amp; Nursery"));
        assert!(!html.contains("<Primary>"));
    }
}
