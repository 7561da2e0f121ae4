//! Behaviour of the on-device photo pipeline (issue 6). Every input is generated here: synthetic
//! pixels with known content, EXIF/XMP/ICC segments written by hand — no binaries in the repo.

use std::path::Path;

use homeroom_core::media::{
    decode_oriented_bytes, dssim, encode_jpeg_tuned, encode_jpegli, encode_prepared, prepare_photo,
    prepare_photo_bytes, sha256_hex, Chroma, JpegEffort, JpegTuning, JpegliTuning, Limits,
    MediaError, OrientedImage, OutputFormat, PhotoOptions, QualityGoal, QuantTables,
};

// ---------------------------------------------------------------- synthetic images

/// An upright scene no symmetry maps onto itself: four coloured quadrants plus a diagonal ramp.
fn upright_scene(w: u32, h: u32) -> OrientedImage {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (left, top) = (x < w / 2, y < h / 2);
            let base: [u8; 3] = match (left, top) {
                (true, true) => [220, 30, 30],    // red top-left
                (false, true) => [30, 200, 40],   // green top-right
                (true, false) => [30, 40, 210],   // blue bottom-left
                (false, false) => [235, 235, 60], // yellow bottom-right
            };
            let ramp = ((x + y) * 20 / (w + h)) as u8;
            rgb.extend(base.iter().map(|c| c.saturating_add(ramp)));
        }
    }
    OrientedImage {
        width: w,
        height: h,
        rgb,
    }
}

/// Stores the upright image `u` the way a camera with EXIF `orientation` would, derived from the
/// EXIF 2.3 table ("row 0 is the visual …, column 0 is the visual …"), independently of the code under test.
fn as_stored(u: &OrientedImage, orientation: u8) -> OrientedImage {
    let (w, h) = (u.width as usize, u.height as usize);
    let (sw, sh) = if orientation >= 5 { (h, w) } else { (w, h) };
    let mut rgb = vec![0u8; w * h * 3];
    for r in 0..sh {
        for c in 0..sw {
            let (x, y) = match orientation {
                1 => (c, r),
                2 => (w - 1 - c, r),
                3 => (w - 1 - c, h - 1 - r),
                4 => (c, h - 1 - r),
                5 => (r, c),
                6 => (w - 1 - r, c),
                7 => (w - 1 - r, h - 1 - c),
                8 => (r, h - 1 - c),
                _ => unreachable!(),
            };
            let (s, d) = ((y * w + x) * 3, (r * sw + c) * 3);
            rgb[d..d + 3].copy_from_slice(&u.rgb[s..s + 3]);
        }
    }
    OrientedImage {
        width: sw as u32,
        height: sh as u32,
        rgb,
    }
}

/// Deterministic detail (xorshift noise over a gradient) so encoders have real work and sizes are photo-like.
fn noisy_scene(w: u32, h: u32, seed: u32) -> OrientedImage {
    let mut s = seed | 1;
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = s & 63;
            rgb.push(((x * 255 / w + n) & 255) as u8);
            rgb.push(((y * 255 / h + n / 2) & 255) as u8);
            rgb.push((((x ^ y) & 255) / 2 + n) as u8);
        }
    }
    OrientedImage {
        width: w,
        height: h,
        rgb,
    }
}

fn jpeg_of(img: &OrientedImage, quality: f32) -> Vec<u8> {
    let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    c.set_size(img.width as usize, img.height as usize);
    c.set_quality(quality);
    let mut s = c.start_compress(Vec::new()).expect("start");
    s.write_scanlines(&img.rgb).expect("write");
    s.finish().expect("finish")
}

fn decode_jpeg(bytes: &[u8]) -> OrientedImage {
    let d = mozjpeg::Decompress::new_mem(bytes).expect("header");
    let mut s = d.rgb().expect("rgb");
    let (w, h) = (s.width() as u32, s.height() as u32);
    let rgb = s.read_scanlines::<u8>().expect("pixels");
    OrientedImage {
        width: w,
        height: h,
        rgb,
    }
}

/// Distinctive bytes planted in the GPS IFD and maker strings: they must never reach an output.
const GPS_LATITUDE: [u32; 6] = [51, 1, 30, 1, 26_742_123, 1_000_000];
const GPS_LONGITUDE: [u32; 6] = [0, 1, 7, 1, 39_871_456, 1_000_000];
const CAMERA_MODEL: &[u8] = b"HomeroomTabletCam-SN-8842117\0";
const XMP_SECRET: &[u8] =
    b"<x:xmpmeta><rdf:Description photoshop:City=\"Secret-Town-4471\"/></x:xmpmeta>";

