//! Resource limits checked before any pixel is decoded, so a hostile file cannot exhaust a phone's memory.

use std::io::Read;
use std::path::Path;

use super::MediaError;

/// Upper bounds on what the pipeline accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input file accepted, in bytes.
    pub max_input_bytes: u64,
    /// Largest `width * height` declared by the image header.
    pub max_pixels: u64,
}

impl Default for Limits {
    /// 40 MB covers every phone JPEG and PNG screenshot; 50 MP covers 48/50 MP phone sensors.
    fn default() -> Self {
        Limits {
            max_input_bytes: 40 * 1024 * 1024,
            max_pixels: 50_000_000,
        }
    }
}

impl Limits {
    /// Refuses a header whose pixel count is zero or above the limit.
    pub fn check_pixels(&self, width: u64, height: u64) -> Result<(), MediaError> {
        if width == 0 || height == 0 {
            return Err(MediaError::corrupt(format!(
                "image has an empty dimension ({width}x{height})"
            )));
        }
        if width.saturating_mul(height) > self.max_pixels {
            return Err(MediaError::TooManyPixels {
                width,
                height,
                limit: self.max_pixels,
            });
        }
        Ok(())
    }

    /// Refuses an in-memory input above the byte limit.
    pub fn check_bytes(&self, len: u64) -> Result<(), MediaError> {
        if len > self.max_input_bytes {
            return Err(MediaError::TooLarge {
                bytes: len,
                limit: self.max_input_bytes,
            });
        }
        Ok(())
    }
}

/// Reads a whole file, refusing it before allocation if it is over the byte limit.
pub(crate) fn read_limited(path: &Path, limits: &Limits) -> Result<Vec<u8>, MediaError> {
    let _span = tracing::debug_span!("media.read", max = limits.max_input_bytes).entered();
    let io_err = |source| MediaError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    limits.check_bytes(len)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // `take` guards against a file that grows between the size check and the read.
    file.take(limits.max_input_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    limits.check_bytes(bytes.len() as u64)?;
    tracing::debug!(bytes = bytes.len(), "read photo");
    Ok(bytes)
}
