//! Speed and accuracy of the consent filter's face detection (issue 7, REQ-CON-2) per model input
//! size, side by side with rustface (SeetaFace's funnel cascade, the peer) in the same run:
//! - accuracy: recall at IoU 0.5 and false alarms on dlib's labelled set, faces found on face-free
//!   images, per input size and score threshold;
//! - speed: decode (the core's own `decode_oriented_bytes`, DCT-scaled) plus detection per 1600x1200
//!   and 4032x3024 JPEG, single thread, variants interleaved rep by rep; medians of wall time and of
//!   the thread's own CPU time (the machine is shared, so CPU time is the steadier number).
//!
//! A measurement, not a test: `scripts/bench faces` (needs HOMEROOM_FACE_MODEL, HOMEROOM_FACE_TESTSET
//! and RUSTFACE_MODEL). `FACES_BENCH_ONLY=<variant>` times one variant alone (for peak RSS);
//! `FACES_BENCH_REPS` sets the repetitions (default 7).

#[path = "../tests/support/dlib.rs"]
mod dlib;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use homeroom_core::consent::{CenterFace, CenterFaceConfig, FaceBox, FaceDetector};
use homeroom_core::media::{decode_oriented, decode_oriented_bytes, Limits, OrientedImage};

/// Input long edges compared; the short edge follows (640x480, 480x384, 416x320, 320x256).
const EDGES: [u32; 4] = [640, 480, 416, 320];
/// Score thresholds the accuracy table is read at (the core's default is 0.5).
const THRESHOLDS: [f32; 3] = [0.5, 0.4, 0.3];

fn env_path(var: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(var)
            .unwrap_or_else(|| panic!("{var} is not set (see scripts/bench.d/faces.sh)")),
    )
}

/// CPU time this thread has spent running, from the scheduler's own account (Linux).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let ns: u64 = stat
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("schedstat run time");
    Duration::from_nanos(ns)
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

fn ms(x: Duration) -> String {
    format!("{:.1}", x.as_secs_f64() * 1000.0)
}

/// rustface with the settings of its own example (min face 20 px, score 2.0, pyramid 0.8, step 4).
struct Seeta(std::sync::Mutex<Box<dyn rustface::Detector>>);

impl Seeta {
    fn load() -> Seeta {
        let model = env_path("RUSTFACE_MODEL");
        let mut d =
            rustface::create_detector(model.to_str().expect("utf-8 path")).expect("rustface model");
        d.set_min_face_size(20);
        d.set_score_thresh(2.0);
        d.set_pyramid_scale_factor(0.8);
        d.set_slide_window_step(4, 4);
        Seeta(std::sync::Mutex::new(d))
    }

    fn detect(&self, img: &OrientedImage) -> Vec<FaceBox> {
        let gray: Vec<u8> = img
            .rgb
            .chunks_exact(3)
            .map(|p| {
                ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8
            })
            .collect();
        let data = rustface::ImageData::new(&gray, img.width, img.height);
        let mut d = self.0.lock().expect("rustface lock");
        d.detect(&data)
            .iter()
            .map(|f| {
                let b = f.bbox();
                FaceBox {
                    x: b.x() as f32,
                    y: b.y() as f32,
                    w: b.width() as f32,
                    h: b.height() as f32,
                    score: f.score() as f32,
                }
            })
            .collect()
    }
}

/// A detector as the bench calls it: image in, boxes out.
type Detect = Box<dyn Fn(&OrientedImage) -> Vec<FaceBox>>;

/// One detector at one setting, with the decode it needs.
struct Variant {
    name: String,
    /// Decode to this long edge, allowing `slack` percent less (so a coarser DCT scale may serve).
    decode_edge: u32,
    slack: u8,
    detect: Detect,
}

fn centerface(edge: u32, threshold: f32) -> CenterFace {
    let config = CenterFaceConfig {
        input_long_edge: edge,
        score_threshold: threshold,
        ..CenterFaceConfig::default()
    };
    CenterFace::load_with(&env_path("HOMEROOM_FACE_MODEL"), config).expect("model")
}

