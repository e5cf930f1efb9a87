//! cargo run --example load -- FILE.gguf [--device cpu|cuda:0] [--to f16|bf16|f32|keep]
//!
//! Loads a GGUF through the loader and prints each tensor's name, shape, type and first
//! values. A device whose backend is absent or has no device here (e.g. cuda:0 on a machine
//! without a GPU) is reported as skipped, with the library's reason, and exits 0.
use dq::{Context, LoadOptions, Location, OutputType, Status, Type};
use std::process::ExitCode;

mod common;

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let (e, m) = ((h >> 10) & 0x1f, (h & 0x3ff) as f32);
    sign * match e {
        0 => m * 2f32.powi(-24),
        0x1f => if m == 0.0 { f32::INFINITY } else { f32::NAN },
        _ => (1.0 + m / 1024.0) * 2f32.powi(e as i32 - 15),
    }
}

fn first_values(ty: Type, bytes: &[u8]) -> String {
    let vals: Vec<String> = match ty {
        Type::F32 => bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).map(|v| format!("{v:.4}")).collect(),
        Type::F16 => bytes.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).map(|v| format!("{v:.4}")).collect(),
        Type::BF16 => bytes
            .chunks_exact(2)
            .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
            .map(|v| format!("{v:.4}"))
            .collect(),
        _ => return format!("(kept as {ty}: {:02x?})", bytes),
    };
    vals.join(" ")
}

fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: load FILE.gguf [--device cpu|cuda:0] [--to f16|bf16|f32|keep]";
    let mut file = None;
    let (mut device, mut to) = ("cpu".to_string(), OutputType::F16);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--device" => device = it.next().ok_or(usage)?.clone(),
            "--to" => {
                to = match it.next().map(String::as_str) {
                    Some("f16") => OutputType::F16,
                    Some("bf16") => OutputType::BF16,
                    Some("f32") => OutputType::F32,
                    Some("keep") => OutputType::Keep,
                    _ => return Err(usage.into()),
                }
            }
            _ if file.is_none() && !a.starts_with("--") => file = Some(a.clone()),
            _ => return Err(usage.into()),
        }
    }
    let file = file.ok_or(usage)?;
    let ctx = Context::new().map_err(|e| e.to_string())?;
    let where_ = Location::parse(&device).map_err(|e| e.to_string())?;
    let opts = LoadOptions::default().device(where_).output(to);
    let loaded = match ctx.load_file(&file, &opts) {
        Ok(l) => l,
        Err(e) if matches!(e.status(), Status::NO_BACKEND | Status::NO_DEVICE) => {
            println!("skipped: {device} is not available on this machine: {}", e.message());
            return Ok(());
        }
        Err(e) => return Err(e.to_string()), // the message names the file
    };
    let stats = loaded.stats().map_err(|e| e.to_string())?;
    println!("{file}: {} tensors onto {device} ({} on the device backend, {} on the CPU, {} kept), {:.1} ms",
             loaded.len(), stats.tensors_device, stats.tensors_cpu, stats.tensors_copied, stats.seconds_total * 1e3);
    for t in loaded.tensors().map_err(|e| e.to_string())? {
        let mut head = vec![0u8; (t.n_bytes as usize).min(16)];
        t.copy_to_host(&mut head).map_err(|e| format!("{}: {e}", t.name))?;
        println!("  {:<28} {:>16} {:>6} <- {:<7} [{}] {}", t.name, format!("{:?}", t.shape), t.ty.to_string(),
                 t.src_type.to_string(), t.backend, first_values(t.ty, &head));
    }
    Ok(())
}

fn main() -> ExitCode {
    common::main_of("load", run)
}
