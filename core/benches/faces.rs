//! Detection time of the consent filter (issue 7, REQ-CON-2) per 1600x1200 and 4032x3024 JPEG, decode
//! included, single thread, side by side with rustface (SeetaFace's funnel cascade, the peer) in the
//! same run. A measurement, not a test: `scripts/bench faces` (needs HOMEROOM_FACE_MODEL,
//! HOMEROOM_FACE_TESTSET and RUSTFACE_MODEL). `FACES_BENCH_ONLY=centerface|rustface` runs one
//! detector alone, so the script can read each one's peak RSS.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use homeroom_core::consent::{CenterFace, FaceDetector};
use homeroom_core::media::{decode_oriented, decode_oriented_bytes, Limits, OrientedImage};

fn env_path(var: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(var)
            .unwrap_or_else(|| panic!("{var} is not set (see scripts/bench.d/faces.sh)")),
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

/// rustface with the settings of its own example (min face 20 px, score 2.0, pyramid 0.8, step 4).
struct Seeta(Box<dyn rustface::Detector>);

impl Seeta {
    fn load() -> Seeta {
        let model = env_path("RUSTFACE_MODEL");
        let mut d =
            rustface::create_detector(model.to_str().expect("utf-8 path")).expect("rustface model");
        d.set_min_face_size(20);
        d.set_score_thresh(2.0);
        d.set_pyramid_scale_factor(0.8);
        d.set_slide_window_step(4, 4);
        Seeta(d)
    }

    fn detect(&mut self, img: &OrientedImage) -> usize {
        let gray: Vec<u8> = img
            .rgb
            .chunks_exact(3)
            .map(|p| {
                ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8
            })
            .collect();
        let data = rustface::ImageData::new(&gray, img.width, img.height);
        self.0.detect(&data).len()
    }
}

fn main() {
    let only = std::env::var("FACES_BENCH_ONLY").unwrap_or_default();
    let run_cf = only.is_empty() || only == "centerface";
    let run_rf = only.is_empty() || only == "rustface";
    let reps: usize = std::env::var("FACES_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let t_load = Instant::now();
    let cf = run_cf.then(|| CenterFace::load(&env_path("HOMEROOM_FACE_MODEL")).expect("model"));
    if run_cf {
        println!(
            "centerface model load (parse + optimise, two input shapes): {:?}",
            t_load.elapsed()
        );
    }
    let mut rf = run_rf.then(Seeta::load);
    let group = env_path("HOMEROOM_FACE_TESTSET").join("dlib-faces/2008_007676.jpg");
    let src = decode_oriented(&group, 8192, 0, &Limits::default()).expect("decode");
    let limits = Limits::default();
    println!(
        "| photo | detector | decoded to | decode ms | detect ms | total ms | faces (7 labelled) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (w, h) in [(1600, 1200), (4032, 3024)] {
        let jpeg = photo(&src, w, h);
        for edge in [640u32, 2048] {
            type Run<'a> = (&'a str, Box<dyn FnMut(&OrientedImage) -> usize + 'a>);
            let mut runs: Vec<Run> = Vec::new();
            if let Some(cf) = &cf {
                runs.push((
                    "CenterFace (tract)",
                    Box::new(move |img| cf.detect(img).expect("detect").len()),
                ));
            }
            if let Some(rf) = rf.as_mut() {
                runs.push(("rustface (SeetaFace)", Box::new(move |img| rf.detect(img))));
            }
            for (name, detect) in runs.iter_mut() {
                let (mut dec, mut det, mut faces) = (Vec::new(), Vec::new(), 0);
                for _ in 0..reps {
                    let t0 = Instant::now();
                    let img = decode_oriented_bytes(&jpeg, edge, 0, &limits).expect("decode");
                    let t1 = Instant::now();
                    faces = detect(&img);
                    dec.push(t1 - t0);
                    det.push(t1.elapsed());
                }
                let (d, f) = (median(dec[1..].to_vec()), median(det[1..].to_vec()));
                let ms = |x: Duration| format!("{:.1}", x.as_secs_f64() * 1000.0);
                println!(
                    "| {w}x{h} JPEG ({} KB) | {name} | long edge {edge} (DCT-scaled) | {} | {} | {} | {faces} |",
                    jpeg.len() / 1024,
                    ms(d),
                    ms(f),
                    ms(d + f)
                );
            }
        }
    }
}
