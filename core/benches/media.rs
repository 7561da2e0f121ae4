//! Photo pipeline benchmark driver (issue 6): compares candidate stacks in-process, and runs the
//! shipped pipeline once per process for `scripts/bench.d/media.sh` (which measures time and peak RSS).
//!
//! Usage (after `cargo bench --bench media --no-run`):
//!   media stacks REPS FILE...          in-process medians: pure-Rust stack vs the shipped mozjpeg stack
//!   media run IN OUTDIR [EFFORT] [SLACK] [FORMAT] [QUALITY]   one prepare_photo(), writes large + thumb, prints ms
//!   media tune REPS OUTDIR Q,Q,... FILE...   encoder settings x qualities on the decoded large image:
//!                                            prints `image<TAB>i<TAB>setting<TAB>q<TAB>bytes<TAB>ms`, writes ti-qQ.jpg
//!   media sweep REPS OUTDIR Q,Q,... RESAMPLE,... ENCODER,... FILE...
//!        resample x encoder x quality grid; RESAMPLE is SRC-SIZE-FILTER (SRC half|s58|full: DCT scale 4/8, 5/8, 8/8;
//!        FILTER l3|cr|mit|box), ENCODER is jpeg[+prog][+ac|+trellis][+tN][+444|+422] or webp[+mN][+sharp];
//!        prints `image<TAB>resample<TAB>encoder<TAB>q<TAB>bytes<TAB>encode ms<TAB>decode+resize ms`

use std::path::Path;
use std::time::Instant;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use homeroom_core::media::{
    apply_orientation, decode_oriented_bytes, encode_jpeg_tuned, encode_jpegli, encode_prepared,
    fit, prepare_photo, Chroma, JpegEffort, JpegTuning, JpegliTuning, Limits, MediaError,
    OrientedImage, OutputFormat, PhotoOptions, QualityGoal, QuantTables, TrellisTarget,
};