fn gps_needles() -> Vec<Vec<u8>> {
    let be = |v: &[u32]| v.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
    vec![
        be(&GPS_LATITUDE),
        be(&GPS_LONGITUDE),
        CAMERA_MODEL[..20].to_vec(),
        b"Secret-Town-4471".to_vec(),
    ]
}

/// A big-endian TIFF blob like a phone writes: IFD0 with Orientation, Model and a GPS IFD pointer.
fn exif_tiff(orientation: u16) -> Vec<u8> {
    let mut t: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    let ifd0_entries = 3u16;
    let ifd0_len = 2 + 12 * ifd0_entries as u32 + 4;
    let model_at = 8 + ifd0_len;
    let gps_at = model_at + CAMERA_MODEL.len() as u32;
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
        t.extend(tag.to_be_bytes());
        t.extend(typ.to_be_bytes());
        t.extend(count.to_be_bytes());
        t.extend(value.to_be_bytes());
    };
    t.extend(ifd0_entries.to_be_bytes());
    entry(&mut t, 0x0110, 2, CAMERA_MODEL.len() as u32, model_at); // Model
    entry(&mut t, 0x0112, 3, 1, u32::from(orientation) << 16); // Orientation (SHORT, left-justified)
    entry(&mut t, 0x8825, 4, 1, gps_at); // GPS IFD pointer
    t.extend(0u32.to_be_bytes());
    t.extend(CAMERA_MODEL);
    // GPS IFD: LatitudeRef, Latitude, LongitudeRef, Longitude.
    let gps_entries = 4u16;
    let lat_at = gps_at + 2 + 12 * gps_entries as u32 + 4;
    let lon_at = lat_at + 24;
    t.extend(gps_entries.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_be_bytes(*b"N\0\0\0"));
    entry(&mut t, 0x0002, 5, 3, lat_at);
    entry(&mut t, 0x0003, 2, 2, u32::from_be_bytes(*b"W\0\0\0"));
    entry(&mut t, 0x0004, 5, 3, lon_at);
    t.extend(0u32.to_be_bytes());
    for v in GPS_LATITUDE.iter().chain(GPS_LONGITUDE.iter()) {
        t.extend(v.to_be_bytes());
    }
    t
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend(((body.len() + 2) as u16).to_be_bytes());
    s.extend(body);
    s
}

/// A phone-like JPEG: camera EXIF (orientation, model, GPS), XMP, an ICC profile stub, IPTC and a comment.
fn phone_jpeg(stored: &OrientedImage, orientation: u16) -> Vec<u8> {
    let plain = jpeg_of(stored, 92.0);
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(exif_tiff(orientation));
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    xmp.extend(XMP_SECRET);
    let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
    icc.extend(b"fake-display-p3-profile-bytes");
    let mut out = plain[..2].to_vec(); // SOI
    out.extend(segment(0xE1, &exif));
    out.extend(segment(0xE1, &xmp));
    out.extend(segment(0xE2, &icc));
    out.extend(segment(0xED, b"Photoshop 3.0\0IPTC-by-line: Ms Khan"));
    out.extend(segment(0xFE, b"taken in classroom 4 by device 8842117"));
    out.extend(&plain[2..]);
    out
}

/// Mean absolute difference per channel between two same-sized images.
fn mean_abs_diff(a: &OrientedImage, b: &OrientedImage) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height), "sizes differ");
    let sum: u64 = a
        .rgb
        .iter()
        .zip(&b.rgb)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.rgb.len() as f64
}

/// JPEG markers between SOI and SOS, in order.
fn header_markers(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "not a JPEG");
    let mut at = 2;
    let mut out = Vec::new();
    while at + 4 <= jpeg.len() {
        assert_eq!(jpeg[at], 0xFF, "marker expected at {at}");
        let m = jpeg[at + 1];
        let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        out.push((m, jpeg[at + 4..at + 2 + len].to_vec()));
        if m == 0xDA {
            break;
        }
        at += 2 + len;
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn opts() -> PhotoOptions {
    PhotoOptions::default()
}

// ---------------------------------------------------------------- orientation

/// Nearest-neighbour resample, good enough as a reference for big flat quadrants.
fn nearest(img: &OrientedImage, w: u32, h: u32) -> OrientedImage {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = (x * img.width / w, y * img.height / h);
            let i = ((sy * img.width + sx) * 3) as usize;
            rgb.extend_from_slice(&img.rgb[i..i + 3]);
        }
    }
    OrientedImage {
        width: w,
        height: h,
        rgb,
    }
}

