//! Comments and likes on posts (REQ-STO-4): who may react where, who may moderate, and the limits
//! both sides check. Class Story posts and a pupil's portfolio items take comments and likes from
//! their class staff and the class's (or the pupil's own) parents; authors delete their own
//! comments; class staff remove any comment in the class and turn comments off on a post.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{can, Action, Decision, Denied, SchoolFacts, Target};
use crate::posts::Audience;

/// Longest comment, in characters (a remark, not a letter: longer talk belongs in messages).
pub const MAX_COMMENT_CHARS: usize = 1000;

/// A comment as the server logs it and devices cache it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRecord {
    pub id: Uuid,
    pub post_id: Uuid,
    /// The post's audience: pull shows the comment only to those who may read the post.
    pub audience: Audience,
    pub author: String,
    /// The author's name as the school knows it, so every reader can show who wrote it (another
    /// family's parent is not in a parent's directory).
    #[serde(default)]
    pub author_name: String,
    pub body: String,
    /// The server's clock when it accepted the comment.
    pub commented_at: DateTime<Utc>,
}

/// One person's like of a post, or its withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikeRecord {
    pub post_id: Uuid,
    pub audience: Audience,
    pub user_id: String,
    /// `false`: the like was taken back.
    pub liked: bool,
}

/// The action of the access matrix a comment or like in `audience` is, with its target; School
/// Story takes neither (REQ-STO-4 names Class Story and portfolios only).
fn reaction(audience: &Audience, comment: bool) -> Option<(Action, Target<'_>)> {
    match audience {
        Audience::ClassStory { class_id } => Some((
            if comment {
                Action::CommentStory
            } else {
                Action::LikeStory
            },
            Target::Class(class_id),
        )),
        Audience::Portfolio { pupil_id } => Some((
            if comment {
                Action::CommentPortfolio
            } else {
                Action::LikePortfolio
            },
            Target::Pupil(pupil_id),
        )),
        Audience::SchoolStory => None,
    }
}

fn react(facts: &SchoolFacts, actor: &str, audience: &Audience, comment: bool) -> Decision {
    match reaction(audience, comment) {
        Some((action, target)) => can(facts, Some(actor), action, &target),
        None => Err(Denied::NotAllowed(format!(
            "{} the school story",
            if comment { "comment on" } else { "like" }
        ))),
    }
}

/// Whether `actor` may comment on a post seen in `audience` (REQ-STO-4).
pub fn may_comment(facts: &SchoolFacts, actor: &str, audience: &Audience) -> Decision {
    react(facts, actor, audience, true)
}

/// Whether `actor` may like a post seen in `audience` (REQ-STO-4).
pub fn may_like(facts: &SchoolFacts, actor: &str, audience: &Audience) -> Decision {
    react(facts, actor, audience, false)
}

/// Whether `actor` is class staff where the post lives: they remove any comment and turn
/// comments off (REQ-STO-4). The same people who may post there.
pub fn may_moderate(facts: &SchoolFacts, actor: &str, audience: &Audience) -> Decision {
    audience
        .may_post(facts, actor)
        .map_err(|_| Denied::NotAllowed("moderate comments here".into()))
}

/// Whether `actor` may delete a comment by `author`: their own, or any as a moderator.
pub fn may_remove_comment(
    facts: &SchoolFacts,
    actor: &str,
    author: &str,
    audience: &Audience,
) -> Decision {
    if actor == author && audience.may_read(facts, actor) {
        return Ok(());
    }
    may_moderate(facts, actor, audience)
        .map_err(|_| Denied::NotAllowed("remove another person's comment".into()))
}

/// Checks a comment's text before anyone stores it: the same limits on device and server.
pub fn validate_comment(body: &str) -> Result<(), (String, String)> {
    if body.trim().is_empty() {
        return Err(("body".into(), "a comment needs some words".into()));
    }
    let n = body.chars().count();
    if n > MAX_COMMENT_CHARS {
        return Err((
            "body".into(),
            format!("a comment is at most {MAX_COMMENT_CHARS} characters (this one is {n})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn class_a() -> Audience {
        Audience::ClassStory {
            class_id: "classA".into(),
        }
    }

    #[test]
    fn parents_and_staff_react_pupils_and_other_families_do_not_sto4() {
        let f = fixture::facts();
        let folio = Audience::Portfolio {
            pupil_id: "a1".into(),
        };
        for who in ["pa1", "tA", "sA", "L"] {
            assert_eq!(may_comment(&f, who, &class_a()), Ok(()), "{who}");
            assert_eq!(may_like(&f, who, &folio), Ok(()), "{who}");
        }
        for who in ["a1", "pb1", "tB", "pa3"] {
            assert!(may_comment(&f, who, &class_a()).is_err(), "{who}");
        }
        assert!(may_comment(&f, "pa2", &folio).is_err(), "not their child");
        assert!(may_like(&f, "pa1", &Audience::SchoolStory).is_err());
    }

    #[test]
    fn authors_remove_their_own_comments_class_staff_any_sto4() {
        let f = fixture::facts();
        assert_eq!(may_remove_comment(&f, "pa1", "pa1", &class_a()), Ok(()));
        assert_eq!(may_remove_comment(&f, "tA", "pa1", &class_a()), Ok(()));
        assert_eq!(may_remove_comment(&f, "sA", "pa1", &class_a()), Ok(()));
        assert!(may_remove_comment(&f, "pa2", "pa1", &class_a()).is_err());
        assert!(may_remove_comment(&f, "tB", "pa1", &class_a()).is_err());
        assert!(may_moderate(&f, "pa1", &class_a()).is_err());
    }

    #[test]
    fn comments_need_words_and_a_limit() {
        assert!(validate_comment("  ").is_err());
        assert!(validate_comment(&"x".repeat(MAX_COMMENT_CHARS + 1)).is_err());
        assert_eq!(validate_comment(&"é".repeat(MAX_COMMENT_CHARS)), Ok(()));
    }
}