/// Recall, false alarms and faces on face-free images per CenterFace input size and threshold, and for rustface.
fn accuracy(seeta: &Seeta) {
    let root = env_path("HOMEROOM_FACE_TESTSET");
    let dir = root.join("dlib-faces");
    let load = |p: PathBuf| decode_oriented(&p, 8192, 0, &Limits::default()).expect("decode");
    let labelled: Vec<(OrientedImage, Vec<FaceBox>)> = dlib::labelled_set(&dir)
        .into_iter()
        .map(|(file, truth)| (load(dir.join(file)), truth))
        .collect();
    let empty: Vec<OrientedImage> = [
        root.join("no-faces/coffee.png"),
        root.join("no-faces/chelsea.png"),
        dir.join("dogs.jpg"),
    ]
    .into_iter()
    .map(load)
    .collect();
    let faces: usize = labelled.iter().map(|(_, t)| t.len()).sum();
    println!("| detector | input | score threshold | recall at IoU 0.5 ({faces} faces) | false alarms | faces on coffee, chelsea, dogs | lowest score of a found face |");
    println!("|---|---|---|---|---|---|---|");
    let row =
        |name: &str, input: &str, th: String, found: &[Vec<FaceBox>], none: &[Vec<FaceBox>]| {
            let (mut hits, mut fas, mut lowest) = (0, 0, f32::MAX);
            for ((_, truth), f) in labelled.iter().zip(found) {
                let (h, fa) = dlib::matches(truth, f);
                hits += h;
                fas += fa;
                for t in truth {
                    let best = f
                        .iter()
                        .filter(|b| homeroom_core::consent::iou(t, b) >= 0.5)
                        .map(|b| b.score)
                        .fold(f32::MIN, f32::max);
                    if best > f32::MIN {
                        lowest = lowest.min(best);
                    }
                }
            }
            let none: Vec<String> = none.iter().map(|f| f.len().to_string()).collect();
            println!(
                "| {name} | {input} | {th} | {hits}/{faces}{} | {fas} | {} | {lowest:.2} |",
                if hits == faces { "" } else { " **miss**" },
                none.join(", ")
            );
        };
    let lowest_threshold = THRESHOLDS.iter().copied().fold(f32::MAX, f32::min);
    for edge in EDGES {
        // Greedy NMS keeps the same boxes above a higher threshold, so one low-threshold run serves all.
        let cf = centerface(edge, lowest_threshold);
        let found: Vec<Vec<FaceBox>> = labelled
            .iter()
            .map(|(img, _)| cf.detect(img).expect("detect"))
            .collect();
        let none: Vec<Vec<FaceBox>> = empty
            .iter()
            .map(|img| cf.detect(img).expect("detect"))
            .collect();
        let input = homeroom_core::consent::InputSize::for_long_edge(edge).expect("edge");
        for th in THRESHOLDS {
            let keep = |v: &Vec<FaceBox>| v.iter().filter(|b| b.score > th).copied().collect();
            let f: Vec<Vec<FaceBox>> = found.iter().map(keep).collect();
            let n: Vec<Vec<FaceBox>> = none.iter().map(keep).collect();
            row(
                "CenterFace (tract)",
                &format!("{}x{}", input.long, input.short),
                format!("{th}"),
                &f,
                &n,
            );
        }
    }
    let found: Vec<Vec<FaceBox>> = labelled.iter().map(|(img, _)| seeta.detect(img)).collect();
    let none: Vec<Vec<FaceBox>> = empty.iter().map(|img| seeta.detect(img)).collect();
    row(
        "rustface (SeetaFace)",
        "whole image, min face 20 px",
        "2.0 (its own scale)".into(),
        &found,
        &none,
    );
}