#[test]
fn every_exif_orientation_lands_upright() {
    // REQ-PRV-1: photos are oriented on the device; judged by pixels against the upright scene, not by a tag.
    // Two paths: turned while decoding (fits already) and resampled-then-turned (80 px, no slack).
    let upright = upright_scene(96, 64);
    let resampled = PhotoOptions {
        large_long_edge: 80,
        thumbnail_long_edge: 40,
        size_slack_percent: 0,
        ..opts()
    };
    for (o_set, (w, h), limit) in [(opts(), (96, 64), 6.0), (resampled, (80, 53), 12.0)] {
        let reference = nearest(&upright, w, h);
        for orientation in 1..=8u8 {
            let stored = as_stored(&upright, orientation);
            let jpeg = phone_jpeg(&stored, u16::from(orientation));
            let out = prepare_photo_bytes(&jpeg, &o_set).expect("prepare");
            let got = decode_jpeg(&out.large.bytes);
            assert_eq!((got.width, got.height), (w, h), "orientation {orientation}");
            let diff = mean_abs_diff(&got, &reference);
            assert!(
                diff < limit,
                "orientation {orientation} at {w}x{h}: mean diff {diff:.1}"
            );
            // And it is *not* merely similar to every arrangement: a half-turn is far off.
            let wrong = as_stored(&reference, 3);
            assert!(
                mean_abs_diff(&got, &wrong) > 40.0,
                "orientation {orientation} not discriminating"
            );
        }
    }
}

#[test]
fn rotated_phone_photo_is_upright_at_every_output_size() {
    // REQ-PRV-1: a portrait photo held sideways (orientation 6, as phones write) comes out portrait.
    let upright = upright_scene(300, 400);
    let jpeg = phone_jpeg(&as_stored(&upright, 6), 6);
    let o = PhotoOptions {
        large_long_edge: 200,
        thumbnail_long_edge: 100,
        ..opts()
    };
    let out = prepare_photo_bytes(&jpeg, &o).expect("prepare");
    let large = decode_jpeg(&out.large.bytes);
    assert_eq!((large.width, large.height), (150, 200));
    let thumb = decode_jpeg(&out.thumbnail.bytes);
    assert_eq!((thumb.width, thumb.height), (75, 100));
    // Top-left quadrant must still be red, bottom-right yellow.
    let px = |img: &OrientedImage, x: u32, y: u32| {
        let i = ((y * img.width + x) * 3) as usize;
        [img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]]
    };
    let tl = px(&thumb, 10, 10);
    let br = px(&thumb, 65, 90);
    assert!(tl[0] > 180 && tl[1] < 90, "top-left {tl:?}");
    assert!(
        br[0] > 180 && br[1] > 180 && br[2] < 140,
        "bottom-right {br:?}"
    );
}

// ---------------------------------------------------------------- metadata

#[test]
fn outputs_carry_no_metadata_segments() {
    // REQ-PRV-1: stripped of all metadata — only JFIF APP0 and coding tables may precede the scan.
    let jpeg = phone_jpeg(&as_stored(&upright_scene(640, 480), 6), 6);
    let out = prepare_photo_bytes(&jpeg, &opts()).expect("prepare");
    for (name, enc) in [("large", &out.large), ("thumbnail", &out.thumbnail)] {
        let markers = header_markers(&enc.bytes);
        for (m, body) in &markers {
            match m {
                0xE0 => assert!(body.starts_with(b"JFIF\0"), "{name}: APP0 that is not JFIF"),
                0xDB | 0xC4 | 0xC0 | 0xC1 | 0xC2 | 0xDD | 0xDA => {}
                other => panic!("{name}: unexpected marker 0xFF{other:02X} before the scan"),
            }
        }
        let jfif = &markers.iter().find(|(m, _)| *m == 0xE0).expect("JFIF").1;
        assert_eq!(
            &jfif[12..14],
            &[0, 0],
            "{name}: JFIF must embed no thumbnail"
        );
        // Nothing after EOI either (no trailing MPF/preview images).
        assert_eq!(
            &enc.bytes[enc.bytes.len() - 2..],
            &[0xFF, 0xD9],
            "{name}: ends at EOI"
        );
    }
}

#[test]
fn gps_bytes_never_reach_the_upload() {
    // REQ-PRV-1: GPS, device and XMP bytes of the input appear in neither output, in any format.
    let jpeg = phone_jpeg(&as_stored(&noisy_scene(800, 600, 7), 1), 1);
    for needle in gps_needles() {
        assert!(
            contains(&jpeg, &needle),
            "the fixture must carry the needle"
        );
    }
    for format in [OutputFormat::Jpeg, OutputFormat::WebP] {
        let out = prepare_photo_bytes(&jpeg, &PhotoOptions { format, ..opts() }).expect("prepare");
        for enc in [&out.large, &out.thumbnail] {
            for needle in gps_needles() {
                assert!(
                    !contains(&enc.bytes, &needle),
                    "{format:?} output leaks {needle:?}"
                );
            }
            assert!(
                !contains(&enc.bytes, b"Exif\0\0"),
                "{format:?} output has an EXIF header"
            );
            assert!(
                !contains(&enc.bytes, b"ICC_PROFILE"),
                "{format:?} output has an ICC profile"
            );
        }
    }
}

