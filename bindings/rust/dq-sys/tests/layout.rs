//! The Rust declarations must lay out every struct exactly as the C compiler does, and every
//! constant must have the header's value. This test writes a C program that prints sizeof,
//! _Alignof, offsetof and field sizes from include/dq/dq.h (DQ_INCLUDE_DIR overrides the
//! folder), compiles it with the system C compiler ($CC, else cc) and compares line by line.
use dq_sys as sys;
use std::collections::BTreeMap;
use std::mem::{align_of, offset_of, size_of, size_of_val};
use std::path::PathBuf;
use std::process::Command;

/// (label, C expression, value on the Rust side)
type Checks = Vec<(String, String, i128)>;

/// Rust field names that are C keywords or Rust keywords carry a trailing `_`.
fn c_field(rust: &str) -> &str {
    rust.strip_suffix('_').unwrap_or(rust)
}

macro_rules! layout {
    ($checks:ident, $t:ident { $($f:ident),* $(,)? }) => {{
        let t = stringify!($t);
        $checks.push((format!("{t} size"), format!("sizeof({t})"), size_of::<sys::$t>() as i128));
        $checks.push((format!("{t} align"), format!("_Alignof({t})"), align_of::<sys::$t>() as i128));
        // Every field is all-zero-valid (integers, pointers, Option<fn>).
        let zero: sys::$t = unsafe { std::mem::zeroed() };
        $(
            let f = c_field(stringify!($f));
            $checks.push((format!("{t}.{f} offset"), format!("offsetof({t}, {f})"),
                          offset_of!(sys::$t, $f) as i128));
            $checks.push((format!("{t}.{f} size"), format!("sizeof((({t} *)0)->{f})"),
                          size_of_val(&zero.$f) as i128));
        )*
    }};
}

macro_rules! constants {
    ($checks:ident, $($c:ident),* $(,)?) => {
        $( $checks.push((stringify!($c).to_string(), format!("(long long)({})", stringify!($c)),
                         sys::$c as i128)); )*
    };
}

