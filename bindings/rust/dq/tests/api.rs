//! The safe API's contract: errors carry the status and the library's message, metadata and
//! zero-copy tensor bytes read right, the loader returns tensors and frees them on drop, and
//! the thread markers are as documented.
mod common;

use common::*;
use dq::{Context, LoadOptions, Loader, Location, Model, OutputType, Status, Type, ValueType};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

#[test]
fn thread_markers_follow_the_c_rules() {
    assert_send_sync::<Context>();
    assert_send_sync::<Model>();
    assert_send_sync::<dq::LoadedModel>();
    assert_send_sync::<dq::DeviceBuffer>();
    assert_send::<Loader>(); // not Sync: loads through it take &mut self
}

#[test]
fn error_of_a_missing_file_names_it_with_its_status() {
    let ctx = Context::new().unwrap();
    let e = Model::open(&ctx, "/nonexistent/dir/missing.gguf").expect_err("opening a missing file fails");
    assert_eq!(e.status(), Status::IO);
    assert!(e.message().contains("/nonexistent/dir/missing.gguf"), "message: {}", e.message());
    assert!(e.to_string().contains(Status::IO.description()), "display: {e}");
}

#[test]
fn error_of_a_too_small_source_carries_the_library_message() {
    let ctx = Context::new().unwrap();
    let src = vec![0u8; 10]; // far less than 256 Q6_K elements need (210 bytes)
    let mut out = vec![0f32; 256];
    let e = ctx.dequantize(Type::Q6_K, &src, &mut out).unwrap_err();
    assert_eq!(e.status(), Status::SIZE, "{e}");
    assert!(!e.message().is_empty() && e.message() != Status::SIZE.description(), "message: {}", e.message());
    // Not a block multiple.
    let mut out = vec![0f32; 100];
    let e = ctx.dequantize(Type::Q6_K, &vec![0u8; 210], &mut out).unwrap_err();
    assert_eq!(e.status(), Status::SIZE, "{e}");
    assert!(!e.message().is_empty());
    // Unknown type id.
    let e = ctx.dequantize(Type(4), &[0u8; 64], &mut [0f32; 32]).unwrap_err();
    assert_eq!(e.status(), Status::UNKNOWN_TYPE, "{e}");
}

#[test]
fn error_messages_are_per_thread() {
    // Two threads fail differently on one context at once; each gets its own message.
    let ctx = Context::new().unwrap();
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            (0..50).map(|_| Model::open(&ctx, "/nonexistent/a.gguf").err().unwrap().message().to_owned()).collect::<Vec<_>>()
        });
        let b = s.spawn(|| {
            (0..50).map(|_| Model::open(&ctx, "/nonexistent/b.gguf").err().unwrap().message().to_owned()).collect::<Vec<_>>()
        });
        assert!(a.join().unwrap().iter().all(|m| m.contains("a.gguf")));
        assert!(b.join().unwrap().iter().all(|m| m.contains("b.gguf")));
    });
}

#[test]
fn types_know_their_names_and_blocks() {
    assert_eq!(Type::Q6_K.name(), Some("q6_K"));
    assert_eq!(Type::from_name("Q8_0"), Some(Type::Q8_0));
    assert_eq!(Type::from_name("q4_2"), None);
    assert_eq!((Type::Q8_0.block_elements(), Type::Q8_0.block_bytes()), (32, 34));
    assert_eq!(Type::Q6_K.nbytes(512).unwrap(), 420);
    assert_eq!(Type::Q6_K.nbytes(100).unwrap_err().status(), Status::SIZE);
}

#[test]
fn metadata_and_zero_copy_tensor_bytes() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let path = dir.join("all-types.gguf");
    let model = Model::open(&ctx, &path).unwrap();
    assert_eq!(model.gguf_version(), 3);
    assert_eq!(model.get("test.u8").unwrap().as_u64().unwrap(), 200);
    assert_eq!(model.get("test.i64").unwrap().as_i64().unwrap(), -9_000_000_000_000_000_000);
    assert_eq!(model.get("test.u64").unwrap().as_u64().unwrap(), 18_000_000_000_000_000_000);
    assert!((model.get("test.f64").unwrap().as_f64().unwrap() - std::f64::consts::E).abs() < 1e-15);
    assert!(model.get("test.bool.true").unwrap().as_bool().unwrap());
    assert_eq!(model.get("general.architecture").unwrap().as_str().unwrap(), "dq-testdata");
    assert_eq!(model.get("test.str.empty").unwrap().as_str().unwrap(), "");
    let arr = model.get("test.arr.i32_1000").unwrap();
    assert_eq!((arr.value_type(), arr.array_type(), arr.array_len()), (ValueType::Array, ValueType::I32, 1000));
    assert_eq!(arr.array_data().unwrap().len(), 4000);
    // A getter of the wrong type is an error with its status.
    assert_eq!(model.get("general.architecture").unwrap().as_i64().unwrap_err().status(), Status::TYPE_MISMATCH);
    assert!(model.get("no.such.key").is_none());
    assert!(model.metadata().any(|(k, _)| k == "test.str"));

    // Zero-copy bytes are the file's bytes at file_offset, and read_tensor agrees.
    let file = std::fs::read(&path).unwrap();
    let t = model.tensor("t.q6_k").unwrap();
    assert_eq!((t.ty, t.shape.iter().product::<i64>()), (Type::Q6_K, t.n_elements));
    let at = t.file_offset as usize;
    assert_eq!(t.data, &file[at..at + t.n_bytes as usize]);
    let mut copy = vec![0u8; 100];
    model.read_tensor(t.index, 7, &mut copy).unwrap();
    assert_eq!(&copy[..], &t.data[7..107]);
    let e = model.tensor("t.nope").unwrap_err();
    assert_eq!(e.status(), Status::NOT_FOUND);
    assert!(e.message().contains("t.nope"));
    let e = model.read_tensor(t.index, t.n_bytes - 10, &mut copy).unwrap_err();
    assert_eq!(e.status(), Status::SIZE, "{e}");
}