#[test]
fn exiftool_finds_no_metadata_in_the_upload() {
    // REQ-PRV-1: an independent reader agrees (skipped when exiftool is not installed).
    let Ok(version) = std::process::Command::new("exiftool").arg("-ver").output() else {
        eprintln!("exiftool not installed: skipping");
        return;
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("phone.jpg");
    std::fs::write(
        &src,
        phone_jpeg(&as_stored(&noisy_scene(900, 700, 3), 8), 8),
    )
    .expect("write");
    let out = prepare_photo(&src, &opts()).expect("prepare");
    for (name, enc) in [("large.jpg", &out.large), ("thumb.jpg", &out.thumbnail)] {
        let path = dir.path().join(name);
        std::fs::write(&path, &enc.bytes).expect("write");
        let report = std::process::Command::new("exiftool")
            .args(["-a", "-G1", "-s"])
            .arg(&path)
            .output()
            .expect("exiftool");
        let text = String::from_utf8_lossy(&report.stdout);
        for group in [
            "[IFD0]",
            "[ExifIFD]",
            "[GPS]",
            "[XMP",
            "[ICC",
            "[IPTC]",
            "[Photoshop]",
            "[MakerNotes",
            "[IFD1]",
            "[Comment]",
        ] {
            assert!(
                !text.contains(group),
                "{name}: exiftool found {group}:\n{text}"
            );
        }
        assert!(
            !text.contains("Secret-Town") && !text.contains("8842117"),
            "{name}:\n{text}"
        );
    }
}

// ---------------------------------------------------------------- sizes, hashes, budgets

#[test]
fn twelve_megapixel_photo_becomes_2048_and_400_with_hashes() {
    // REQ-PRV-1, REQ-OFF-2: long edge at most 2048 plus a 400 px thumbnail, content-hashed for the chunked upload.
    let jpeg = jpeg_of(&noisy_scene(4032, 3024, 11), 90.0);
    let o = PhotoOptions {
        size_slack_percent: 0,
        ..opts()
    };
    let out = prepare_photo_bytes(&jpeg, &o).expect("prepare");
    assert_eq!((out.large.width, out.large.height), (2048, 1536));
    assert_eq!((out.thumbnail.width, out.thumbnail.height), (400, 300));
    let decoded = decode_jpeg(&out.large.bytes);
    assert_eq!((decoded.width, decoded.height), (2048, 1536));
    assert_eq!(out.large.sha256_hex, sha256_hex(&out.large.bytes));
    assert_eq!(out.large.sha256_hex.len(), 64);
    assert_ne!(out.large.sha256_hex, out.thumbnail.sha256_hex);
    assert!(out.large.bytes.len() as u64 <= o.large_budget_bytes || !out.large.within_budget);
    assert!(out.thumbnail.bytes.len() as u64 <= o.thumbnail_budget_bytes);
}

#[test]
fn default_slack_lets_dct_scaling_hit_2016_without_a_resample() {
    // REQ-PRV-1: the default may stop at 2016 (a 1/2 DCT scale of 4032) — still within the 2048 ceiling.
    let jpeg = jpeg_of(&noisy_scene(4032, 3024, 5), 90.0);
    let out = prepare_photo_bytes(&jpeg, &opts()).expect("prepare");
    assert_eq!((out.large.width, out.large.height), (2016, 1512));
    assert_eq!((out.thumbnail.width, out.thumbnail.height), (400, 300));
}

#[test]
fn over_budget_output_is_reencoded_at_lower_quality() {
    // REQ-OFF-2: outputs fit a byte budget by lowering quality in steps.
    let jpeg = jpeg_of(&noisy_scene(1200, 900, 9), 95.0);
    let generous = prepare_photo_bytes(&jpeg, &opts()).expect("prepare");
    assert_eq!(generous.large.quality, opts().quality);
    let budget = generous.large.bytes.len() as u64 * 3 / 4;
    let o = PhotoOptions {
        large_budget_bytes: budget,
        ..opts()
    };
    let tight = prepare_photo_bytes(&jpeg, &o).expect("prepare");
    assert!(
        tight.large.quality < generous.large.quality,
        "quality was not lowered"
    );
    assert!(tight.large.bytes.len() as u64 <= budget);
    assert!(tight.large.within_budget);
    // An impossible budget still yields a photo, flagged, at the floor quality.
    let o = PhotoOptions {
        large_budget_bytes: 1_000,
        ..opts()
    };
    let floor = prepare_photo_bytes(&jpeg, &o).expect("prepare");
    assert_eq!(floor.large.quality, o.min_quality);
    assert!(!floor.large.within_budget);
}

#[test]
fn every_jpeg_effort_and_webp_produce_decodable_output() {
    let jpeg = jpeg_of(&noisy_scene(640, 480, 2), 90.0);
    for effort in [
        JpegEffort::Jpegli,
        JpegEffort::Fast,
        JpegEffort::Balanced,
        JpegEffort::Smallest,
    ] {
        let out = prepare_photo_bytes(
            &jpeg,
            &PhotoOptions {
                jpeg_effort: effort,
                ..opts()
            },
        )
        .expect("prepare");
        let d = decode_jpeg(&out.large.bytes);
        assert_eq!((d.width, d.height), (640, 480), "{effort:?}");
    }
    let out = prepare_photo_bytes(
        &jpeg,
        &PhotoOptions {
            format: OutputFormat::WebP,
            ..opts()
        },
    )
    .expect("webp");
    assert!(out.large.bytes.starts_with(b"RIFF") && &out.large.bytes[8..12] == b"WEBP");
    assert_eq!(out.large.format, OutputFormat::WebP);
    let back = webp::Decoder::new(&out.large.bytes)
        .decode()
        .expect("decodes");
    assert_eq!((back.width(), back.height()), (640, 480));
}

/// Every jpegli setting the pipeline or the benchmark can use, by name.
fn jpegli_tunings() -> Vec<(String, JpegliTuning)> {
    let shipped = JpegliTuning::SHIPPED;
    vec![
        ("jpegli shipped".into(), shipped),
        (
            "jpegli sequential".into(),
            JpegliTuning {
                progressive_level: 0,
                ..shipped
            },
        ),
        (
            "jpegli adaptive quantisation 4:4:4".into(),
            JpegliTuning {
                adaptive_quantization: true,
                chroma: Chroma::Full444,
                ..shipped
            },
        ),
    ]
}

/// Every mozjpeg setting the pipeline or the benchmark can use, by name.
fn all_tunings() -> Vec<(String, JpegTuning)> {
    let mut out: Vec<(String, JpegTuning)> =
        [JpegEffort::Fast, JpegEffort::Balanced, JpegEffort::Smallest]
            .into_iter()
            .filter_map(|e| Some((format!("{e:?}"), e.tuning()?)))
            .collect();
    for tables in [QuantTables::MsSsim, QuantTables::Robidoux] {
        out.push((
            format!("baseline AC-trellis {tables:?}"),
            JpegTuning {
                trellis: true,
                tables,
                ..JpegTuning::BASELINE
            },
        ));
    }
    out
}

#[test]
fn every_encoder_setting_writes_only_jfif_and_coding_markers() {
    // REQ-PRV-1: whatever the size/speed setting, the encoder itself adds no metadata, and the pixels survive.
    let src = upright_scene(333, 251);
    let mozjpeg = all_tunings()
        .into_iter()
        .map(|(name, t)| (name, encode_jpeg_tuned(&src, &t, 80)));
    let jpegli = jpegli_tunings()
        .into_iter()
        .map(|(name, t)| (name, encode_jpegli(&src, &t, 84)));
    for (name, bytes) in mozjpeg.chain(jpegli) {
        let bytes = bytes.expect("encode");
        for (m, body) in header_markers(&bytes) {
            match m {
                0xE0 => assert!(body.starts_with(b"JFIF\0"), "{name}: APP0 that is not JFIF"),
                0xDB | 0xC4 | 0xC0 | 0xC1 | 0xC2 | 0xDD | 0xDA => {}
                other => panic!("{name}: unexpected marker 0xFF{other:02X} before the scan"),
            }
        }
        let back = decode_jpeg(&bytes);
        assert_eq!((back.width, back.height), (333, 251), "{name}");
        let diff = mean_abs_diff(&back, &src);
        assert!(diff < 6.0, "{name}: mean diff {diff:.1} at Q80");
    }
}

#[test]
fn default_output_is_a_progressive_4_2_0_jfif_jpeg_from_jpegli() {
    // REQ-PRV-1 / issue 6 size target: the default encoder (chosen by docs/benchmarks/media.md) is jpegli,
    // progressive, chroma 4:2:0 like vips at Q80, with a JFIF header so every viewer reads it as YCbCr.
    assert_eq!(opts().jpeg_effort, JpegEffort::Jpegli);
    let jpeg = jpeg_of(&noisy_scene(800, 600, 12), 92.0);
    let out = prepare_photo_bytes(&jpeg, &opts()).expect("prepare");
    let markers = header_markers(&out.large.bytes);
    assert!(
        markers.iter().all(|(m, _)| *m != 0xC0),
        "default must not be baseline"
    );
    let sof = &markers
        .iter()
        .find(|(m, _)| *m == 0xC2)
        .expect("progressive SOF2")
        .1;
    assert_eq!(sof[5], 3, "three components");
    assert_eq!(&sof[7..8], &[0x22], "luma 2x2");
    assert_eq!((sof[10], sof[13]), (0x11, 0x11), "chroma 1x1");
    let jfif = &markers.iter().find(|(m, _)| *m == 0xE0).expect("JFIF").1;
    assert!(jfif.starts_with(b"JFIF\0"));
    // and the pixels survive.
    let scene = upright_scene(320, 240);
    let small = encode_prepared(&scene, &opts()).expect("encode");
    let diff = mean_abs_diff(&decode_jpeg(&small.large.bytes), &scene);
    assert!(diff < 6.0, "mean diff {diff:.1} against the scene");
}

#[test]
fn fast_effort_output_is_baseline_4_2_0_with_optimised_huffman_tables() {
    // REQ-PRV-1: mozjpeg `Fast` (the default before jpegli) is a baseline JPEG every viewer shows,
    // chroma 4:2:0 like vips at Q80, and its Huffman tables are fitted to the image (smaller than the stock ones).
    let jpeg = jpeg_of(&noisy_scene(800, 600, 12), 92.0);
    let fast = PhotoOptions {
        jpeg_effort: JpegEffort::Fast,
        quality: 80,
        ..opts()
    };
    let out = prepare_photo_bytes(&jpeg, &fast).expect("prepare");
    let markers = header_markers(&out.large.bytes);
    let sof = &markers
        .iter()
        .find(|(m, _)| *m == 0xC0)
        .expect("baseline SOF0")
        .1;
    assert_eq!(sof[5], 3, "three components");
    assert_eq!(&sof[7..8], &[0x22], "luma 2x2");
    assert_eq!((sof[10], sof[13]), (0x11, 0x11), "chroma 1x1");
    let stock = {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_fastest_defaults();
        c.set_size(800, 600);
        c.set_quality(80.0);
        c.set_optimize_coding(false);
        let img = decode_oriented_bytes(&jpeg, 2048, 0, &Limits::default()).expect("decode");
        let mut s = c.start_compress(Vec::new()).expect("start");
        s.write_scanlines(&img.rgb).expect("write");
        s.finish().expect("finish")
    };
    assert!(
        out.large.bytes.len() < stock.len(),
        "optimised Huffman {} B is not smaller than stock tables {} B",
        out.large.bytes.len(),
        stock.len()
    );
}

/// The "smallest file that looks at least as good" setting: quality searched per output, against a
/// baseline at libjpeg's Q80.
fn search_opts(effort: JpegEffort) -> PhotoOptions {
    PhotoOptions {
        quality_goal: QualityGoal::MatchBaseline,
        jpeg_effort: effort,
        quality: 80,
        ..opts()
    }
}

#[test]
fn quality_search_stops_no_worse_than_a_baseline_q80_jpeg() {
    // REQ-PRV-1 / issue 6 size target: the search may lower the quality only while the output's DSSIM
    // (against the unencoded pixels) stays at or below that of a plain Annex K baseline JPEG at Q80.
    let img = noisy_scene(640, 480, 21);
    let baseline = encode_jpeg_tuned(&img, &JpegTuning::BASELINE, 80).expect("baseline");
    let bound = dssim(&img, &decode_jpeg(&baseline)).expect("dssim");
    assert!(bound > 0.0, "a Q80 JPEG must lose something");
    for effort in [
        JpegEffort::Jpegli,
        JpegEffort::Fast,
        JpegEffort::Balanced,
        JpegEffort::Smallest,
    ] {
        let out = encode_prepared(&img, &search_opts(effort)).expect("encode");
        let got = dssim(&img, &decode_jpeg(&out.large.bytes)).expect("dssim");
        assert!(
            got <= bound,
            "{effort:?}: DSSIM {got:.5} worse than the Q80 baseline's {bound:.5} at q{}",
            out.large.quality
        );
        assert!(out.large.within_budget);
        assert_eq!(out.large.sha256_hex, sha256_hex(&out.large.bytes));
        // The thumbnail is searched the same way against its own unencoded pixels.
        let thumb = decode_jpeg(&out.thumbnail.bytes);
        assert_eq!((thumb.width, thumb.height), (400, 300));
    }
    // With the baseline encoder itself, Q80 already meets the bound, so the search never goes above it
    // and never writes more bytes.
    let fast = encode_prepared(&img, &search_opts(JpegEffort::Fast)).expect("encode");
    assert!(fast.large.quality <= 80, "q{}", fast.large.quality);
    assert!(fast.large.bytes.len() <= baseline.len());
}

#[test]
fn quality_search_output_is_upright_and_carries_no_metadata() {
    // REQ-PRV-1: the searched encode goes through the same orient + strip path as the fixed one.
    let upright = upright_scene(320, 240);
    let jpeg = phone_jpeg(&as_stored(&upright, 6), 6);
    let out = prepare_photo_bytes(&jpeg, &search_opts(JpegEffort::Smallest)).expect("prepare");
    let got = decode_jpeg(&out.large.bytes);
    assert_eq!((got.width, got.height), (320, 240));
    let diff = mean_abs_diff(&got, &upright);
    assert!(diff < 6.0, "mean diff {diff:.1} against the upright scene");
    assert!(mean_abs_diff(&got, &as_stored(&upright, 3)) > 40.0);
    for (name, enc) in [("large", &out.large), ("thumbnail", &out.thumbnail)] {
        for (m, body) in header_markers(&enc.bytes) {
            match m {
                0xE0 => assert!(body.starts_with(b"JFIF\0"), "{name}: APP0 that is not JFIF"),
                0xDB | 0xC4 | 0xC0 | 0xC1 | 0xC2 | 0xDD | 0xDA => {}
                other => panic!("{name}: unexpected marker 0xFF{other:02X} before the scan"),
            }
        }
        for needle in gps_needles() {
            assert!(!contains(&enc.bytes, &needle), "{name}: GPS bytes leaked");
        }
    }
}

#[test]
fn encoder_refuses_a_buffer_that_does_not_match_its_size() {
    // Bad input gets a typed error, never a panic or an out-of-bounds read.
    let mut img = noisy_scene(64, 48, 1);
    img.rgb.truncate(100);
    let err = encode_jpeg_tuned(&img, &JpegTuning::BASELINE, 80).expect_err("must refuse");
    assert!(matches!(err, MediaError::Encode { .. }), "{err:?}");
    let err = encode_jpegli(&img, &JpegliTuning::SHIPPED, 84).expect_err("must refuse");
    assert!(matches!(err, MediaError::Encode { .. }), "{err:?}");
}

// ---------------------------------------------------------------- other inputs

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend(data);
    c.extend(&body);
    c.extend(crc32(&body).to_be_bytes());
    c
}

