//! Decodes JPEG (DCT-domain downscaled), PNG and WebP into RGB8 exactly once, reading the EXIF orientation on the way.
//!
//! HEIC/HEIF is not decoded here: the iOS shell converts it to JPEG with the platform codec
//! (`CGImageDestination`) before passing the file to the core, because no HEVC decoder may ship in the core.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mozjpeg::{ColorSpace, Decompress, Marker};

use super::error::panic_detail;
use super::libjpeg::error_mgr;
use super::{exif, orient, Limits, MediaError, OrientedImage};

/// The container formats the core decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
    WebP,
}

/// Decoded pixels plus the EXIF orientation still to apply (1 when the decoder already turned them).
pub(crate) struct Decoded {
    pub image: OrientedImage,
    pub orientation: u8,
    pub format: SourceFormat,
    /// Dimensions declared by the header, before any DCT scaling.
    pub source_width: u32,
    pub source_height: u32,
}

/// Identifies the format from magic bytes; the file name is never trusted.
pub fn sniff(bytes: &[u8]) -> Result<SourceFormat, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::corrupt("empty file"));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(SourceFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(SourceFormat::WebP);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Err(MediaError::unsupported(
            "HEIF/HEIC: the iOS shell converts it to JPEG before calling the core",
        ));
    }
    Err(MediaError::unsupported("not a JPEG, PNG or WebP image"))
}

/// Decodes `bytes`, asking JPEG for the smallest DCT scale whose long edge is at least `min_long_edge`;
/// when that already fits `max_long_edge`, the JPEG rows are turned upright as they are decoded.
pub(crate) fn decode(
    bytes: &[u8],
    limits: &Limits,
    min_long_edge: u32,
    max_long_edge: u32,
) -> Result<Decoded, MediaError> {
    limits.check_bytes(bytes.len() as u64)?;
    match sniff(bytes)? {
        SourceFormat::Jpeg => decode_jpeg(bytes, limits, min_long_edge, max_long_edge),
        SourceFormat::Png => decode_png(bytes, limits),
        SourceFormat::WebP => decode_webp(bytes, limits),
    }
}

/// The smallest `n` (in eighths) such that the scaled long edge still reaches `min_long_edge`.
pub fn dct_scale(long_edge: u32, min_long_edge: u32) -> u8 {
    (1..=8u8)
        .find(|&n| (u64::from(long_edge) * u64::from(n)).div_ceil(8) >= u64::from(min_long_edge))
        .unwrap_or(8)
}

/// Source rows decoded per batch before they are scattered upright (two 4:2:0 MCU rows).
const ROW_BATCH: usize = 32;

fn decode_jpeg(
    bytes: &[u8],
    limits: &Limits,
    min_long_edge: u32,
    max_long_edge: u32,
) -> Result<Decoded, MediaError> {
    let _span = tracing::debug_span!("media.decode_jpeg", bytes = bytes.len()).entered();
    // libjpeg reports fatal errors by unwinding out of the C code (mozjpeg's design); we turn that into `Corrupt`.
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<Decoded, MediaError> {
        let mut d = Decompress::with_markers(&[Marker::APP(1)])
            .with_err(error_mgr())
            .from_mem(bytes)
            .map_err(|e| MediaError::corrupt(format!("JPEG header: {e}")))?;
        let (w, h) = d.size();
        limits.check_pixels(w as u64, h as u64)?;
        if matches!(d.color_space(), ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK) {
            return Err(MediaError::unsupported("CMYK JPEG"));
        }
        let orientation = d
            .markers()
            .filter(|m| m.marker == Marker::APP(1) && m.data.starts_with(b"Exif\0\0"))
            .map(|m| exif::orientation(m.data))
            .next()
            .unwrap_or(1);
        let scale = dct_scale(w.max(h) as u32, min_long_edge);
        d.scale(scale);
        let mut started = d
            .rgb()
            .map_err(|e| MediaError::corrupt(format!("JPEG start: {e}")))?;
        let (ow, oh) = (started.width(), started.height());
        let scanline_err = |e: std::io::Error| MediaError::corrupt(format!("JPEG scanlines: {e}"));
        // Turn while decoding when no resampling follows (resampling first is cheaper otherwise).
        let turn_now = orientation != 1 && ow.max(oh) <= max_long_edge as usize;
        let (image, pending) = if turn_now {
            let mut scatter = orient::RowScatter::new(ow, oh, orientation);
            let mut batch = vec![0u8; ow * 3 * ROW_BATCH];
            let mut y = 0;
            while y < oh {
                let n = ROW_BATCH.min(oh - y);
                let rows = started
                    .read_scanlines_into(&mut batch[..ow * 3 * n])
                    .map_err(scanline_err)?;
                scatter.put_rows(y, rows);
                y += n;
            }
            (scatter.finish(), 1)
        } else {
            let rgb = started.read_scanlines::<u8>().map_err(scanline_err)?;
            let image = OrientedImage {
                width: ow as u32,
                height: oh as u32,
                rgb,
            };
            (image, orientation)
        };
        started
            .finish()
            .map_err(|e| MediaError::corrupt(format!("JPEG end: {e}")))?;
        tracing::debug!(w, h, scale, ow, oh, orientation, turn_now, "decoded JPEG");
        Ok(Decoded {
            image,
            orientation: pending,
            format: SourceFormat::Jpeg,
            source_width: w as u32,
            source_height: h as u32,
        })
    }));
    match outcome {
        Ok(result) => result,
        Err(payload) => Err(MediaError::corrupt(panic_detail(payload.as_ref()))),
    }
}