fn all_checks() -> Checks {
    let mut c = Checks::new();
    layout!(c, dq_backend_info { struct_size, name, path, description, abi_major, abi_minor, loaded,
                                 device_count, status });
    layout!(c, dq_device_info { struct_size, name, total_memory, free_memory, is_gpu });
    layout!(c, dq_location { backend, device });
    layout!(c, dq_dequantize_request { struct_size, src_type, dst_type, src, src_bytes, n_elements, dst,
                                       dst_bytes, src_where, dst_where, stream, backend });
    layout!(c, dq_tensor_info { struct_size, name, type_, n_dims, ne, n_elements, n_bytes, split,
                                file_offset, data });
    layout!(c, dq_load_options { struct_size, device, output_type, override_names, override_types,
                                 n_overrides, type_fn, type_user, names, n_names, row_begin, row_end,
                                 staging_budget, copy_threads, reserved0, gpu_min_bytes, progress,
                                 progress_user, buffer_fn, buffer_user, devices, n_devices, parts,
                                 n_parts });
    layout!(c, dq_load_part { struct_size, name, device, reserved, row_begin, row_end, col_begin,
                              col_end });
    layout!(c, dq_loaded_tensor { struct_size, name, data, where_, type_, src_type, n_dims, ne,
                                  n_elements, n_bytes, file_bytes, row_begin, row_end, backend,
                                  caller_owned, reserved, col_begin, col_end, device_index,
                                  reserved2 });
    layout!(c, dq_load_stats { struct_size, file_bytes, output_bytes, tensors, tensors_device,
                               tensors_cpu, tensors_copied, file_bytes_device, file_bytes_cpu,
                               file_bytes_copied, seconds_total, seconds_setup, seconds_pipeline,
                               staging_budget, staging_high_water, device_staging_bytes, chunks,
                               copy_threads, reserved, device_backend, copy_method,
                               seconds_setup_staging, seconds_setup_outputs, staging_pinned });
    constants!(c, DQ_VERSION_MAJOR, DQ_VERSION_MINOR, DQ_VERSION_PATCH, DQ_VERSION_NUMBER,
        DQ_OK, DQ_ERR_INVALID_ARGUMENT, DQ_ERR_UNKNOWN_TYPE, DQ_ERR_UNSUPPORTED, DQ_ERR_SIZE,
        DQ_ERR_NO_BACKEND, DQ_ERR_NO_DEVICE, DQ_ERR_OUT_OF_MEMORY, DQ_ERR_IO, DQ_ERR_BAD_FILE,
        DQ_ERR_NOT_FOUND, DQ_ERR_ABI, DQ_ERR_BACKEND, DQ_ERR_TYPE_MISMATCH, DQ_ERR_INTERNAL,
        DQ_TYPE_F32, DQ_TYPE_F16, DQ_TYPE_Q4_0, DQ_TYPE_Q4_1, DQ_TYPE_Q5_0, DQ_TYPE_Q5_1,
        DQ_TYPE_Q8_0, DQ_TYPE_Q8_1, DQ_TYPE_Q2_K, DQ_TYPE_Q3_K, DQ_TYPE_Q4_K, DQ_TYPE_Q5_K,
        DQ_TYPE_Q6_K, DQ_TYPE_Q8_K, DQ_TYPE_IQ2_XXS, DQ_TYPE_IQ2_XS, DQ_TYPE_IQ3_XXS,
        DQ_TYPE_IQ1_S, DQ_TYPE_IQ4_NL, DQ_TYPE_IQ3_S, DQ_TYPE_IQ2_S, DQ_TYPE_IQ4_XS, DQ_TYPE_I8,
        DQ_TYPE_I16, DQ_TYPE_I32, DQ_TYPE_I64, DQ_TYPE_F64, DQ_TYPE_IQ1_M, DQ_TYPE_BF16,
        DQ_TYPE_TQ1_0, DQ_TYPE_TQ2_0, DQ_TYPE_MXFP4, DQ_TYPE_NVFP4, DQ_TYPE_Q1_0, DQ_TYPE_Q2_0,
        DQ_TYPE_COUNT,
        DQ_VALUE_UINT8, DQ_VALUE_INT8, DQ_VALUE_UINT16, DQ_VALUE_INT16, DQ_VALUE_UINT32,
        DQ_VALUE_INT32, DQ_VALUE_FLOAT32, DQ_VALUE_BOOL, DQ_VALUE_STRING, DQ_VALUE_ARRAY,
        DQ_VALUE_UINT64, DQ_VALUE_INT64, DQ_VALUE_FLOAT64,
        DQ_LOAD_KEEP, DQ_LOAD_DEFAULT_BUDGET,
        DQ_BACKEND_INFO_MIN_SIZE, DQ_DEVICE_INFO_MIN_SIZE, DQ_TENSOR_INFO_MIN_SIZE,
        DQ_LOADED_TENSOR_MIN_SIZE, DQ_LOAD_STATS_MIN_SIZE, DQ_DEQUANTIZE_REQUEST_MIN_SIZE,
        DQ_LOAD_OPTIONS_MIN_SIZE, DQ_LOAD_PART_MIN_SIZE);
    // The C enums' own size: the functions take and return them by value.
    c.push(("sizeof(dq_status)".into(), "sizeof(dq_status)".into(), size_of::<sys::dq_status>() as i128));
    c.push(("sizeof(dq_value_type)".into(), "sizeof(dq_value_type)".into(),
            size_of::<sys::dq_value_type>() as i128));
    c
}

fn include_dir() -> PathBuf {
    match std::env::var_os("DQ_INCLUDE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../include"),
    }
}

/// Compiles and runs the C side; returns label -> value.
fn c_values(checks: &Checks) -> BTreeMap<String, i128> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = dir.join("dq_layout.c");
    let exe = dir.join("dq_layout");
    let mut prog = String::from("#include <stddef.h>\n#include <stdio.h>\n#include <dq/dq.h>\nint main(void) {\n");
    for (label, expr, _) in checks {
        prog += &format!("  printf(\"%s=%lld\\n\", \"{label}\", (long long)({expr}));\n");
    }
    prog += "  return 0;\n}\n";
    std::fs::write(&src, prog).expect("write the layout program");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .arg("-std=c11")
        .arg("-I")
        .arg(include_dir())
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler '{cc}': {e}"));
    assert!(status.success(), "the C compiler '{cc}' failed on {}", src.display());
    let out = Command::new(&exe).output().expect("run the layout program");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn structs_and_constants_match_the_c_headers() {
    let checks = all_checks();
    let c = c_values(&checks);
    assert_eq!(c.len(), checks.len(), "every check printed by the C program");
    let mismatches: Vec<String> = checks
        .iter()
        .filter(|(label, _, rust)| c[label] != *rust)
        .map(|(label, _, rust)| format!("{label}: C {} Rust {rust}", c[label]))
        .collect();
    assert!(mismatches.is_empty(), "Rust declarations differ from dq.h:\n{}", mismatches.join("\n"));
    // Sanity: the comparison really covered the structs (not an empty list).
    assert!(checks.len() > 200, "only {} checks", checks.len());
}

#[test]
fn linked_library_matches_the_header_version() {
    // The library found at build time is the one these declarations were written for.
    let v = unsafe { sys::dq_version_number() };
    assert_eq!(v / 10000, sys::DQ_VERSION_MAJOR, "library version {v}");
}
