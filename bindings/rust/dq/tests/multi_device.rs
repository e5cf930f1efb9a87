//! Plans and loads over several devices: the parts of `plan_tensor_parallel` and
//! `plan_layers` cover every row and column of every tensor exactly once per replica, and a
//! load of those parts to 2 devices gives the values of a whole-tensor load. The devices are
//! the fake asynchronous device of the C++ tests when the library finds it (DQ_PLUGIN_PATH=
//! <build>/tests/loader/fakeplugins, as scripts/test-rust.sh runs this test a second time),
//! else host memory twice (two pipelines to one destination, the same multi-device path).
mod common;

use common::*;
use dq::{Context, LoadOptions, LoadPart, Location, Model, OutputType, Status};
use std::collections::BTreeMap;

/// The model files whose shapes a 2-way tensor-parallel split can cut at whole blocks.
const TP_MODELS: [&str; 2] = ["stories260K.gguf", "stories260K-q4_k_m.gguf"];

fn two_devices(ctx: &Context) -> Vec<Location> {
    match ctx.backend_find("fakeasync").map(|i| ctx.backend(i).unwrap()) {
        Some(b) if b.loaded && b.device_count > 0 => {
            let second = if b.device_count > 1 { 1 } else { 0 };
            eprintln!("devices: fakeasync:0, fakeasync:{second}");
            vec![Location::device("fakeasync", 0).unwrap(), Location::device("fakeasync", second).unwrap()]
        }
        _ => {
            eprintln!("devices: host twice (no fakeasync plugin on DQ_PLUGIN_PATH)");
            vec![Location::host(), Location::host()]
        }
    }
}

/// Rows (over ne[1..3]) and columns (ne[0]) of every tensor of the model.
fn grid(model: &Model) -> BTreeMap<String, (i64, i64)> {
    model.tensors().unwrap().iter().map(|t| (t.name.to_owned(), (t.n_elements / t.shape[0], t.shape[0]))).collect()
}

/// Every tensor is either whole on every device (replicated) or cut into rectangles that
/// cover its rows x columns exactly once; every part is in bounds and on a device 0..n.
fn assert_exact_cover(model: &Model, parts: &[LoadPart], n_devices: i32, what: &str) {
    let grid = grid(model);
    let mut by_tensor: BTreeMap<&str, Vec<(i32, [i64; 4])>> = BTreeMap::new();
    for p in parts {
        let &(rows, cols) = grid.get(&p.name).unwrap_or_else(|| panic!("{what}: part of unknown tensor {}", p.name));
        let end = |e: i64, n: i64| if e < 0 { n } else { e };
        let r = [p.row_begin, end(p.row_end, rows), p.col_begin, end(p.col_end, cols)];
        assert!((0..n_devices).contains(&p.device), "{what}: {} on device {}", p.name, p.device);
        assert!(0 <= r[0] && r[0] < r[1] && r[1] <= rows && 0 <= r[2] && r[2] < r[3] && r[3] <= cols,
                "{what}: {} part {r:?} outside {rows}x{cols}", p.name);
        by_tensor.entry(&p.name).or_default().push((p.device, r));
    }
    for (name, &(rows, cols)) in &grid {
        let ps = by_tensor.get(name.as_str()).unwrap_or_else(|| panic!("{what}: tensor {name} has no part"));
        let whole = |r: &[i64; 4]| *r == [0, rows, 0, cols];
        if ps.iter().all(|(_, r)| whole(r)) {
            // Replicated to every device, or (layers) whole on exactly one.
            let mut devs: Vec<i32> = ps.iter().map(|(d, _)| *d).collect();
            devs.sort();
            devs.dedup();
            assert_eq!(devs.len(), ps.len(), "{what}: {name} twice on one device");
            assert!(ps.len() == 1 || ps.len() == n_devices as usize, "{what}: {name} on {} devices", ps.len());
            continue;
        }
        let area: i64 = ps.iter().map(|(_, r)| (r[1] - r[0]) * (r[3] - r[2])).sum();
        assert_eq!(area, rows * cols, "{what}: parts of {name} do not add up to {rows}x{cols}: {ps:?}");
        for (i, (_, a)) in ps.iter().enumerate() {
            for (_, b) in &ps[i + 1..] {
                let overlap = a[0] < b[1] && b[0] < a[1] && a[2] < b[3] && b[2] < a[3];
                assert!(!overlap, "{what}: parts {a:?} and {b:?} of {name} overlap");
            }
        }
    }
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// Loads `parts` to `devices` as f32 and checks each loaded part against the same rows and
/// columns of a whole-tensor host load. Returns the number of parts checked.
fn load_and_compare(ctx: &Context, model: &Model, devices: &[Location], parts: Vec<LoadPart>, what: &str) -> usize {
    let whole = ctx.load(model, &LoadOptions::default().output(OutputType::F32)).unwrap();
    let n_parts = parts.len();
    let opts = LoadOptions::default().output(OutputType::F32).devices(devices.iter().cloned()).parts(parts);
    let loaded = ctx.load(model, &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(loaded.len(), n_parts, "{what}: one loaded tensor per part");
    assert_eq!(loaded.device_count(), devices.len(), "{what}");
    let mut per_device_tensors = 0;
    for d in 0..loaded.device_count() {
        per_device_tensors += loaded.device_stats(d).unwrap().tensors;
    }
    assert_eq!(per_device_tensors, n_parts as i64, "{what}: device stats do not add up");
    assert!(loaded.device_stats(devices.len()).is_err(), "{what}: a device index past the end is refused");
    for t in loaded.tensors().unwrap() {
        let reference = f32s(whole.tensor(t.name).unwrap().host_bytes().unwrap());
        let cols_all = whole.tensor(t.name).unwrap().shape[0];
        let (rows, cols) = (t.row_end - t.row_begin, t.col_end - t.col_begin);
        assert_eq!(t.n_elements, rows * cols, "{what}: {} shape", t.name);
        assert_eq!(t.location_backend, devices[t.device_index as usize].backend(), "{what}: {}", t.name);
        let mut bytes = vec![0u8; t.n_bytes as usize];
        t.copy_to_host(&mut bytes).unwrap();
        let got = f32s(&bytes);
        for r in 0..rows {
            let want = &reference[((t.row_begin + r) * cols_all + t.col_begin) as usize..][..cols as usize];
            let have = &got[(r * cols) as usize..][..cols as usize];
            assert!(want.iter().zip(have).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{what}: {} row {} of part rows [{}, {}) columns [{}, {}) differs", t.name, t.row_begin + r,
                    t.row_begin, t.row_end, t.col_begin, t.col_end);
        }
    }
    n_parts
}

#[test]
fn tensor_parallel_plan_covers_every_row_once_and_loads_to_two_devices() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let devices = two_devices(&ctx);
    for file in TP_MODELS {
        let model = Model::open(&ctx, dir.join(file)).unwrap();
        let parts = ctx.plan_tensor_parallel(&model, 2, None).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_exact_cover(&model, &parts, 2, file);
        assert!(parts.iter().any(|p| p.col_end >= 0), "{file}: no column split (attn_output/ffn_down)");
        assert!(parts.iter().any(|p| p.row_end >= 0), "{file}: no row split (attn_q, ffn_up, ...)");

        // Rank 1 alone: the parts of device 1 of the full plan, moved to device 0.
        let rank1 = ctx.plan_tensor_parallel(&model, 2, Some(1)).unwrap();
        let expected: Vec<LoadPart> =
            parts.iter().filter(|p| p.device == 1).map(|p| LoadPart { device: 0, ..p.clone() }).collect();
        assert_eq!(rank1, expected, "{file}: rank 1's plan");

        assert!(load_and_compare(&ctx, &model, &devices, parts, file) > 0);
    }
}

#[test]
fn layer_plan_puts_each_tensor_whole_on_one_device() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let devices = two_devices(&ctx);
    let model = Model::open(&ctx, dir.join("stories260K-q4_k_m.gguf")).unwrap();
    let parts = ctx.plan_layers(&model, 2).unwrap();
    assert_exact_cover(&model, &parts, 2, "layers");
    assert_eq!(parts.len() as i64, model.tensor_count(), "one whole part per tensor");
    let device_of = |name: &str| parts.iter().find(|p| p.name == name).unwrap().device;
    assert_eq!(device_of("token_embd.weight"), 0);
    assert_eq!(device_of("output_norm.weight"), 1);
    assert_eq!(device_of("blk.0.attn_norm.weight"), 0);
    load_and_compare(&ctx, &model, &devices, parts, "layers");
}

