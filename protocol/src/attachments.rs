//! Message attachments (REQ-MSG-1): photos through the photo pipeline and files from a short
//! allowlist, each named by the SHA-256 of its bytes. The same limits on device and server.

use serde::{Deserialize, Serialize};

use crate::posts::is_sha256_hex;

/// Most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 5;
/// Largest file attachment (a scanned letter or a form, not a video).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Largest photo attachment; the pipeline's output is far smaller (REQ-PRV-1).
pub const MAX_PHOTO_BYTES: u64 = 2 * 1024 * 1024;
/// Longest file name, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// What an attachment is: a photo went through the photo pipeline, a file did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Photo,
    File,
}

/// One attachment of a message: the media it names and what to call it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub sha256: String,
    pub kind: AttachmentKind,
    /// Shown to the reader ("photo.jpg", "permission-slip.pdf").
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

/// Content types a file attachment may have, and the magic bytes its content must start with.
/// Images are not here: a photo goes through the pipeline, which strips its metadata (REQ-PRV-1).
pub const FILE_TYPES: &[(&str, &[u8])] = &[
    ("application/pdf", b"%PDF-"),
    // A .docx is a zip archive.
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    ("text/plain", b""),
];

/// Content types of a photo attachment (the pipeline's outputs).
pub const PHOTO_TYPES: &[(&str, &[u8])] =
    &[("image/jpeg", b"\xFF\xD8\xFF"), ("image/webp", b"RIFF")];

/// Why an attachment is refused, in words for the person who attached it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("a message carries at most {MAX_ATTACHMENTS} attachments")]
    TooMany,
    #[error("the attachment is not named by a lower-case hex SHA-256")]
    BadHash,
    #[error("the same attachment is added twice")]
    Duplicate,
    #[error("{0} files cannot be attached (PDF, Word documents and plain text can)")]
    TypeNotAllowed(String),
    #[error("an attachment is 1 byte to {limit} MB", limit = .0 / (1024 * 1024))]
    TooLarge(u64),
    #[error(
        "a file name is 1 to {MAX_NAME_CHARS} characters, without slashes or control characters"
    )]
    BadName,
    #[error("the file's content is not {0}")]
    ContentMismatch(String),
}

impl AttachmentKind {
    fn types(self) -> &'static [(&'static str, &'static [u8])] {
        match self {
            AttachmentKind::Photo => PHOTO_TYPES,
            AttachmentKind::File => FILE_TYPES,
        }
    }

    /// The size limit of this kind.
    pub fn max_bytes(self) -> u64 {
        match self {
            AttachmentKind::Photo => MAX_PHOTO_BYTES,
            AttachmentKind::File => MAX_FILE_BYTES,
        }
    }
}

/// Checks one attachment's shape: hash, type on the allowlist, size, name.
pub fn validate_attachment(a: &Attachment) -> Result<(), AttachmentError> {
    if !is_sha256_hex(&a.sha256) {
        return Err(AttachmentError::BadHash);
    }
    if !a.kind.types().iter().any(|(t, _)| *t == a.content_type) {
        return Err(AttachmentError::TypeNotAllowed(a.content_type.clone()));
    }
    if a.size == 0 || a.size > a.kind.max_bytes() {
        return Err(AttachmentError::TooLarge(a.kind.max_bytes()));
    }
    let name = a.name.trim();
    if name.is_empty()
        || name != a.name
        || name.chars().count() > MAX_NAME_CHARS
        || name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(AttachmentError::BadName);
    }
    Ok(())
}

/// Checks a message's attachments: at most [`MAX_ATTACHMENTS`], each valid, none twice.
pub fn validate_attachments(list: &[Attachment]) -> Result<(), AttachmentError> {
    if list.len() > MAX_ATTACHMENTS {
        return Err(AttachmentError::TooMany);
    }
    let mut seen = std::collections::HashSet::new();
    for a in list {
        validate_attachment(a)?;
        if !seen.insert(a.sha256.as_str()) {
            return Err(AttachmentError::Duplicate);
        }
    }
    Ok(())
}