#[test]
fn host_load_gives_golden_values_and_frees_on_drop() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("mini-llama-q4_k_m.gguf")).unwrap();
    let opts = LoadOptions::default().output(OutputType::F32);
    let loaded = ctx.load(&model, &opts).unwrap();
    assert_eq!(loaded.len() as i64, model.tensor_count());
    for t in loaded.tensors().unwrap() {
        let golden = read_f32(&dir.join(format!("golden/mini-llama-q4_k_m.{}.f32", t.name)));
        let bytes = t.host_bytes().expect("a host load is in host memory");
        let got: Vec<u32> = bytes.chunks_exact(4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).collect();
        assert_eq!(got, golden.iter().map(|g| g.to_bits()).collect::<Vec<_>>(), "{}", t.name);
        let mut head = [0u8; 8];
        t.copy_to_host(&mut head).unwrap();
        assert_eq!(&head, &bytes[..8]);
    }
    drop(loaded); // frees every buffer (valgrind in scripts/test.sh checks nothing leaks)

    // A reusable loader, named tensors, f16.
    let mut loader = Loader::new(&ctx, &LoadOptions::default()).unwrap();
    let names = ["output.weight", "blk.0.attn_q.weight"];
    let part = loader.load(&model, &LoadOptions::default().names(names)).unwrap();
    assert_eq!(part.len(), 2);
    let t = part.tensor("output.weight").unwrap();
    assert_eq!((t.ty, t.n_bytes), (Type::F16, t.n_elements as u64 * 2));
    let stats = part.stats().unwrap();
    assert_eq!(stats.tensors, 2);
    // An unknown name is refused with a message naming it.
    let e = loader.load(&model, &LoadOptions::default().names(["no.such.tensor"])).unwrap_err();
    assert_eq!(e.status(), Status::NOT_FOUND);
    assert!(e.message().contains("no.such.tensor"), "{}", e.message());
}

#[test]
fn device_load_on_cuda_or_skip_with_the_reason() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let usable = ctx.backend_find("cuda").map(|i| ctx.backend(i).unwrap());
    match usable {
        Some(b) if b.loaded && b.device_count > 0 => {
            let opts = LoadOptions::default().device(Location::parse("cuda:0").unwrap()).output(OutputType::F32);
            let loaded = ctx.load_file(dir.join("all-types.gguf"), &opts).unwrap();
            let t = loaded.tensor("t.q6_k").unwrap();
            assert!(!t.is_host());
            let mut bytes = vec![0u8; t.n_bytes as usize];
            t.copy_to_host(&mut bytes).unwrap();
            let golden = read_f32(&dir.join("golden/all-types.t.q6_k.f32"));
            let got: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
            assert_eq!(got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                       golden.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        }
        Some(b) => eprintln!("SKIPPED: cuda backend present but unusable: {} {}", b.status, b.path),
        None => {
            eprintln!("SKIPPED: no cuda backend on this machine");
            // The refusal itself is a clear error.
            let opts = LoadOptions::default().device(Location::parse("cuda:0").unwrap());
            let e = ctx.load_file(dir.join("all-types.gguf"), &opts).unwrap_err();
            assert!(matches!(e.status(), Status::NO_BACKEND | Status::NO_DEVICE), "{e}");
            assert!(e.message().contains("cuda"), "{}", e.message());
        }
    }
}

#[test]
fn location_parse() {
    assert!(Location::parse("cpu").unwrap().is_host());
    let l = Location::parse("cuda:1").unwrap();
    assert_eq!((l.backend(), l.device_index(), l.is_host()), ("cuda", 1, false));
    assert_eq!(Location::parse("cuda:x").unwrap_err().status(), Status::INVALID_ARGUMENT);
}

