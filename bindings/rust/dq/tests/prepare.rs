//! `Context::prepare_load` (`dq_load_prepare`): a load after the hint gives the same bytes as
//! one without it, and the hint refuses only options the load refuses too. The device is the
//! fake asynchronous device of the C++ tests when the library finds it (DQ_PLUGIN_PATH=
//! <build>/tests/loader/fakeplugins, with DQ_FAKEASYNC_HOST_REGISTER=1 for a ring to prepare),
//! else cuda:0 when there is one, else host memory (where the hint does nothing).
mod common;

use common::*;
use dq::{Context, LoadOptions, LoadedModel, Location, Model, OutputType, Status};

fn device(ctx: &Context) -> Location {
    for name in ["fakeasync", "cuda"] {
        if let Some(b) = ctx.backend_find(name).map(|i| ctx.backend(i).unwrap()) {
            if b.loaded && b.device_count > 0 {
                eprintln!("device: {name}:0");
                return Location::device(name, 0).unwrap();
            }
        }
    }
    eprintln!("device: host (no fakeasync or cuda device)");
    Location::host()
}

/// Every tensor's name and bytes, copied to the host.
fn bytes_of(loaded: &LoadedModel) -> Vec<(String, Vec<u8>)> {
    loaded
        .tensors()
        .unwrap()
        .iter()
        .map(|t| {
            let mut b = vec![0u8; t.n_bytes as usize];
            t.copy_to_host(&mut b).unwrap();
            (t.name.to_owned(), b)
        })
        .collect()
}

#[test]
fn a_load_after_the_hint_gives_the_same_bytes() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("mini-llama-q4_k_m.gguf")).unwrap();
    let opts = LoadOptions::default().device(device(&ctx)).output(OutputType::F32);
    let without = bytes_of(&ctx.load(&model, &opts).unwrap());
    ctx.prepare_load(&model, &opts).unwrap();
    let with = bytes_of(&ctx.load(&model, &opts).unwrap());
    assert_eq!(with.len() as i64, model.tensor_count());
    assert!(with == without, "a load after prepare_load differs from one without");
    // Both against the host: the device path gives the CPU's values.
    let host = bytes_of(&ctx.load(&model, &LoadOptions::default().output(OutputType::F32)).unwrap());
    assert!(with == host, "the device load differs from the host load");
    // A hint whose load never comes (or comes with other options) is harmless.
    ctx.prepare_load(&model, &opts.clone().output(OutputType::F16)).unwrap();
    ctx.prepare_load(&model, &LoadOptions::default()).unwrap(); // host: nothing to prepare
}

#[test]
fn the_hint_refuses_what_the_load_refuses_and_nothing_else() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("all-types.gguf")).unwrap();
    let cuda = Location::parse("cuda:0").unwrap();
    let small = LoadOptions { staging_budget: 4096, ..LoadOptions::default().device(cuda.clone()) };
    let e = ctx.prepare_load(&model, &small).unwrap_err();
    assert_eq!(e.status(), Status::SIZE, "{e}");
    assert!(e.message().contains("staging_budget of 4096 bytes"), "{}", e.message());
    let threads = LoadOptions { copy_threads: -1, ..LoadOptions::default().device(cuda.clone()) };
    let e = ctx.prepare_load(&model, &threads).unwrap_err();
    assert_eq!(e.status(), Status::INVALID_ARGUMENT, "{e}");
    assert!(e.message().contains("copy_threads"), "{}", e.message());
    let e = ctx.prepare_load(&model, &LoadOptions::default().names(["a\0b"])).unwrap_err();
    assert_eq!(e.status(), Status::INVALID_ARGUMENT, "{e}");
    // A destination the load would refuse is the load's error to report, not the hint's.
    let nowhere = LoadOptions::default().device(Location::device("no-such-backend", 7).unwrap());
    ctx.prepare_load(&model, &nowhere).unwrap();
    assert!(ctx.load(&model, &nowhere).is_err());
}
