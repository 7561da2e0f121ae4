//! Writes a camera-like test photo for the shells' tests: 3000×2000 JPEG, EXIF orientation 6
//! (the phone was held upright), and a GPS-like description that must never reach an upload.
//! Usage: cargo run -p homeroom-core --example test-photo -- OUT.jpg

use jpeg_encoder::{ColorType, Encoder};

/// The text planted in the EXIF block; tests assert it is gone from every output.
const MARKER: &[u8] = b"GPS 51.50722N 0.12750W\0";

/// A minimal big-endian EXIF block: ImageDescription = MARKER, Orientation = 6.
fn exif() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"Exif\0\0MM\0*\0\0\0\x08");
    t.extend_from_slice(&2u16.to_be_bytes()); // two entries
    let data_at = 8 + 2 + 2 * 12 + 4;
    // 0x010E ImageDescription, ASCII, count, offset to the text.
    t.extend_from_slice(&0x010Eu16.to_be_bytes());
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&(MARKER.len() as u32).to_be_bytes());
    t.extend_from_slice(&(data_at as u32).to_be_bytes());
    // 0x0112 Orientation, SHORT, 1, value 6.
    t.extend_from_slice(&0x0112u16.to_be_bytes());
    t.extend_from_slice(&3u16.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&[0, 6, 0, 0]);
    t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    t.extend_from_slice(MARKER);
    t
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: test-photo OUT.jpg")?;
    let (w, h) = (3000u16, 2000u16);
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h as u32 {
        for x in 0..w as u32 {
            rgb.extend_from_slice(&[
                (x * 255 / 3000) as u8,
                (y * 255 / 2000) as u8,
                ((x + y) % 256) as u8,
            ]);
        }
    }
    let mut enc = Encoder::new_file(&out, 90)?;
    enc.add_app_segment(1, exif())?;
    enc.encode(&rgb, w, h, ColorType::Rgb)?;
    Ok(())
}
