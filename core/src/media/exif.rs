//! Just enough EXIF (TIFF) parsing to find the orientation tag; every other tag is dropped, never copied.

/// EXIF tag number of `Orientation` in IFD0.
const TAG_ORIENTATION: u16 = 0x0112;
/// Longest IFD0 we walk; real files have a few dozen entries.
const MAX_ENTRIES: usize = 512;

/// Reads the orientation (1–8) from an EXIF payload: either a JPEG APP1 body
/// (`Exif\0\0` + TIFF) or a bare TIFF blob as PNG `eXIf` and WebP `EXIF` chunks carry.
/// Anything malformed or out of range reads as 1 (upright): a bad tag must not lose the photo.
pub fn orientation(payload: &[u8]) -> u8 {
    let tiff = payload.strip_prefix(b"Exif\0\0").unwrap_or(payload);
    parse(tiff).unwrap_or(1)
}

fn parse(tiff: &[u8]) -> Option<u8> {
    let little = match tiff.get(0..4)? {
        [b'I', b'I', 42, 0] => true,
        [b'M', b'M', 0, 42] => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let ifd0 = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd0)?).min(MAX_ENTRIES);
    for i in 0..count {
        let entry = ifd0.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? != TAG_ORIENTATION {
            continue;
        }
        // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
        let value = u16_at(entry.checked_add(8)?)?;
        return u8::try_from(value).ok().filter(|v| (1..=8).contains(v));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    type Writers = (fn(u16) -> [u8; 2], fn(u32) -> [u8; 4]);

    fn tiff(little: bool, value: u16) -> Vec<u8> {
        let mut t = Vec::new();
        let (w16, w32): Writers = if little {
            (u16::to_le_bytes, u32::to_le_bytes)
        } else {
            (u16::to_be_bytes, u32::to_be_bytes)
        };
        t.extend_from_slice(if little { b"II" } else { b"MM" });
        t.extend_from_slice(&w16(42));
        t.extend_from_slice(&w32(8));
        t.extend_from_slice(&w16(1));
        t.extend_from_slice(&w16(TAG_ORIENTATION));
        t.extend_from_slice(&w16(3));
        t.extend_from_slice(&w32(1));
        t.extend_from_slice(&w16(value));
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&w32(0));
        t
    }

    #[test]
    fn reads_orientation_in_both_byte_orders() {
        for v in 1..=8 {
            assert_eq!(orientation(&tiff(true, v)), v as u8);
            assert_eq!(orientation(&tiff(false, v)), v as u8);
            let mut app1 = b"Exif\0\0".to_vec();
            app1.extend(tiff(false, v));
            assert_eq!(orientation(&app1), v as u8);
        }
    }

    #[test]
    fn malformed_exif_reads_as_upright() {
        assert_eq!(orientation(b""), 1);
        assert_eq!(orientation(&tiff(true, 9)), 1);
        assert_eq!(orientation(&tiff(true, 0)), 1);
        let t = tiff(true, 6);
        for cut in 0..t.len() - 4 {
            // Truncation may hide the tag, but never panics.
            let _ = orientation(&t[..cut]);
        }
        let mut huge_offset = t.clone();
        huge_offset[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(orientation(&huge_offset), 1);
    }
}
