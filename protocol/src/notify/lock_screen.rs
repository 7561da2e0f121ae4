//! What a notification may show on a locked screen: generic words unless the user opted in (REQ-NOT-5).

use serde::{Deserialize, Serialize};

use super::event::{Category, EventPreview};

/// Longest preview text shown, in characters; the rest is cut with "…".
pub const PREVIEW_CHARS: usize = 160;

/// The user's lock-screen choice; the default shows no message text and no child's name (REQ-NOT-5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockScreenPreview {
    /// "New message from a parent": no names, no text.
    #[default]
    Generic,
    /// Sender, child and the start of the text (the user opted in).
    Full,
}

/// The text a notification displays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockScreenContent {
    pub title: String,
    pub body: String,
    /// True when title or body may carry names or message text (only with `LockScreenPreview::Full`).
    pub shows_private: bool,
}

impl Category {
    /// Generic text for one event: safe on any locked screen.
    pub fn generic_one(self) -> &'static str {
        match self {
            Category::MessageFromParent => "New message from a parent",
            Category::MessageFromStaff => "New message from school staff",
            Category::SafeguardingReport => "A message was reported and needs review",
            Category::ClassAnnouncement => "New class announcement",
            Category::ClassStoryPost => "New post in Class Story",
            Category::SchoolStoryPost => "New post in School Story",
            Category::SchoolAnnouncement => "New announcement from school",
            Category::Emergency => "Emergency announcement from school",
        }
    }

    /// Generic text for `n` events of this category.
    pub fn generic_many(self, n: usize) -> String {
        if n == 1 {
            return self.generic_one().to_owned();
        }
        let rest = match self {
            Category::MessageFromParent => "new messages from a parent",
            Category::MessageFromStaff => "new messages from school staff",
            Category::SafeguardingReport => "reported messages need review",
            Category::ClassAnnouncement => "new class announcements",
            Category::ClassStoryPost => "new posts in Class Story",
            Category::SchoolStoryPost => "new posts in School Story",
            Category::SchoolAnnouncement => "new announcements from school",
            Category::Emergency => "emergency announcements from school",
        };
        format!("{n} {rest}")
    }

    fn generic_title(self) -> &'static str {
        match self {
            Category::Emergency => "Emergency",
            _ => "Homeroom",
        }
    }

    /// Safeguarding reports stay generic even with opt-in: the reported text may be the harm.
    fn may_show_private(self) -> bool {
        self != Category::SafeguardingReport
    }
}

/// The display content of one event for a user with the given lock-screen choice.
pub fn content_for(
    category: Category,
    preview: &EventPreview,
    choice: LockScreenPreview,
) -> LockScreenContent {
    if choice == LockScreenPreview::Generic || !category.may_show_private() {
        return generic(category, 1);
    }
    let mut title = match category {
        Category::Emergency => format!("Emergency · {}", preview.sender_name),
        _ => preview.sender_name.clone(),
    };
    if preview.sender_name.is_empty() {
        title = category.generic_title().to_owned();
    }
    if let Some(child) = preview.child_name.as_deref().filter(|c| !c.is_empty()) {
        title.push_str(" · ");
        title.push_str(child);
    }
    let body = if preview.text.trim().is_empty() {
        category.generic_one().to_owned()
    } else {
        shorten(&preview.text)
    };
    LockScreenContent {
        title,
        body,
        shows_private: true,
    }
}

/// Generic content for `n` events of one category.
pub fn generic(category: Category, n: usize) -> LockScreenContent {
    LockScreenContent {
        title: category.generic_title().to_owned(),
        body: category.generic_many(n),
        shows_private: false,
    }
}

/// The first `PREVIEW_CHARS` characters of `text` on one line.
fn shorten(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(PREVIEW_CHARS * 4));
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() > PREVIEW_CHARS {
            break;
        }
    }
    match out.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => {
            out.truncate(cut);
            out.push('…');
            out
        }
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview() -> EventPreview {
        EventPreview {
            sender_name: "Mr Ahmed".into(),
            text: "Aisha has a dentist appointment at 2pm".into(),
            child_name: Some("Aisha".into()),
        }
    }

    // REQ-NOT-5
    #[test]
    fn generic_lock_screen_shows_neither_text_nor_child_name() {
        let c = content_for(
            Category::MessageFromParent,
            &preview(),
            LockScreenPreview::Generic,
        );
        assert_eq!(c.title, "Homeroom");
        assert_eq!(c.body, "New message from a parent");
        assert!(!c.shows_private);
        let all = format!("{}{}", c.title, c.body);
        assert!(!all.contains("Aisha") && !all.contains("dentist") && !all.contains("Ahmed"));
    }

    // REQ-NOT-5
    #[test]
    fn opted_in_lock_screen_shows_sender_child_and_text() {
        let c = content_for(
            Category::MessageFromParent,
            &preview(),
            LockScreenPreview::Full,
        );
        assert_eq!(c.title, "Mr Ahmed · Aisha");
        assert_eq!(c.body, "Aisha has a dentist appointment at 2pm");
        assert!(c.shows_private);
    }

    // REQ-NOT-5, REQ-MSG-5
    #[test]
    fn safeguarding_report_stays_generic_even_when_opted_in() {
        let c = content_for(
            Category::SafeguardingReport,
            &preview(),
            LockScreenPreview::Full,
        );
        assert!(!c.shows_private);
        assert!(!c.body.contains("dentist"));
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let p = EventPreview {
            text: "é".repeat(400),
            ..preview()
        };
        let c = content_for(Category::MessageFromStaff, &p, LockScreenPreview::Full);
        assert_eq!(c.body.chars().count(), PREVIEW_CHARS + 1);
        assert!(c.body.ends_with('…'));
    }

    #[test]
    fn plural_generic_text_counts() {
        assert_eq!(
            Category::MessageFromParent.generic_many(3),
            "3 new messages from a parent"
        );
        assert_eq!(
            Category::SchoolStoryPost.generic_many(1),
            "New post in School Story"
        );
    }
}
