//! cargo run --example split -- FILE.gguf [--devices host,host|cuda:0,cuda:1] [--split tensor|layer]
//!
//! One load over several devices (docs/MULTI_GPU.md): builds a tensor-parallel or by-layer
//! placement from the model's tensor names, loads it, and prints each device's share. A
//! device that is absent here (cuda without a GPU) is reported as skipped and exits 0.
use dq::{Context, LoadOptions, Location, Model, OutputType, Status};
use std::process::ExitCode;

mod common;

fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: split FILE.gguf [--devices host,host|cuda:0,cuda:1] [--split tensor|layer]";
    let (mut file, mut devices, mut split) = (None, "host,host".to_string(), "tensor".to_string());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--devices" => devices = it.next().ok_or(usage)?.clone(),
            "--split" => split = it.next().ok_or(usage)?.clone(),
            _ if file.is_none() && !a.starts_with('-') => file = Some(a.clone()),
            _ => return Err(usage.into()),
        }
    }
    let file = file.ok_or(usage)?;
    let devices: Vec<Location> =
        devices.split(',').map(Location::parse).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let n = devices.len() as i32;
    let ctx = Context::new().map_err(|e| e.to_string())?;
    let model = Model::open(&ctx, &file).map_err(|e| e.to_string())?;
    let parts = match split.as_str() {
        "tensor" => ctx.plan_tensor_parallel(&model, n, None),
        "layer" => ctx.plan_layers(&model, n),
        _ => return Err(usage.into()),
    }
    .map_err(|e| e.to_string())?;
    let n_parts = parts.len();
    let opts = LoadOptions::default().output(OutputType::F16).devices(devices.clone()).parts(parts);
    let loaded = match ctx.load(&model, &opts) {
        Ok(l) => l,
        Err(e) if e.status() == Status::NO_BACKEND || e.status() == Status::NO_DEVICE => {
            println!("skipped: {e}");
            return Ok(());
        }
        Err(e) => return Err(e.to_string()),
    };
    println!("{file}: {n_parts} parts over {n} devices ({split} split)");
    for (d, where_) in devices.iter().enumerate().take(loaded.device_count()) {
        let s = loaded.device_stats(d).map_err(|e| e.to_string())?;
        println!("  device {d} ({}:{}): {} tensors, {} file bytes, {} output bytes, pipeline {:.2} ms",
                 where_.backend(), where_.device_index(), s.tensors, s.file_bytes, s.output_bytes,
                 s.seconds_pipeline * 1e3);
    }
    Ok(())
}

fn main() -> ExitCode {
    common::main_of("split", run)
}