#[test]
fn plans_refuse_what_cannot_be_cut_naming_the_tensor() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("mini-llama-q4_k_m.gguf")).unwrap();
    // 256 columns of q4_K cannot be halved at whole 256-element blocks.
    let e = ctx.plan_tensor_parallel(&model, 2, None).unwrap_err();
    assert_eq!(e.status(), Status::SIZE, "{e}");
    assert!(e.message().contains("tensor ") && e.message().contains("block size"), "message: {}", e.message());
    assert_eq!(ctx.plan_layers(&model, 0).unwrap_err().status(), Status::INVALID_ARGUMENT);
    assert_eq!(ctx.plan_tensor_parallel(&model, 2, Some(2)).unwrap_err().status(), Status::INVALID_ARGUMENT);
}

#[test]
fn hand_made_column_part_to_host() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("stories260K.gguf")).unwrap();
    let t = model.tensors().unwrap().into_iter().find(|t| t.shape.len() == 2 && t.shape[0] >= 4).unwrap();
    let (name, half) = (t.name.to_owned(), t.shape[0] / 2);
    let parts = vec![LoadPart::whole(&name, 0).columns(0, half), LoadPart::whole(&name, 1).columns(half, -1).rows(1, 3)];
    assert_eq!(load_and_compare(&ctx, &model, &[Location::host(), Location::host()], parts, "column parts"), 2);
    assert_eq!(load_and_compare(&ctx, &model, &[Location::host()], vec![LoadPart::whole(&name, 0).columns(half, -1)],
                                "one column part, one device"), 1);
    // One tensor twice on one device is refused, naming it.
    let opts = LoadOptions::default().parts([LoadPart::whole(&name, 0).rows(0, 1), LoadPart::whole(&name, 0).rows(1, 2)]);
    let e = ctx.load(&model, &opts).unwrap_err();
    assert!(e.message().contains(&name), "message: {}", e.message());
    // An empty placement is refused (not read as "every tensor").
    let e = ctx.load(&model, &LoadOptions::default().parts([])).unwrap_err();
    assert_eq!(e.status(), Status::INVALID_ARGUMENT, "{e}");
    // Parts with names together are refused.
    let opts = LoadOptions::default().names([name.clone()]).parts([LoadPart::whole(&name, 0)]);
    assert!(ctx.load(&model, &opts).is_err(), "names and parts together must be refused");
}
