//! `Context::dequantize_batch`: the same values as one call per tensor, a bad request refused
//! before anything runs with the library's message naming its index, the empty batch.
mod common;

use common::*;
use dq::{BatchRequest, Context, DeviceBuffer, Location, Model, Status, Type};

/// Types nothing dequantizes (integers, f64): the batch would refuse them.
fn dequantizable(t: Type) -> bool {
    !matches!(t.0, 24..=28)
}

#[test]
fn batch_equals_one_call_per_tensor() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("all-types.gguf")).unwrap();
    let tensors: Vec<_> = model.tensors().unwrap().into_iter().filter(|t| dequantizable(t.ty)).collect();
    assert!(tensors.len() >= 5, "all-types.gguf holds {} dequantizable tensors", tensors.len());
    let types: std::collections::BTreeSet<i32> = tensors.iter().map(|t| t.ty.0).collect();
    assert!(types.contains(&Type::Q4_K.0) && types.contains(&Type::Q8_0.0), "types: {types:?}");

    // f32 for every tensor, f16 and bf16 bits for every other one: mixed outputs in one batch.
    let mut f32_out: Vec<Vec<f32>> = tensors.iter().map(|t| vec![f32::NAN; t.n_elements as usize]).collect();
    let mut f16_out: Vec<Vec<u16>> = tensors.iter().step_by(2).map(|t| vec![0xffff; t.n_elements as usize]).collect();
    let mut bf16_out: Vec<Vec<u16>> =
        tensors.iter().skip(1).step_by(2).map(|t| vec![0xffff; t.n_elements as usize]).collect();
    {
        let mut reqs: Vec<BatchRequest<'_>> =
            tensors.iter().zip(f32_out.iter_mut()).map(|(t, o)| BatchRequest::host(t.ty, t.data, o)).collect();
        reqs.extend(tensors.iter().step_by(2).zip(f16_out.iter_mut()).map(|(t, o)| BatchRequest::host_f16_bits(t.ty, t.data, o)));
        reqs.extend(
            tensors.iter().skip(1).step_by(2).zip(bf16_out.iter_mut()).map(|(t, o)| BatchRequest::host_bf16_bits(t.ty, t.data, o)),
        );
        ctx.dequantize_batch(&mut reqs).unwrap();
    }
    for (i, t) in tensors.iter().enumerate() {
        let mut one = vec![0f32; t.n_elements as usize];
        ctx.dequantize(t.ty, t.data, &mut one).unwrap();
        assert!(bitwise_eq(&one, &f32_out[i]), "{}: batch f32 differs from dq_dequantize", t.name);
        let mut bits = vec![0u16; t.n_elements as usize];
        if i % 2 == 0 {
            ctx.dequantize_f16_bits(t.ty, t.data, &mut bits).unwrap();
            assert_eq!(bits, f16_out[i / 2], "{}: batch f16 differs", t.name);
        } else {
            ctx.dequantize_bf16_bits(t.ty, t.data, &mut bits).unwrap();
            assert_eq!(bits, bf16_out[i / 2], "{}: batch bf16 differs", t.name);
        }
    }
}

fn bitwise_eq(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn bad_request_is_refused_naming_its_index_and_nothing_runs() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("all-types.gguf")).unwrap();
    let t = model.tensors().unwrap().into_iter().find(|t| t.ty == Type::Q4_K).expect("a q4_K tensor");
    let mut good = vec![7.0f32; t.n_elements as usize];
    let mut also_good = vec![7.0f32; t.n_elements as usize];
    let mut bad = vec![7.0f32; 100]; // not a multiple of q4_K's 256-element block
    let mut reqs = vec![
        BatchRequest::host(t.ty, t.data, &mut good),
        BatchRequest::host(t.ty, t.data, &mut also_good),
        BatchRequest::host(t.ty, t.data, &mut bad),
    ];
    let e = ctx.dequantize_batch(&mut reqs).unwrap_err();
    drop(reqs);
    assert_eq!(e.status(), Status::SIZE, "{e}");
    assert!(e.message().contains("dq_dequantize_batch") && e.message().contains("request 2"), "message: {}", e.message());
    assert!(good.iter().chain(&also_good).chain(&bad).all(|&x| x == 7.0), "a refused batch wrote its outputs");

    // A source too short for its elements, at index 0.
    let mut out = vec![0f32; 256];
    let e = ctx.dequantize_batch(&mut [BatchRequest::host(Type::Q6_K, &[0u8; 10], &mut out)]).unwrap_err();
    assert_eq!(e.status(), Status::SIZE, "{e}");
    assert!(e.message().contains("request 0"), "message: {}", e.message());
}

#[test]
fn empty_batch_does_nothing() {
    let ctx = Context::new().unwrap();
    ctx.dequantize_batch(&mut []).unwrap();
    // SAFETY: no request, nothing to point at.
    unsafe { ctx.dequantize_batch_raw(&[]) }.unwrap();
}

/// DeviceBuffer requests: host buffers here, and cuda:0 buffers when there is a GPU.
#[test]
fn batch_of_device_buffers_equals_host_batch() {
    let Some(dir) = testdata() else { return };
    let ctx = Context::new().unwrap();
    let model = Model::open(&ctx, dir.join("all-types.gguf")).unwrap();
    let t = model.tensors().unwrap().into_iter().find(|t| t.ty == Type::Q6_K).expect("a q6_K tensor");
    let n = t.n_elements as usize;
    let mut expected = vec![0f32; n];
    ctx.dequantize(t.ty, t.data, &mut expected).unwrap();

    let mut places = vec![Location::host()];
    match ctx.backend_find("cuda").map(|i| ctx.backend(i).unwrap()) {
        Some(b) if b.loaded && b.device_count > 0 => places.push(Location::device("cuda", 0).unwrap()),
        _ => eprintln!("skipped: cuda part of batch_of_device_buffers_equals_host_batch: no cuda device"),
    }
    for place in places {
        let mut src = DeviceBuffer::new(&ctx, place.clone(), t.data.len()).unwrap();
        src.copy_from_host(t.data).unwrap();
        let mut dst = DeviceBuffer::new(&ctx, place.clone(), n * 4).unwrap();
        ctx.dequantize_batch(&mut [BatchRequest::buffers(t.ty, &src, Type::F32, &mut dst, n as i64)]).unwrap();
        let mut got = vec![0u8; n * 4];
        dst.copy_to_host(&mut got).unwrap();
        let got: Vec<f32> = got.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if place.is_host() {
            assert!(bitwise_eq(&got, &expected), "{} at host: differs", t.name);
        } else {
            // Another backend: within the goldens' tolerance of the CPU plugin's values.
            let worst = got.iter().zip(&expected).map(|(a, b)| (a - b).abs() / b.abs().max(1e-3)).fold(0f32, f32::max);
            assert!(worst < 1e-5, "{} at {}:0: relative difference {worst}", t.name, place.backend());
        }
    }
}
