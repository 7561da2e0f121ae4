//! Detection time of the consent filter (issue 7, REQ-CON-2) per 1600x1200 and 4032x3024 JPEG, decode
//! included, single thread. A measurement, not a test: `cargo bench -p homeroom-core --bench faces`
//! (needs HOMEROOM_FACE_MODEL and HOMEROOM_FACE_TESTSET like `core/tests/face_accuracy.rs`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use homeroom_core::consent::{CenterFace, FaceDetector};
use homeroom_core::media::{decode_oriented, decode_oriented_bytes, Limits, OrientedImage};

fn env_path(var: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(var)
            .unwrap_or_else(|| panic!("{var} is not set (see core/tests/face_accuracy.rs)")),
    )
}

/// A labelled dlib group photo upscaled to `w` x `h` with deterministic grain, encoded as a quality-90 JPEG.
fn photo(src: &OrientedImage, w: u32, h: u32) -> Vec<u8> {
    let src_ref = ImageRef::new(src.width, src.height, &src.rgb, PixelType::U8x3).expect("source");
    let mut dst = Image::new(w, h, PixelType::U8x3);
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src_ref, &mut dst, &opts)
        .expect("resize");
    let mut rgb = dst.into_vec();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for v in rgb.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *v = v.saturating_add((state >> 61) as u8);
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encode");
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let det = CenterFace::load(&env_path("HOMEROOM_FACE_MODEL")).expect("model");
    let group = env_path("HOMEROOM_FACE_TESTSET").join("dlib-faces/2008_007676.jpg");
    let src = decode_oriented(&group, 8192, 0, &Limits::default()).expect("decode");
    let limits = Limits::default();
    for (w, h) in [(1600, 1200), (4032, 3024)] {
        let jpeg = photo(&src, w, h);
        for (label, edge) in [
            ("decode at 640", 640u32),
            ("decode at 2048 (upload size)", 2048),
        ] {
            let mut decode = Vec::new();
            let mut detect = Vec::new();
            let mut faces = 0;
            for _ in 0..6 {
                let t0 = Instant::now();
                let img = decode_oriented_bytes(&jpeg, edge, 0, &limits).expect("decode");
                let t1 = Instant::now();
                faces = det.detect(&img).expect("detect").len();
                decode.push(t1 - t0);
                detect.push(t1.elapsed());
            }
            let (d, f) = (median(decode[1..].to_vec()), median(detect[1..].to_vec()));
            println!(
                "{w}x{h} JPEG ({} KB), {label}: decode {d:?} + detect {f:?} = {:?}; {faces} faces",
                jpeg.len() / 1024,
                d + f
            );
        }
    }
}
