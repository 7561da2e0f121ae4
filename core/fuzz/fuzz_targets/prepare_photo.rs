//! Feeds arbitrary bytes to the photo pipeline: it must return a typed error or a photo, never panic,
//! and never allocate beyond its limits (small limits keep each run fast).
#![no_main]

#[allow(dead_code, unused_imports)]
#[path = "../../src/media/mod.rs"]
mod media;

use libfuzzer_sys::fuzz_target;
use media::{prepare_photo_bytes, Limits, PhotoOptions};

fuzz_target!(|data: &[u8]| {
    let opts = PhotoOptions {
        large_long_edge: 256,
        thumbnail_long_edge: 64,
        limits: Limits {
            max_input_bytes: 1 << 20,
            max_pixels: 4_000_000,
        },
        ..PhotoOptions::default()
    };
    if let Ok(photo) = prepare_photo_bytes(data, &opts) {
        assert!(photo.large.width.max(photo.large.height) <= 256);
        assert!(photo.thumbnail.width.max(photo.thumbnail.height) <= 64);
    }
});
