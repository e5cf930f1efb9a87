//! Benchmarks only: see benches/dequantize.rs.
