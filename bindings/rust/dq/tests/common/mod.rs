//! Shared by the integration tests: where the test data is, the golden manifest, and the
//! reference f32 -> f16 / bf16 rounding (nearest, ties to even) the goldens are defined by.
#![allow(dead_code)]
use std::path::PathBuf;

/// $DQ_TESTDATA, else ../shared/testdata beside the checkout; None (the test then says it
/// skipped) when neither holds the manifest.
pub fn testdata() -> Option<PathBuf> {
    let dir = std::env::var_os("DQ_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/testdata"));
    if dir.join("manifest.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: no test data at {} (set DQ_TESTDATA)", dir.display());
        None
    }
}

/// One row of manifest.tsv that has a golden file.
pub struct GoldenRow {
    pub file: String,
    pub tensor: String,
    pub type_id: i32,
    pub n_elements: usize,
    pub golden: String,
}

pub fn golden_rows(dir: &std::path::Path) -> Vec<GoldenRow> {
    let text = std::fs::read_to_string(dir.join("manifest.tsv")).expect("read manifest.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (file, tensor, type_id, n, golden) =
        (col("file"), col("tensor"), col("type_id"), col("n_elements"), col("golden"));
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f.len() > golden && !f[golden].is_empty())
        .map(|f| GoldenRow {
            file: f[file].into(),
            tensor: f[tensor].into(),
            type_id: f[type_id].parse().unwrap(),
            n_elements: f[n].parse().unwrap(),
            golden: f[golden].into(),
        })
        .collect()
}

pub fn read_f32(path: &std::path::Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// IEEE binary16 bits of x, rounded to nearest, ties to even (overflow gives inf).
pub fn f32_to_f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    let round = |r: u32, rem: u32, half: u32| if rem > half || (rem == half && r & 1 == 1) { r + 1 } else { r };
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        return sign | round(m >> shift, m & ((1 << shift) - 1), 1 << (shift - 1)) as u16;
    }
    // A carry out of the mantissa moves into the exponent (up to inf), as it should.
    sign | round(((e as u32) << 10) | (man >> 13), man & 0x1fff, 0x1000) as u16
}

/// bfloat16 bits of x, rounded to nearest, ties to even (no NaN in the test data).
pub fn f32_to_bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let (r, rem) = (b >> 16, b & 0xffff);
    (if rem > 0x8000 || (rem == 0x8000 && r & 1 == 1) { r + 1 } else { r }) as u16
}