/// Whether the first bytes of the content fit its declared type (plain text: no NUL bytes and
/// valid UTF-8 up to a possibly cut last character).
pub fn content_matches(kind: AttachmentKind, content_type: &str, head: &[u8]) -> bool {
    let Some((_, magic)) = kind.types().iter().find(|(t, _)| *t == content_type) else {
        return false;
    };
    if content_type == "text/plain" {
        return !head.contains(&0)
            && match std::str::from_utf8(head) {
                Ok(_) => true,
                Err(e) => e.error_len().is_none(),
            };
    }
    if content_type == "image/webp" {
        return head.starts_with(magic) && head.get(8..12) == Some(b"WEBP");
    }
    head.starts_with(magic)
}

/// How many leading bytes [`content_matches`] looks at.
pub const SNIFF_BYTES: usize = 512;

/// A message body and attachments: the body is trimmed and may be empty only when something is
/// attached (REQ-MSG-1).
pub fn validate_message(
    body: &str,
    attachments: &[Attachment],
) -> Result<String, (String, String)> {
    validate_attachments(attachments).map_err(|e| ("attachments".to_owned(), e.to_string()))?;
    if attachments.is_empty() || !body.trim().is_empty() {
        return crate::messaging::validate_body(body);
    }
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf() -> Attachment {
        Attachment {
            sha256: "a".repeat(64),
            kind: AttachmentKind::File,
            name: "permission-slip.pdf".into(),
            content_type: "application/pdf".into(),
            size: 1000,
        }
    }

    // REQ-MSG-1: files from the allowlist only, within the size limit, sensibly named.
    #[test]
    fn file_attachments_are_limited_by_type_size_and_name() {
        assert_eq!(validate_attachment(&pdf()), Ok(()));
        let exe = Attachment {
            content_type: "application/x-msdownload".into(),
            ..pdf()
        };
        assert!(matches!(
            validate_attachment(&exe),
            Err(AttachmentError::TypeNotAllowed(_))
        ));
        let jpeg_as_file = Attachment {
            content_type: "image/jpeg".into(),
            ..pdf()
        };
        assert!(
            validate_attachment(&jpeg_as_file).is_err(),
            "photos go through the pipeline, not as files"
        );
        let big = Attachment {
            size: MAX_FILE_BYTES + 1,
            ..pdf()
        };
        assert_eq!(
            validate_attachment(&big),
            Err(AttachmentError::TooLarge(MAX_FILE_BYTES))
        );
        for name in ["", "../etc/passwd", "a\nb", " padded.pdf"] {
            let bad = Attachment {
                name: name.into(),
                ..pdf()
            };
            assert_eq!(validate_attachment(&bad), Err(AttachmentError::BadName));
        }
        assert_eq!(
            validate_attachments(&[pdf(), pdf()]),
            Err(AttachmentError::Duplicate)
        );
    }

    #[test]
    fn content_must_match_its_declared_type() {
        assert!(content_matches(
            AttachmentKind::File,
            "application/pdf",
            b"%PDF-1.7\n"
        ));
        assert!(!content_matches(
            AttachmentKind::File,
            "application/pdf",
            b"MZ\x90\x00"
        ));
        assert!(content_matches(
            AttachmentKind::File,
            "text/plain",
            "caf\u{e9}".as_bytes()
        ));
        assert!(!content_matches(
            AttachmentKind::File,
            "text/plain",
            b"a\0b"
        ));
        assert!(content_matches(
            AttachmentKind::Photo,
            "image/jpeg",
            b"\xFF\xD8\xFF\xE0"
        ));
        assert!(!content_matches(
            AttachmentKind::Photo,
            "application/pdf",
            b"%PDF-"
        ));
    }

    #[test]
    fn a_message_with_attachments_may_have_no_text() {
        assert_eq!(validate_message("  ", &[pdf()]), Ok(String::new()));
        assert!(validate_message("  ", &[]).is_err());
        assert_eq!(validate_message(" hi ", &[pdf()]), Ok("hi".into()));
    }
}