fn png_of(img: &OrientedImage, exif: Option<&[u8]>) -> Vec<u8> {
    let mut raw = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut raw, img.width, img.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().expect("header");
        w.write_image_data(&img.rgb).expect("data");
    }
    let Some(exif) = exif else { return raw };
    // Insert an eXIf chunk right after IHDR (8-byte signature + 25-byte IHDR chunk).
    let mut out = raw[..33].to_vec();
    out.extend(png_chunk(b"eXIf", exif));
    out.extend(&raw[33..]);
    out
}

#[test]
fn png_with_exif_orientation_lands_upright() {
    // REQ-PRV-1: screenshots and edited photos arrive as PNG; they are oriented and stripped too.
    let upright = upright_scene(96, 64);
    let tiff = exif_tiff(8);
    let png = png_of(&as_stored(&upright, 8), Some(&tiff));
    let out = prepare_photo_bytes(&png, &opts()).expect("prepare");
    let got = decode_jpeg(&out.large.bytes);
    assert!(mean_abs_diff(&got, &upright) < 6.0);
    for needle in gps_needles().iter().take(3) {
        assert!(!contains(&out.large.bytes, needle));
    }
}

#[test]
fn webp_input_is_accepted() {
    let upright = upright_scene(96, 64);
    let webp = webp::Encoder::from_rgb(&upright.rgb, 96, 64)
        .encode_simple(false, 95.0)
        .expect("encode");
    let out = prepare_photo_bytes(&webp, &opts()).expect("prepare");
    assert!(mean_abs_diff(&decode_jpeg(&out.large.bytes), &upright) < 8.0);
}

