//! cargo bench (criterion): the CPU plugin against the cuda plugin, per type, at 16M and 256M
//! elements, with the same run's copy bandwidth beside them (host memcpy of the output size;
//! device-to-device copy on the GPU). The source bytes are real quantized weights: each type's
//! tensor of the shared test data, tiled to the size.
//!
//! Environment: DQ_BENCH_TYPES = seed (q6_K, q5_0, q8_0; default) | all | q4_K,iq2_xxs,...
//!              DQ_BENCH_SIZES = 16M,256M (default) | any list of NM
//!              DQ_BENCH_OUT   = f16 (default) | bf16 | f32
//! CUDA rows are skipped, saying why, where no cuda backend with a device is present.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dq::{Context, DeviceBuffer, Location, Model, RawDequantize, Type};
use std::ffi::CString;
use std::path::PathBuf;
use std::ptr;
use std::time::Duration;

fn testdata() -> Option<PathBuf> {
    let dir = std::env::var_os("DQ_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/testdata"));
    dir.join("all-types.gguf").is_file().then_some(dir)
}

fn types(ctx: &Context) -> Vec<Type> {
    let spec = std::env::var("DQ_BENCH_TYPES").unwrap_or_else(|_| "seed".into());
    match spec.as_str() {
        "seed" => vec![Type::Q6_K, Type::Q5_0, Type::Q8_0],
        "all" => {
            let cpu = ctx.backend_find("cpu").expect("the cpu plugin");
            Type::all_dequantizable().into_iter().filter(|t| ctx.supports(cpu, *t, Type::F32)).collect()
        }
        list => list.split(',').map(|n| Type::from_name(n.trim()).unwrap_or_else(|| panic!("unknown type {n}"))).collect(),
    }
}

fn sizes() -> Vec<usize> {
    std::env::var("DQ_BENCH_SIZES")
        .unwrap_or_else(|_| "16M,256M".into())
        .split(',')
        .map(|s| s.trim().trim_end_matches('M').parse::<usize>().expect("sizes like 16M") << 20)
        .collect()
}

fn out_type() -> (Type, usize) {
    match std::env::var("DQ_BENCH_OUT").as_deref() {
        Ok("f32") => (Type::F32, 4),
        Ok("bf16") => (Type::BF16, 2),
        _ => (Type::F16, 2),
    }
}

/// The test data's tensor of that type (all-types.gguf, or extra-types.gguf for the newest),
/// repeated to n elements (every tensor there holds whole blocks, 65,536 or 16,384 elements).
fn source_bytes(ctx: &Context, dir: &std::path::Path, ty: Type, n: usize) -> Option<Vec<u8>> {
    let name = format!("t.{}", ty.name()?.to_lowercase());
    for file in ["all-types.gguf", "extra-types.gguf"] {
        let model = Model::open(ctx, dir.join(file)).ok()?;
        if let Ok(t) = model.tensor(&name) {
            if n % t.n_elements as usize != 0 {
                return None;
            }
            return Some(t.data.repeat(n / t.n_elements as usize));
        }
    }
    None
}

/// The cuda backend's index when it is loaded and has a device; else prints why not.
fn cuda_backend(ctx: &Context) -> bool {
    match ctx.backend_find("cuda").map(|i| ctx.backend(i)) {
        Some(Ok(b)) if b.loaded && b.device_count > 0 => true,
        Some(Ok(b)) => {
            eprintln!("cuda rows skipped: the cuda plugin is not usable here: {}", b.status);
            false
        }
        _ => {
            eprintln!("cuda rows skipped: no cuda plugin found (no GPU build or no GPU on this machine)");
            false
        }
    }
}

fn bench(c: &mut Criterion) {
    let ctx = Context::new().expect("dq context");
    let Some(dir) = testdata() else {
        eprintln!("dequantize bench skipped: no test data (set DQ_TESTDATA)");
        return;
    };
    let (out_ty, out_size) = out_type();
    let have_cuda = cuda_backend(&ctx);
    let cuda = Location::parse("cuda:0").unwrap();
    let host = Location::host();
    let cpu_name = CString::new("cpu").unwrap();
    let cuda_name = CString::new("cuda").unwrap();

    for &n in &sizes() {
        let out_bytes = n * out_size;
        // Copy bandwidth of the same run, for scale: moving the output bytes once.
        let mut g = c.benchmark_group(format!("copy/{}M", n >> 20));
        g.throughput(Throughput::Bytes(out_bytes as u64));
        let src = vec![1u8; out_bytes];
        let mut dst = vec![0u8; out_bytes];
        g.bench_function("host memcpy", |b| b.iter(|| dst.copy_from_slice(&src)));
        if have_cuda {
            let a = DeviceBuffer::new(&ctx, cuda.clone(), out_bytes).expect("device buffer");
            let mut d = DeviceBuffer::new(&ctx, cuda.clone(), out_bytes).expect("device buffer");
            g.bench_function("cuda device-to-device", |b| b.iter(|| d.copy_from(&a).unwrap()));
        }
        g.finish();
        drop((src, dst));

        for ty in types(&ctx) {
            let Some(src) = source_bytes(&ctx, &dir, ty, n) else {
                eprintln!("{ty}: no test tensor to tile to {n} elements; skipped");
                continue;
            };
            let mut g = c.benchmark_group(format!("dequantize/{ty}/{}M", n >> 20));
            g.throughput(Throughput::Bytes(out_bytes as u64));
            let mut out = vec![0u8; out_bytes];
            g.bench_function(BenchmarkId::new("cpu", format!("to {out_ty}")), |b| {
                b.iter(|| {
                    let req = RawDequantize {
                        src_type: ty, dst_type: out_ty, src: src.as_ptr().cast(), src_bytes: src.len(),
                        n_elements: n as i64, dst: out.as_mut_ptr().cast(), dst_bytes: out.len(),
                        src_where: host.clone(), dst_where: host.clone(), stream: ptr::null_mut(),
                        backend: Some(&cpu_name),
                    };
                    // SAFETY: host slices of the stated sizes, alive for the call.
                    unsafe { ctx.dequantize_raw(&req) }.unwrap()
                })
            });
            if have_cuda {
                let mut dsrc = DeviceBuffer::new(&ctx, cuda.clone(), src.len()).expect("device buffer");
                dsrc.copy_from_host(&src).unwrap();
                let dout = DeviceBuffer::new(&ctx, cuda.clone(), out_bytes).expect("device buffer");
                g.bench_function(BenchmarkId::new("cuda", format!("to {out_ty}")), |b| {
                    b.iter(|| {
                        let req = RawDequantize {
                            src_type: ty, dst_type: out_ty, src: dsrc.as_ptr(), src_bytes: dsrc.len(),
                            n_elements: n as i64, dst: dout.as_ptr(), dst_bytes: dout.len(),
                            src_where: cuda.clone(), dst_where: cuda.clone(), stream: ptr::null_mut(),
                            backend: Some(&cuda_name),
                        };
                        // SAFETY: device buffers of the stated sizes; synchronized before the
                        // next iteration, so the time covers the whole kernel.
                        unsafe {
                            ctx.dequantize_raw(&req).unwrap();
                            ctx.synchronize(&cuda, ptr::null_mut()).unwrap();
                        }
                    })
                });
            }
            g.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = bench }
criterion_main!(benches);
