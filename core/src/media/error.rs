//! Typed failures of the photo pipeline, so the shells can tell a teacher *why* a photo was refused.

use std::path::PathBuf;

/// Everything that can go wrong between the camera file and the upload-ready bytes.
///
/// Field names avoid `message`/`cause`: they clash with Kotlin's `Throwable` in the bindings.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The input file is bigger than the configured byte limit (checked before reading it).
    #[error("photo is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge { bytes: u64, limit: u64 },
    /// The header declares more pixels than we are willing to decode (decompression bomb guard).
    #[error("photo is {width}x{height} pixels, over the {limit}-pixel limit")]
    TooManyPixels { width: u64, height: u64, limit: u64 },
    /// Not a JPEG, PNG or WebP (HEIC must be converted by the iOS shell first), or a variant we do not decode.
    #[error("unsupported image format: {detail}")]
    UnsupportedFormat { detail: String },
    /// The bytes claim to be an image but are malformed or truncated.
    #[error("corrupt image: {detail}")]
    Corrupt { detail: String },
    /// Reading the input file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The encoder failed; a bug or resource exhaustion rather than bad input.
    #[error("encoding failed: {detail}")]
    Encode { detail: String },
    /// The options are inconsistent (e.g. a zero long edge or quality out of range).
    #[error("invalid photo options: {detail}")]
    InvalidOptions { detail: String },
}

impl MediaError {
    pub(crate) fn corrupt(detail: impl Into<String>) -> Self {
        MediaError::Corrupt {
            detail: detail.into(),
        }
    }

    pub(crate) fn unsupported(detail: impl Into<String>) -> Self {
        MediaError::UnsupportedFormat {
            detail: detail.into(),
        }
    }

    pub(crate) fn encode(detail: impl Into<String>) -> Self {
        MediaError::Encode {
            detail: detail.into(),
        }
    }
}

/// Turns the payload of a caught libjpeg unwind into text for a `Corrupt` error.
pub(crate) fn panic_detail(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "decoder aborted".to_string()
    }
}
