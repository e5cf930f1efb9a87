//! Every tensor of the shared test data, dequantized through the safe API, equals its golden
//! output: f32 bit for bit, and f16 / bf16 as the golden values rounded to nearest-even, bits
//! compared. The files are split over two threads sharing one Context and one Model per file
//! (Context and Model are Sync).
mod common;

use common::*;
use dq::{Context, Model, Type};
use std::collections::BTreeMap;

fn check_file(ctx: &Context, dir: &std::path::Path, file: &str, rows: &[&GoldenRow]) -> Vec<String> {
    let model = Model::open(ctx, dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut failures = Vec::new();
    for row in rows {
        let t = model.tensor(&row.tensor).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((t.ty, t.n_elements as usize), (Type(row.type_id), row.n_elements), "{file} {}", row.tensor);
        let golden = read_f32(&dir.join(&row.golden));
        let mut f32_out = vec![0f32; t.n_elements as usize];
        ctx.dequantize(t.ty, t.data, &mut f32_out).unwrap_or_else(|e| panic!("{file} {}: {e}", row.tensor));
        if f32_out.iter().zip(&golden).any(|(a, b)| a.to_bits() != b.to_bits()) {
            failures.push(format!("{file} {} ({:?}): f32 differs from the golden", row.tensor, t.ty));
        }
        let mut bits = vec![0u16; t.n_elements as usize];
        ctx.dequantize_f16_bits(t.ty, t.data, &mut bits).unwrap();
        if bits.iter().zip(&golden).any(|(a, g)| *a != f32_to_f16_bits(*g)) {
            failures.push(format!("{file} {} ({:?}): f16 bits differ from the rounded golden", row.tensor, t.ty));
        }
        ctx.dequantize_bf16_bits(t.ty, t.data, &mut bits).unwrap();
        if bits.iter().zip(&golden).any(|(a, g)| *a != f32_to_bf16_bits(*g)) {
            failures.push(format!("{file} {} ({:?}): bf16 bits differ from the rounded golden", row.tensor, t.ty));
        }
        #[cfg(feature = "half")]
        {
            let mut h = vec![half::f16::ZERO; t.n_elements as usize];
            ctx.dequantize(t.ty, t.data, &mut h).unwrap();
            if h.iter().zip(&golden).any(|(a, g)| a.to_bits() != f32_to_f16_bits(*g)) {
                failures.push(format!("{file} {}: half::f16 output differs", row.tensor));
            }
            let mut b = vec![half::bf16::ZERO; t.n_elements as usize];
            ctx.dequantize(t.ty, t.data, &mut b).unwrap();
            if b.iter().zip(&golden).any(|(a, g)| a.to_bits() != f32_to_bf16_bits(*g)) {
                failures.push(format!("{file} {}: half::bf16 output differs", row.tensor));
            }
        }
    }
    failures
}

#[test]
fn every_tensor_equals_the_golden_in_f32_f16_and_bf16() {
    let Some(dir) = testdata() else { return };
    let rows = golden_rows(&dir);
    let mut by_file: BTreeMap<&str, Vec<&GoldenRow>> = BTreeMap::new();
    for r in &rows {
        by_file.entry(r.file.as_str()).or_default().push(r);
    }
    let ctx = Context::new().unwrap();
    let files: Vec<_> = by_file.into_iter().collect();
    let (a, b) = files.split_at(files.len() / 2);
    let failures: Vec<String> = std::thread::scope(|s| {
        let h1 = s.spawn(|| a.iter().flat_map(|(f, r)| check_file(&ctx, &dir, f, r)).collect::<Vec<_>>());
        let h2 = s.spawn(|| b.iter().flat_map(|(f, r)| check_file(&ctx, &dir, f, r)).collect::<Vec<_>>());
        let mut v = h1.join().unwrap();
        v.extend(h2.join().unwrap());
        v
    });
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    assert!(rows.len() >= 190, "only {} golden tensors in the manifest", rows.len());
    eprintln!("{} tensors equal their goldens (f32, f16, bf16)", rows.len());
}

#[test]
fn rounding_reference_is_right() {
    // The reference rounding itself, on values whose answers are known.
    assert_eq!(f32_to_f16_bits(1.0), 0x3c00);
    assert_eq!(f32_to_f16_bits(65504.0), 0x7bff);
    assert_eq!(f32_to_f16_bits(65520.0), 0x7c00); // ties to even -> inf
    assert_eq!(f32_to_f16_bits(5.960_464_5e-8), 0x0001); // smallest subnormal
    assert_eq!(f32_to_f16_bits(2.980_232_2e-8), 0x0000); // half of it: tie to even (0)
    assert_eq!(f32_to_f16_bits(-0.0), 0x8000);
    assert_eq!(f32_to_f16_bits(1.0 + 1.0 / 2048.0), 0x3c00); // tie, even stays
    assert_eq!(f32_to_f16_bits(1.0 + 3.0 / 2048.0), 0x3c02); // tie, odd rounds up
    assert_eq!(f32_to_bf16_bits(1.0), 0x3f80);
    assert_eq!(f32_to_bf16_bits(f32::from_bits(0x3f80_8000)), 0x3f80);
    assert_eq!(f32_to_bf16_bits(f32::from_bits(0x3f81_8000)), 0x3f82);
    assert_eq!(f32_to_bf16_bits(f32::INFINITY), 0x7f80);
}