#[test]
fn decode_oriented_gives_the_consent_filter_upright_pixels_once() {
    // REQ-PRV-1 / CON-2: the consent filter sees the same upright pixels the encoder gets.
    let upright = upright_scene(400, 300);
    let jpeg = phone_jpeg(&as_stored(&upright, 6), 6);
    let img = decode_oriented_bytes(&jpeg, 200, 0, &Limits::default()).expect("decode");
    assert_eq!((img.width, img.height), (200, 150));
    let out = encode_prepared(&img, &opts()).expect("encode");
    assert_eq!((out.large.width, out.large.height), (200, 150));
}

// ---------------------------------------------------------------- hostile and broken input

fn assert_corrupt(r: Result<impl std::fmt::Debug, MediaError>, what: &str) {
    match r {
        Err(MediaError::Corrupt { detail }) => assert!(!detail.is_empty(), "{what}"),
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

#[test]
fn truncated_jpeg_is_refused_as_corrupt() {
    // REQ-PRV-1: never upload a half-written photo padded with grey; never panic.
    let jpeg = jpeg_of(&noisy_scene(640, 480, 4), 90.0);
    for cut in [jpeg.len() / 2, jpeg.len() - 100, 200, 20, 3] {
        assert_corrupt(
            prepare_photo_bytes(&jpeg[..cut], &opts()),
            &format!("cut at {cut}"),
        );
    }
}

#[test]
fn zero_byte_file_is_refused_as_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.jpg");
    std::fs::write(&path, b"").expect("write");
    assert_corrupt(prepare_photo(&path, &opts()), "zero bytes");
}

/// Rewrites the SOF frame size of a JPEG (the classic decompression bomb header).
fn with_jpeg_dimensions(mut jpeg: Vec<u8>, w: u16, h: u16) -> Vec<u8> {
    let mut at = 2;
    loop {
        let m = jpeg[at + 1];
        let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        if (0xC0..=0xC2).contains(&m) {
            jpeg[at + 5..at + 7].copy_from_slice(&h.to_be_bytes());
            jpeg[at + 7..at + 9].copy_from_slice(&w.to_be_bytes());
            return jpeg;
        }
        at += 2 + len;
    }
}

#[test]
fn fifty_thousand_square_header_is_refused_before_decoding() {
    // REQ-PRV-1 safety: a 50,000 x 50,000 header is a decompression bomb; refused from the header alone.
    let small = jpeg_of(&noisy_scene(64, 64, 1), 80.0);
    let bomb = with_jpeg_dimensions(small, 50_000, 50_000);
    match prepare_photo_bytes(&bomb, &opts()) {
        Err(MediaError::TooManyPixels {
            width: 50_000,
            height: 50_000,
            limit,
        }) => {
            assert_eq!(limit, Limits::default().max_pixels)
        }
        other => panic!("expected TooManyPixels, got {other:?}"),
    }
    // The same for PNG: an IHDR claiming 50,000 x 50,000.
    let mut ihdr = 50_000u32.to_be_bytes().to_vec();
    ihdr.extend(50_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    assert!(matches!(
        prepare_photo_bytes(&png, &opts()),
        Err(MediaError::TooManyPixels {
            width: 50_000,
            height: 50_000,
            ..
        })
    ));
}

#[test]
fn non_image_input_is_an_unsupported_format() {
    for bytes in [
        &b"%PDF-1.7 not a photo"[..],
        b"<html></html>",
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
    ] {
        assert!(
            matches!(
                prepare_photo_bytes(bytes, &opts()),
                Err(MediaError::UnsupportedFormat { .. })
            ),
            "{bytes:?}"
        );
    }
}

#[test]
fn oversized_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.jpg");
    std::fs::write(&path, jpeg_of(&noisy_scene(300, 200, 8), 90.0)).expect("write");
    let o = PhotoOptions {
        limits: Limits {
            max_input_bytes: 1_000,
            ..Limits::default()
        },
        ..opts()
    };
    assert!(matches!(
        prepare_photo(&path, &o),
        Err(MediaError::TooLarge { limit: 1_000, .. })
    ));
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let missing = Path::new("/nonexistent/homeroom/photo.jpg");
    match prepare_photo(missing, &opts()) {
        Err(MediaError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn invalid_options_are_refused() {
    let jpeg = jpeg_of(&noisy_scene(64, 64, 1), 80.0);
    for o in [
        PhotoOptions {
            quality: 0,
            ..opts()
        },
        PhotoOptions {
            large_long_edge: 0,
            ..opts()
        },
        PhotoOptions {
            thumbnail_long_edge: 4000,
            ..opts()
        },
        PhotoOptions {
            min_quality: 90,
            ..opts()
        },
    ] {
        assert!(matches!(
            prepare_photo_bytes(&jpeg, &o),
            Err(MediaError::InvalidOptions { .. })
        ));
    }
}
