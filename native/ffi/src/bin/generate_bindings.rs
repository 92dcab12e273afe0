//! Writes the C# bindings (`bindings/csharp/Interop.cs`) from the FFI inventory.
//!
//!     cargo run -p partnersecurity-ffi --bin generate-bindings            # write
//!     cargo run -p partnersecurity-ffi --bin generate-bindings -- --check # fail on drift (CI)

use interoptopus_csharp::RustLibrary;
use interoptopus_csharp::dispatch::Dispatch;
use partnersecurity_native::ffi_inventory;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const NAMESPACE: &str = "PartnerSecurity.Native";
const DLL_NAME: &str = "partnersecurity_native";

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bindings/csharp");
    match run(&target, check) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("generate-bindings: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(target: &Path, check: bool) -> Result<String, String> {
    let scratch = tempdir()?;
    RustLibrary::builder(ffi_inventory())
        .dll_name(DLL_NAME)
        .dispatch(Dispatch::single_file(NAMESPACE))
        .build()
        .process()
        .map_err(|e| format!("generating failed: {e}"))?
        .write_buffers_to(scratch.to_str().ok_or("temporary path is not UTF-8")?)
        .map_err(|e| format!("writing failed: {e}"))?;
    let mut drifted = Vec::new();
    for entry in std::fs::read_dir(&scratch).map_err(|e| e.to_string())? {
        let generated = entry.map_err(|e| e.to_string())?.path();
        let name = generated.file_name().ok_or("no file name")?.to_owned();
        let committed = target.join(&name);
        let new_text = std::fs::read(&generated).map_err(|e| e.to_string())?;
        let old_text = std::fs::read(&committed).unwrap_or_default();
        if new_text != old_text {
            drifted.push(name.to_string_lossy().into_owned());
            if !check {
                std::fs::create_dir_all(target).map_err(|e| e.to_string())?;
                std::fs::write(&committed, &new_text).map_err(|e| format!("writing {}: {e}", committed.display()))?;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    match (check, drifted.is_empty()) {
        (_, true) => Ok("bindings are up to date".into()),
        (true, false) => Err(format!(
            "the committed bindings differ from the Rust source in: {}. Run `cargo run -p partnersecurity-ffi --bin generate-bindings` and commit the result.",
            drifted.join(", ")
        )),
        (false, false) => Ok(format!("updated: {}", drifted.join(", "))),
    }
}

fn tempdir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("partnersecurity-bindings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}
