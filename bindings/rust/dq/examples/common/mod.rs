//! What the examples share: `main` runs the example and turns its error into one line on
//! stderr, prefixed with the example's name, and a failing exit status.
use std::process::ExitCode;

/// Runs `run` on the command line's arguments (program name left out); on an error prints
/// "`name`: error" to stderr and returns a failure.
pub fn main_of(name: &str, run: fn(&[String]) -> Result<(), String>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}