#[test]
fn loaded_tensor_fields_changed_by_safe_code_do_not_steer_its_reads() {
    // The public fields are a copy for reading: host_bytes/copy_to_host must use the library's
    // own pointer, size and location, else safe code could read any memory (n_bytes = 1 << 40).
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let loaded = ctx.load_file(dir.join("all-types.gguf"), &LoadOptions::default().output(OutputType::F32)).unwrap();
    let t = loaded.tensor("t.q6_k").unwrap();
    let real = t.host_bytes().unwrap().to_vec();
    assert_eq!(real.len() as u64, t.n_bytes);
    let mut changed = t.clone();
    changed.n_bytes = 0;
    changed.data = std::ptr::null_mut();
    changed.location_backend = "cuda";
    assert!(changed.is_host());
    assert_eq!(changed.host_bytes(), Some(&real[..]));
    let mut head = [0u8; 8];
    changed.copy_to_host(&mut head).unwrap();
    assert_eq!(&head, &real[..8]);
    // The bound is still the library's size.
    let mut too_many = vec![0u8; real.len() + 1];
    assert_eq!(changed.copy_to_host(&mut too_many).unwrap_err().status(), Status::SIZE);
}

#[test]
fn a_tensor_name_that_is_not_utf8_is_an_error_naming_it_not_an_empty_name() {
    // GGUF names are UTF-8 by the format, unchecked by the library: a copy of all-types.gguf
    // whose first tensor is named "t\xff.f32"... must not come back as the name "".
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let src = dir.join("all-types.gguf");
    let (name, data_at) = {
        let m = Model::open(&ctx, &src).unwrap();
        let t = m.tensor_at(0).unwrap();
        (t.name.to_owned(), t.file_offset as usize)
    };
    let mut bytes = std::fs::read(&src).unwrap();
    let mut key = (name.len() as u64).to_le_bytes().to_vec();
    key.extend_from_slice(name.as_bytes());
    // The tensor infos come last before the data: the last length-prefixed copy is the name.
    let at = bytes[..data_at].windows(key.len()).rposition(|w| w == key).expect("tensor 0's name") + 8;
    bytes[at + 1] = 0xff;
    let path = std::env::temp_dir().join(format!("dq-rust-badname-{}.gguf", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let model = Model::open(&ctx, &path).unwrap();
    let loaded = ctx.load(&model, &LoadOptions::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    for e in [model.tensor_at(0).unwrap_err(), model.tensors().unwrap_err(), loaded.tensor_at(0).unwrap_err()] {
        assert_eq!(e.status(), Status::BAD_FILE, "{e}");
        assert!(e.message().contains("tensor 0") && e.message().contains("not UTF-8"), "{}", e.message());
        assert!(e.message().contains(&name[2..]), "shows the name: {}", e.message());
    }
    // The other tensors still read.
    assert_eq!(model.tensor_at(1).unwrap().name, loaded.tensor_at(1).unwrap().name);
}

#[test]
fn a_name_holding_a_nul_is_refused_showing_which() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("all-types.gguf")).unwrap();
    let opts = LoadOptions::default().names(["t.f32", "t.q8\0_0", "t.f16"]);
    let loaded = ctx.load(&model, &LoadOptions::default().names(["t.f32"])).unwrap();
    for e in [ctx.load(&model, &opts).unwrap_err(), ctx.prepare_load(&model, &opts).unwrap_err(),
              model.tensor("t.q8\0_0").unwrap_err(), loaded.tensor("t.q8\0_0").unwrap_err()] {
        assert_eq!(e.status(), Status::INVALID_ARGUMENT, "{e}");
        assert!(e.message().contains(r"t.q8\0_0"), "names the culprit: {}", e.message());
    }
}

#[test]
fn a_metadata_key_that_is_not_utf8_keeps_its_bytes_in_metadata_raw() {
    // A copy of all-types.gguf whose first metadata key has a 0xff byte: metadata() shows it as
    // "", metadata_raw() gives the stored bytes, and the other keys are unchanged.
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let src = dir.join("all-types.gguf");
    let keys: Vec<Vec<u8>> = Model::open(&ctx, &src).unwrap().metadata_raw().map(|(k, _)| k.to_vec()).collect();
    assert!(!keys.is_empty() && keys[0].len() >= 2, "{keys:?}");
    let mut bytes = std::fs::read(&src).unwrap();
    let mut stored = (keys[0].len() as u64).to_le_bytes().to_vec();
    stored.extend_from_slice(&keys[0]);
    let at = bytes.windows(stored.len()).position(|w| w == stored).expect("key 0 in the header") + 8;
    bytes[at + 1] = 0xff;
    let path = std::env::temp_dir().join(format!("dq-rust-badkey-{}.gguf", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let model = Model::open(&ctx, &path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut expected = keys[0].clone();
    expected[1] = 0xff;
    let raw: Vec<Vec<u8>> = model.metadata_raw().map(|(k, _)| k.to_vec()).collect();
    assert_eq!(raw[0], expected);
    assert_eq!(raw[1..], keys[1..]);
    let shown: Vec<&str> = model.metadata().map(|(k, _)| k).collect();
    assert_eq!(shown[0], "");
    assert_eq!(shown[1..].iter().map(|k| k.as_bytes().to_vec()).collect::<Vec<_>>(), keys[1..]);
}
