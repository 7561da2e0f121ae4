//! Message attachments on the phone (REQ-MSG-1): a photo goes through the photo pipeline
//! (upright, metadata stripped, compressed), a file is checked against the shared allowlist;
//! either is sealed on disk at once and uploaded by hash before the message that names it.

use std::path::{Path, PathBuf};

use homeroom_protocol::attachments::{
    content_matches, validate_attachment, Attachment, AttachmentKind, MAX_FILE_BYTES, SNIFF_BYTES,
};

use crate::error::CoreError;
use crate::homeroom::Homeroom;
use crate::media::{prepare_photo, sha256_hex, OutputFormat, PhotoOptions};

/// What the app attaches to a message it is writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewAttachment {
    /// A camera or gallery photo; the pipeline makes the copy that is sent (REQ-PRV-1).
    Photo { path: PathBuf },
    /// A file sent as it is: PDF, Word or plain text, up to 10 MB.
    File {
        path: PathBuf,
        name: String,
        content_type: String,
    },
}

/// An attachment ready to queue: what the message names, and the sealed file to upload.
pub(crate) struct Staged {
    pub(crate) attachment: Attachment,
    pub(crate) sealed_path: PathBuf,
}

/// The place a media file is sealed under: the same for the outgoing copy and the cache.
pub(crate) fn media_place(sha: &str) -> String {
    format!("media:{sha}")
}

fn refused(e: impl std::fmt::Display) -> CoreError {
    CoreError::InvalidAttachment(e.to_string())
}

/// Reads a file the person chose, refusing one over the limit before reading it.
fn read_file(path: &Path) -> Result<Vec<u8>, CoreError> {
    let meta = std::fs::metadata(path).map_err(|e| refused(format!("cannot read it: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(refused(format!(
            "it is larger than {} MB",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    std::fs::read(path).map_err(|e| refused(format!("cannot read it: {e}")))
}

impl Homeroom {
    /// Prepares one attachment: the photo pipeline or the file checks, then a sealed copy in
    /// the outgoing folder named by the hash of the plain bytes (never a plaintext copy).
    #[tracing::instrument(skip_all)]
    pub(crate) fn stage_attachment(&self, new: &NewAttachment) -> Result<Staged, CoreError> {
        let (bytes, attachment) = match new {
            NewAttachment::Photo { path } => {
                let prepared = prepare_photo(path, &PhotoOptions::default())?;
                let large = prepared.large;
                let (content_type, ext) = match large.format {
                    OutputFormat::Jpeg => ("image/jpeg", "jpg"),
                    OutputFormat::WebP => ("image/webp", "webp"),
                };
                let attachment = Attachment {
                    sha256: large.sha256_hex.clone(),
                    kind: AttachmentKind::Photo,
                    name: format!("photo.{ext}"),
                    content_type: content_type.to_owned(),
                    size: large.bytes.len() as u64,
                };
                (large.bytes, attachment)
            }
            NewAttachment::File {
                path,
                name,
                content_type,
            } => {
                let bytes = read_file(path)?;
                let attachment = Attachment {
                    sha256: sha256_hex(&bytes),
                    kind: AttachmentKind::File,
                    name: name.trim().to_owned(),
                    content_type: content_type.trim().to_ascii_lowercase(),
                    size: bytes.len() as u64,
                };
                validate_attachment(&attachment).map_err(refused)?;
                let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
                if !content_matches(attachment.kind, &attachment.content_type, head) {
                    return Err(refused(format!(
                        "its content is not {}",
                        attachment.content_type
                    )));
                }
                (bytes, attachment)
            }
        };
        validate_attachment(&attachment).map_err(refused)?;
        let sealed = self
            .store
            .sealer()
            .seal(&bytes, &media_place(&attachment.sha256))?;
        std::fs::create_dir_all(&self.outgoing_dir)
            .map_err(|e| CoreError::Io(format!("cannot create the outgoing folder: {e}")))?;
        let sealed_path = self.outgoing_sealed(&attachment.sha256);
        // Write then rename: a kill never leaves a half-written file under a valid hash name.
        let tmp = sealed_path.with_extension("part");
        std::fs::write(&tmp, &sealed)
            .and_then(|()| std::fs::rename(&tmp, &sealed_path))
            .map_err(|e| CoreError::Io(format!("cannot save an attachment: {e}")))?;
        Ok(Staged {
            attachment,
            sealed_path,
        })
    }

    /// The sealed outgoing copy of an attachment made on this device.
    fn outgoing_sealed(&self, sha: &str) -> PathBuf {
        self.outgoing_dir.join(format!("{sha}.sealed"))
    }

    /// REQ-MSG-1: the bytes of an attachment of a message this person has: the sealed copy made
    /// here, the sealed cache, or downloaded (thread's people only; the server checks again),
    /// checked against the hash and cached sealed within the byte budget.
    #[tracing::instrument(skip_all)]
    pub fn attachment_bytes(&self, message_id: &str, sha256: &str) -> Result<Vec<u8>, CoreError> {
        let r = self.attachment_bytes_inner(message_id, sha256);
        self.checked(r)
    }

    fn attachment_bytes_inner(&self, message_id: &str, sha256: &str) -> Result<Vec<u8>, CoreError> {
        let id: uuid::Uuid = message_id
            .parse()
            .map_err(|_| CoreError::input("message_id", "not a message id"))?;
        let (_, _, all) = self.readable_messages()?;
        let named = all
            .iter()
            .find(|m| m.record.id == id)
            .ok_or_else(|| CoreError::input("message_id", "no such message here"))?
            .record
            .attachments
            .iter()
            .any(|a| a.sha256 == sha256);
        if !named {
            return Err(CoreError::input(
                "sha256",
                "the message has no such attachment",
            ));
        }
        if let Ok(sealed) = std::fs::read(self.outgoing_sealed(sha256)) {
            return self.store.sealer().open(&sealed, &media_place(sha256));
        }
        self.photo_bytes(sha256)
    }
}