fn decode_png(bytes: &[u8], limits: &Limits) -> Result<Decoded, MediaError> {
    let _span = tracing::debug_span!("media.decode_png", bytes = bytes.len()).entered();
    let corrupt = |e: png::DecodingError| MediaError::corrupt(format!("PNG: {e}"));
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(corrupt)?;
    let (w, h) = (reader.info().width, reader.info().height);
    limits.check_pixels(u64::from(w), u64::from(h))?;
    let orientation = reader
        .info()
        .exif_metadata
        .as_deref()
        .map_or(1, exif::orientation);
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| MediaError::corrupt("PNG: output size overflows"))?;
    let mut buf = vec![0u8; size];
    let frame = reader.next_frame(&mut buf).map_err(corrupt)?;
    buf.truncate(frame.buffer_size());
    let rgb = match frame.color_type {
        png::ColorType::Rgb => buf,
        png::ColorType::Rgba => flatten_alpha(&buf, 4),
        png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => flatten_alpha(&buf, 2),
        png::ColorType::Indexed => return Err(MediaError::corrupt("PNG: palette not expanded")),
    };
    Ok(Decoded {
        image: OrientedImage {
            width: frame.width,
            height: frame.height,
            rgb,
        },
        orientation,
        format: SourceFormat::Png,
        source_width: w,
        source_height: h,
    })
}

/// Composites RGBA or grey+alpha on white (JPEG has no alpha; white is what a page behind it would show).
fn flatten_alpha(buf: &[u8], channels: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(buf.len() / channels * 3);
    for px in buf.chunks_exact(channels) {
        let a = u16::from(px[channels - 1]);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        if channels == 4 {
            out.extend_from_slice(&[blend(px[0]), blend(px[1]), blend(px[2])]);
        } else {
            let g = blend(px[0]);
            out.extend_from_slice(&[g, g, g]);
        }
    }
    out
}

fn decode_webp(bytes: &[u8], limits: &Limits) -> Result<Decoded, MediaError> {
    let _span = tracing::debug_span!("media.decode_webp", bytes = bytes.len()).entered();
    let features = webp::BitstreamFeatures::new(bytes)
        .ok_or_else(|| MediaError::corrupt("WebP: unreadable header"))?;
    if features.has_animation() {
        return Err(MediaError::unsupported("animated WebP"));
    }
    let (w, h) = (features.width(), features.height());
    limits.check_pixels(u64::from(w), u64::from(h))?;
    let decoded = webp::Decoder::new(bytes)
        .decode()
        .ok_or_else(|| MediaError::corrupt("WebP: bitstream does not decode"))?;
    let rgb = if decoded.is_alpha() {
        flatten_alpha(&decoded, 4)
    } else {
        decoded.to_vec()
    };
    Ok(Decoded {
        image: OrientedImage {
            width: decoded.width(),
            height: decoded.height(),
            rgb,
        },
        orientation: webp_exif(bytes).map_or(1, exif::orientation),
        format: SourceFormat::WebP,
        source_width: w,
        source_height: h,
    })
}

/// Finds the `EXIF` chunk of an extended-format WebP file.
fn webp_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut at = 12usize;
    while let Some(header) = bytes.get(at..at.checked_add(8)?) {
        let len = usize::try_from(u32::from_le_bytes(header[4..8].try_into().ok()?)).ok()?;
        let body = at.checked_add(8)?;
        let end = body.checked_add(len)?;
        if &header[0..4] == b"EXIF" {
            return bytes.get(body..end);
        }
        at = end.checked_add(len & 1)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_scale_picks_the_smallest_scale_that_reaches_the_target() {
        assert_eq!(dct_scale(4032, 2048), 5);
        assert_eq!(dct_scale(4032, 2016), 4);
        assert_eq!(dct_scale(4032, 400), 1);
        assert_eq!(dct_scale(1000, 2048), 8);
    }

    #[test]
    fn sniff_names_heic_and_rejects_text() {
        assert!(matches!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Err(MediaError::UnsupportedFormat { .. })
        ));
        assert!(matches!(
            sniff(b"hello world"),
            Err(MediaError::UnsupportedFormat { .. })
        ));
        assert!(matches!(sniff(b""), Err(MediaError::Corrupt { .. })));
    }
}