fn main() {
    let only = std::env::var("FACES_BENCH_ONLY").unwrap_or_default();
    let reps: usize = std::env::var("FACES_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
        .max(2);
    let wanted = |name: &str| only.is_empty() || only == name;
    let seeta = std::rc::Rc::new(Seeta::load());
    if only.is_empty() {
        accuracy(&seeta);
        println!();
    }
    let mut variants: Vec<Variant> = Vec::new();
    for edge in EDGES {
        let names = [
            format!("centerface-{edge}"),
            format!("centerface-{edge}-dct8"),
            format!("centerface-{edge}-upload"),
        ];
        if !names.iter().any(|n| wanted(n)) {
            continue; // a variant timed alone loads only its own model, so its peak RSS is its own
        }
        let t = Instant::now();
        let cf = std::rc::Rc::new(centerface(
            edge,
            CenterFaceConfig::default().score_threshold,
        ));
        if only.is_empty() {
            println!(
                "CenterFace {edge}: model load (parse + optimise, landscape and portrait) {:?}  ",
                t.elapsed()
            );
        }
        let exact = cf.clone();
        variants.push(Variant {
            name: format!("centerface-{edge}"),
            decode_edge: edge,
            slack: 0,
            detect: Box::new(move |img| exact.detect(img).expect("detect")),
        });
        if edge == 640 {
            // The DCT's 1/8 scale (504 px for 12 MP) upscaled by the letterbox.
            let coarse = cf.clone();
            variants.push(Variant {
                name: "centerface-640-dct8".into(),
                decode_edge: 640,
                slack: 25,
                detect: Box::new(move |img| coarse.detect(img).expect("detect")),
            });
        }
        if edge == 640 || edge == CenterFaceConfig::default().input_long_edge {
            // check_photo's path: detection on the 2048 px decode the upload encoder needs anyway.
            variants.push(Variant {
                name: format!("centerface-{edge}-upload"),
                decode_edge: 2048,
                slack: 0,
                detect: Box::new(move |img| cf.detect(img).expect("detect")),
            });
        }
    }
    let peer = seeta.clone();
    variants.push(Variant {
        name: "rustface-640".into(),
        decode_edge: 640,
        slack: 0,
        detect: Box::new(move |img| peer.detect(img)),
    });
    variants.retain(|v| wanted(&v.name));
    assert!(!variants.is_empty(), "no variant is named {only}");

    let group = env_path("HOMEROOM_FACE_TESTSET").join("dlib-faces/2008_007676.jpg");
    let src = decode_oriented(&group, 8192, 0, &Limits::default()).expect("decode");
    let limits = Limits::default();
    println!();
    println!("| photo | variant | decoded to | decode ms | detect ms | total ms (wall) | total ms (CPU) | faces (7 labelled) |");
    println!("|---|---|---|---|---|---|---|---|");
    for (w, h) in [(1600, 1200), (4032, 3024)] {
        let jpeg = photo(&src, w, h);
        // Per variant: decode, detect, total wall and total CPU samples; reps interleave the variants.
        let mut samples: Vec<[Vec<Duration>; 4]> =
            variants.iter().map(|_| Default::default()).collect();
        let mut faces = vec![0; variants.len()];
        let mut decoded = vec![(0, 0); variants.len()];
        for rep in 0..reps {
            for (i, v) in variants.iter().enumerate() {
                let (c0, t0) = (thread_cpu(), Instant::now());
                let img =
                    decode_oriented_bytes(&jpeg, v.decode_edge, v.slack, &limits).expect("decode");
                let t1 = Instant::now();
                let found = (v.detect)(&img);
                let (t2, c2) = (Instant::now(), thread_cpu());
                faces[i] = found.len();
                decoded[i] = (img.width, img.height);
                if rep > 0 {
                    let s = &mut samples[i];
                    s[0].push(t1 - t0);
                    s[1].push(t2 - t1);
                    s[2].push(t2 - t0);
                    s[3].push(c2 - c0);
                }
            }
        }
        for (i, v) in variants.iter().enumerate() {
            let [d, f, t, c] = samples[i].clone().map(median);
            println!(
                "| {w}x{h} JPEG ({} KB) | {} | {}x{} | {} | {} | {} | {} | {} |",
                jpeg.len() / 1024,
                v.name,
                decoded[i].0,
                decoded[i].1,
                ms(d),
                ms(f),
                ms(t),
                ms(c),
                faces[i]
            );
        }
    }
}