fn main() {
    // `cargo bench` appends `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let result = match args.first().map(String::as_str) {
        Some("stacks") => stacks(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("tune") => tune(&args[1..]),
        Some("sweep") => sweep(&args[1..]),
        _ => {
            eprintln!(
                "usage: media stacks REPS FILE... | media run IN OUTDIR [EFFORT] [SLACK] [FORMAT]"
            );
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn effort_of(s: Option<&String>) -> JpegEffort {
    match s.map(String::as_str) {
        Some("balanced") => JpegEffort::Balanced,
        Some("smallest") => JpegEffort::Smallest,
        Some("fast") => JpegEffort::Fast,
        Some("jpegli") => JpegEffort::Jpegli,
        _ => PhotoOptions::default().jpeg_effort,
    }
}

fn run(args: &[String]) -> Result<(), MediaError> {
    let (Some(input), Some(outdir)) = (args.first(), args.get(1)) else {
        eprintln!("run IN OUTDIR [EFFORT] [SLACK] [FORMAT]");
        return Ok(());
    };
    let opts = PhotoOptions {
        jpeg_effort: effort_of(args.get(2)),
        size_slack_percent: args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2),
        quality: args
            .get(5)
            .and_then(|s| s.parse().ok())
            .unwrap_or(PhotoOptions::default().quality),
        quality_goal: if args.get(6).map(String::as_str) == Some("match") {
            QualityGoal::MatchBaseline
        } else {
            QualityGoal::Fixed
        },
        format: if args.get(4).map(String::as_str) == Some("webp") {
            OutputFormat::WebP
        } else {
            OutputFormat::Jpeg
        },
        ..PhotoOptions::default()
    };
    let t = Instant::now();
    let out = prepare_photo(Path::new(input), &opts)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let ext = if opts.format == OutputFormat::WebP {
        "webp"
    } else {
        "jpg"
    };
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(Path::new(outdir).join(format!("{name}.{ext}")), bytes).map_err(|source| {
            MediaError::Io {
                path: Path::new(outdir).join(name),
                source,
            }
        })
    };
    write("large", &out.large.bytes)?;
    write("thumb", &out.thumbnail.bytes)?;
    println!(
        "{ms:.1} ms large {}x{} {} B q{} thumb {}x{} {} B q{}",
        out.large.width,
        out.large.height,
        out.large.bytes.len(),
        out.large.quality,
        out.thumbnail.width,
        out.thumbnail.height,
        out.thumbnail.bytes.len(),
        out.thumbnail.quality
    );
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn lanczos(src: &OrientedImage, w: u32, h: u32) -> OrientedImage {
    let s = ImageRef::new(src.width, src.height, &src.rgb, PixelType::U8x3).expect("src");
    let mut d = Image::new(w, h, PixelType::U8x3);
    let o = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new().resize(&s, &mut d, &o).expect("resize");
    OrientedImage {
        width: w,
        height: h,
        rgb: d.into_vec(),
    }
}

/// The pure-Rust candidate: zune-jpeg full decode, fast_image_resize, jpeg-encoder (progressive, optimised Huffman).
fn pure_rust(bytes: &[u8], orientation: u8) -> (usize, usize) {
    let mut dec = zune_jpeg::JpegDecoder::new(bytes);
    let rgb = dec.decode().expect("zune decode");
    let (w, h) = dec.dimensions().expect("dims");
    let full = OrientedImage {
        width: w as u32,
        height: h as u32,
        rgb,
    };
    let (lw, lh) = fit(full.width, full.height, 2048);
    let large = apply_orientation(lanczos(&full, lw, lh), orientation);
    drop(full);
    let (tw, th) = fit(large.width, large.height, 400);
    let thumb = lanczos(&large, tw, th);
    let enc = |img: &OrientedImage| {
        let mut out = Vec::new();
        let mut e = jpeg_encoder::Encoder::new(&mut out, 80);
        e.set_progressive(true);
        e.set_optimized_huffman_tables(true);
        e.encode(
            &img.rgb,
            img.width as u16,
            img.height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("encode");
        out.len()
    };
    (enc(&large), enc(&thumb))
}

/// Timings and sizes of one candidate across repetitions.
#[derive(Default)]
struct Variant {
    total: Vec<f64>,
    decode: Vec<f64>,
    large: usize,
    thumb: usize,
    px: String,
}

/// A photo's bytes and file name.
fn read_photo(file: &str) -> Result<(Vec<u8>, String), MediaError> {
    let bytes = std::fs::read(file).map_err(|source| MediaError::Io {
        path: file.into(),
        source,
    })?;
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((bytes, name))
}

fn stacks(args: &[String]) -> Result<(), MediaError> {
    let reps: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    println!(
        "| image | variant | median ms | decode+orient ms | large bytes | thumb bytes | large px |"
    );
    println!("|---|---|---:|---:|---:|---:|---|");
    for file in &args[1..] {
        let (bytes, name) = read_photo(file)?;
        let mut variants: Vec<Variant> = Vec::new();
        let configs: Vec<(&str, Option<(JpegEffort, u8)>)> = vec![
            ("pure-Rust: zune-jpeg full + fir + jpeg-encoder", None),
            (
                "mozjpeg scaled, exact 2048, Fast",
                Some((JpegEffort::Fast, 0)),
            ),
            (
                "mozjpeg scaled, exact 2048, Balanced",
                Some((JpegEffort::Balanced, 0)),
            ),
            (
                "mozjpeg scaled, 2% slack, Fast Q80 (default before jpegli)",
                Some((JpegEffort::Fast, 2)),
            ),
            (
                "mozjpeg scaled, 2% slack, jpegli encode (default)",
                Some((JpegEffort::Jpegli, 2)),
            ),
            (
                "mozjpeg scaled, 2% slack, Balanced",
                Some((JpegEffort::Balanced, 2)),
            ),
            (
                "mozjpeg scaled, 2% slack, Smallest",
                Some((JpegEffort::Smallest, 2)),
            ),
        ];
        variants.resize_with(configs.len(), Variant::default);
        // Interleave variants within each repetition so machine noise hits all alike.
        for _ in 0..reps {
            for (i, (_, cfg)) in configs.iter().enumerate() {
                let t = Instant::now();
                match cfg {
                    None => {
                        let (l, th) = pure_rust(&bytes, 6);
                        variants[i].total.push(t.elapsed().as_secs_f64() * 1e3);
                        variants[i].large = l;
                        variants[i].thumb = th;
                        variants[i].px = "2048".into();
                    }
                    Some((effort, slack)) => {
                        let opts = PhotoOptions {
                            jpeg_effort: *effort,
                            size_slack_percent: *slack,
                            // mozjpeg settings at libjpeg's Q80; jpegli at its own default.
                            quality: if *effort == JpegEffort::Jpegli {
                                PhotoOptions::default().quality
                            } else {
                                80
                            },
                            ..PhotoOptions::default()
                        };
                        let img = decode_oriented_bytes(&bytes, 2048, *slack, &Limits::default())?;
                        variants[i].decode.push(t.elapsed().as_secs_f64() * 1e3);
                        let out = encode_prepared(&img, &opts)?;
                        variants[i].total.push(t.elapsed().as_secs_f64() * 1e3);
                        variants[i].large = out.large.bytes.len();
                        variants[i].thumb = out.thumbnail.bytes.len();
                        variants[i].px = format!("{}", out.large.width.max(out.large.height));
                    }
                }
            }
        }
        for ((label, _), v) in configs.iter().zip(variants) {
            let Variant {
                total,
                decode: dec,
                large: l,
                thumb: th,
                px,
            } = v;
            let d = if dec.is_empty() {
                "–".to_string()
            } else {
                format!("{:.1}", median(dec))
            };
            println!(
                "| {name} | {label} | {:.1} | {d} | {l} | {th} | {px} |",
                median(total)
            );
        }
    }
    Ok(())
}

/// Encoder settings compared by `tune`, by name.
fn tunings() -> Vec<(&'static str, JpegTuning)> {
    let base = JpegTuning::BASELINE;
    let t = |progressive, trellis, dc, eob, tables| JpegTuning {
        progressive,
        trellis,
        trellis_dc: dc,
        trellis_eob_opt: eob,
        tables,
        ..base
    };
    use QuantTables::*;
    vec![
        ("Fast (default): baseline, Annex K", JpegTuning::BASELINE),
        (
            "Balanced: progressive, Annex K",
            JpegEffort::Balanced
                .tuning()
                .unwrap_or(JpegTuning::BASELINE),
        ),
        (
            "baseline, mozjpeg MS-SSIM tables",
            t(false, false, false, false, MsSsim),
        ),
        (
            "baseline, Robidoux tables",
            t(false, false, false, false, Robidoux),
        ),
        (
            "baseline + AC trellis",
            t(false, true, false, false, AnnexK),
        ),
        (
            "progressive + AC trellis",
            t(true, true, false, false, AnnexK),
        ),
        (
            "Smallest: progressive + full trellis",
            JpegEffort::Smallest
                .tuning()
                .unwrap_or(JpegTuning::BASELINE),
        ),
    ]
}

/// Sweeps encoder settings x qualities over each decoded large image, so bytes can be compared at equal DSSIM.
fn tune(args: &[String]) -> Result<(), MediaError> {
    let reps: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(1);
    let Some(outdir) = args.get(1) else {
        eprintln!("tune REPS OUTDIR Q,Q,... FILE...");
        return Ok(());
    };
    let qualities: Vec<u8> = args
        .get(2)
        .map(|s| s.split(',').filter_map(|q| q.parse().ok()).collect())
        .unwrap_or_default();
    for file in &args[3..] {
        let (bytes, name) = read_photo(file)?;
        let name = name.trim_end_matches(".jpg").to_string();
        let img = decode_oriented_bytes(&bytes, 2048, 2, &Limits::default())?;
        let dir = Path::new(outdir).join(&name);
        std::fs::create_dir_all(&dir).map_err(|source| MediaError::Io {
            path: dir.clone(),
            source,
        })?;
        for &q in &qualities {
            let mut times = vec![Vec::new(); tunings().len()];
            let mut sizes = vec![0usize; tunings().len()];
            for _ in 0..reps {
                for (i, (_, tuning)) in tunings().iter().enumerate() {
                    let t = Instant::now();
                    let out = encode_jpeg_tuned(&img, tuning, q)?;
                    times[i].push(t.elapsed().as_secs_f64() * 1e3);
                    sizes[i] = out.len();
                    let path = dir.join(format!("t{i}-q{q}.jpg"));
                    std::fs::write(&path, &out)
                        .map_err(|source| MediaError::Io { path, source })?;
                }
            }
            for (i, (cfg, _)) in tunings().iter().enumerate() {
                println!(
                    "{name}\t{i}\t{cfg}\t{q}\t{}\t{:.1}",
                    sizes[i],
                    median(std::mem::take(&mut times[i]))
                );
            }
        }
    }
    Ok(())
}

/// Decodes `bytes` upright at a DCT scale (`half`, `s58`, `full`), then resamples to `long` px with `filter`.
fn resample_variant(bytes: &[u8], spec: &str) -> Result<OrientedImage, MediaError> {
    let parts: Vec<&str> = spec.split('-').collect();
    let (src, long, filter) = match parts.as_slice() {
        [s, l, f] => (*s, l.parse::<u32>().unwrap_or(2048), *f),
        _ => ("half", 2016, "l3"),
    };
    let decode_edge = match src {
        "half" => 2016,
        "s58" => 2520,
        _ => 4032,
    };
    let img = decode_oriented_bytes(bytes, decode_edge, 0, &Limits::default())?;
    let (w, h) = fit(img.width, img.height, long);
    if (w, h) == (img.width, img.height) {
        return Ok(img);
    }
    let alg = match filter {
        "cr" => ResizeAlg::Convolution(FilterType::CatmullRom),
        "mit" => ResizeAlg::Convolution(FilterType::Mitchell),
        "box" => ResizeAlg::Convolution(FilterType::Box),
        "bil" => ResizeAlg::Convolution(FilterType::Bilinear),
        _ => ResizeAlg::Convolution(FilterType::Lanczos3),
    };
    let s = ImageRef::new(img.width, img.height, &img.rgb, PixelType::U8x3).expect("src");
    let mut d = Image::new(w, h, PixelType::U8x3);
    Resizer::new()
        .resize(&s, &mut d, &ResizeOptions::new().resize_alg(alg))
        .expect("resize");
    Ok(OrientedImage {
        width: w,
        height: h,
        rgb: d.into_vec(),
    })
}

/// Encodes with an encoder spec (see the usage line); returns the bytes and the file extension.
fn encode_variant(
    img: &OrientedImage,
    spec: &str,
    q: u8,
) -> Result<(Vec<u8>, &'static str), MediaError> {
    let toks: Vec<&str> = spec.split('+').collect();
    if toks[0] == "webp" {
        let mut cfg = webp::WebPConfig::new().expect("webp config");
        cfg.quality = f32::from(q);
        for t in &toks[1..] {
            if let Some(m) = t.strip_prefix('m') {
                cfg.method = m.parse().unwrap_or(4);
            }
            if *t == "sharp" {
                cfg.use_sharp_yuv = 1;
            }
        }
        let out = webp::Encoder::from_rgb(&img.rgb, img.width, img.height)
            .encode_advanced(&cfg)
            .map_err(|e| MediaError::Encode {
                detail: format!("WebP: {e:?}"),
            })?;
        return Ok((out.to_vec(), "webp"));
    }
    if toks[0] == "jpegli" {
        let mut t = JpegliTuning::SHIPPED;
        for tok in &toks[1..] {
            match *tok {
                "aq" => t.adaptive_quantization = true,
                "444" => t.chroma = Chroma::Full444,
                other => {
                    if let Some(l) = other.strip_prefix('p') {
                        t.progressive_level = l.parse().unwrap_or(2);
                    }
                }
            }
        }
        return Ok((encode_jpegli(img, &t, q)?, "jpg"));
    }
    let mut t = JpegTuning::BASELINE;
    for tok in &toks[1..] {
        match *tok {
            "prog" => t.progressive = true,
            "ac" => t.trellis = true,
            "trellis" => {
                t.trellis = true;
                t.trellis_dc = true;
                t.trellis_eob_opt = true;
            }
            "scans" => t.optimize_scans = true,
            "ssim" => t.trellis_target = TrellisTarget::Ssim,
            "msssim" => t.trellis_target = TrellisTarget::MsSsim,
            "444" => t.chroma = Chroma::Full444,
            "422" => t.chroma = Chroma::Sub422,
            other => {
                if let Some(n) = other.strip_prefix('t') {
                    use QuantTables::*;
                    t.tables = match n {
                        "1" => Flat,
                        "2" => MsSsim,
                        "3" => Robidoux,
                        "4" => PsnrHvsM,
                        "5" => Klein,
                        "6" => Watson,
                        "7" => Ahumada,
                        "8" => Peterson,
                        _ => AnnexK,
                    };
                }
            }
        }
    }
    Ok((encode_jpeg_tuned(img, &t, q)?, "jpg"))
}

/// Resample x encoder x quality grid over each photo, writing every output for the DSSIM script.
fn sweep(args: &[String]) -> Result<(), MediaError> {
    let reps: usize = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1);
    let (Some(outdir), Some(qs), Some(res), Some(encs)) =
        (args.get(1), args.get(2), args.get(3), args.get(4))
    else {
        eprintln!("sweep REPS OUTDIR Q,Q,... RESAMPLE,... ENCODER,... FILE...");
        return Ok(());
    };
    let qualities: Vec<u8> = qs.split(',').filter_map(|q| q.parse().ok()).collect();
    for file in &args[5..] {
        let (bytes, name) = read_photo(file)?;
        let name = name.trim_end_matches(".jpg").to_string();
        for r in res.split(',') {
            let mut rt = Vec::new();
            let mut img = None;
            for _ in 0..reps {
                let t = Instant::now();
                img = Some(resample_variant(&bytes, r)?);
                rt.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let img = img.expect("at least one rep");
            let rms = median(rt);
            let dir = Path::new(outdir).join(&name).join(r);
            std::fs::create_dir_all(&dir).map_err(|source| MediaError::Io {
                path: dir.clone(),
                source,
            })?;
            for e in encs.split(',') {
                for &q in &qualities {
                    let mut times = Vec::new();
                    let mut out = (Vec::new(), "jpg");
                    for _ in 0..reps {
                        let t = Instant::now();
                        out = encode_variant(&img, e, q)?;
                        times.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                    let path = dir.join(format!("{e}-q{q}.{}", out.1));
                    std::fs::write(&path, &out.0)
                        .map_err(|source| MediaError::Io { path, source })?;
                    println!(
                        "{name}\t{r}\t{e}\t{q}\t{}\t{:.1}\t{rms:.1}",
                        out.0.len(),
                        median(times)
                    );
                }
            }
        }
    }
    Ok(())
}
