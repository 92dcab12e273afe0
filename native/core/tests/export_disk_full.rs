//! An export whose disk fills up part-way, for real: this process runs under a file-size limit
//! (`RLIMIT_FSIZE`, with `SIGXFSZ` ignored, so a write past the limit fails with EFBIG as a write
//! to a full disk fails with ENOSPC). The limit is half of what the whole export writes, so it
//! strikes mid-page, after some pages are safely on disk.
//!
//! The export must stop with a `Storage` error naming the file, the system's reason and that
//! `-Resume` continues; the checkpoint must describe a prefix of the file made of whole records
//! (the half page written past it is garbage the resume cuts off); and once the limit is lifted
//! (the disk has room again) the resume must end with every sign-in exactly once.
//!
//! This file holds a single test on purpose: the limit applies to the whole process.
#![cfg(target_os = "linux")]

mod support;

use partnersecurity_core::signins::export::checkpoint_path;
use partnersecurity_core::signins::{Budget, ExportFormat, ExportRequest, FetchOptions, SignInQuery};
use partnersecurity_core::{ErrorKind, PartnerSecurity};
use partnersecurity_emulator::config::{EmulatorConfig, ScenarioSource};
use partnersecurity_emulator::server::serve;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

/// Sets the soft file-size limit of this process (bytes); returns the previous one.
fn limit_file_size(bytes: libc::rlim_t) -> libc::rlim_t {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls on a valid, owned struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0, "getrlimit");
        let previous = limit.rlim_cur;
        assert!(bytes <= limit.rlim_max, "the hard limit ({}) is below {bytes}", limit.rlim_max);
        limit.rlim_cur = bytes;
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0, "setrlimit");
        previous
    }
}

fn ids_of(text: &str) -> Vec<String> {
    text.lines().map(|l| serde_json::from_str::<Value>(l).expect("a whole JSON record per line")["Id"].as_str().expect("Id").to_owned()).collect()
}

fn assert_each_once(ids: &[String], what: &str) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{what}: a record was written twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_mid_export_stops_it_cleanly_and_resume_completes_once() {
    let emulator = serve(EmulatorConfig::new(ScenarioSource::Json(support::signins_scenario().to_string())).with_tls(true)).await.expect("emulator starts");
    let pem = emulator.certificate_pem.clone().expect("TLS certificate");
    let core: PartnerSecurity = support::connected(&emulator.base_url, &pem).await;
    let logs = core.sign_in_logs();
    let dir = tempfile::tempdir().expect("temp dir");
    let query = SignInQuery { options: FetchOptions { page_size: 100, budget: Budget { requests: 1000, window: Duration::from_secs(1) }, ..Default::default() }, ..Default::default() };
    let request = |path: &Path, resume: bool| ExportRequest { query: query.clone(), path: path.to_owned(), format: ExportFormat::Jsonl, resume, force: false };

    let out = dir.path().join("signins.jsonl");
    let cp = checkpoint_path(&out);
    // SAFETY: ignoring a signal is process-wide and harmless here; writes past the limit then
    // fail with EFBIG instead of the signal ending the process.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };

    // A disk already full when the export starts: not even the first checkpoint fits. Nothing
    // is left behind, so the advice (make room, run the command again) works as given.
    let previous = limit_file_size(100);
    let early = logs.start_export(core.sign_in_context().unwrap(), request(&out, false));
    limit_file_size(previous);
    let early = early.expect_err("the first checkpoint cannot be written");
    assert_eq!(early.kind(), ErrorKind::Storage, "{early}");
    let message = early.to_string();
    for fragment in ["Writing the checkpoint", &format!("'{}.tmp'", cp.display()), "File too large", "run the command again"] {
        assert!(message.contains(fragment), "the message should name {fragment:?}: {message}");
    }
    println!("at the start: {message}");
    assert!(!out.exists() && !cp.exists() && !cp.with_extension("json.tmp").exists(), "a failed start leaves no file behind");

    // The reference: the whole export with room to spare.
    let full = dir.path().join("reference.jsonl");
    let id = logs.start_export(core.sign_in_context().unwrap(), request(&full, false)).unwrap();
    let reference = logs.wait_export(&id).await.unwrap().expect("the reference export completes");
    let total_bytes = std::fs::metadata(&full).unwrap().len();
    let mut reference_ids = ids_of(&std::fs::read_to_string(&full).unwrap());
    assert_eq!(reference_ids.len() as u64, reference.records);
    assert!(reference.pages >= 6, "enough pages for the limit to strike mid-way ({} pages)", reference.pages);

    // The same export with room for half of it (run again as advised: no -Force needed).
    let limit = total_bytes / 2;
    let previous = limit_file_size(limit as libc::rlim_t);
    let outcome = async {
        let id = logs.start_export(core.sign_in_context().unwrap(), request(&out, false)).unwrap();
        logs.wait_export(&id).await.unwrap()
    }
    .await;
    limit_file_size(previous); // the disk has room again
    let error = outcome.expect_err("the export cannot fit in half the room");

    assert_eq!(error.kind(), ErrorKind::Storage, "{error}");
    assert_eq!(error.code().as_deref(), Some("StorageError"));
    let message = error.to_string();
    let named = format!("'{}'", out.display());
    for fragment in [named.as_str(), "Writing the output", "File too large", "-Resume", "nothing is lost"] {
        assert!(message.contains(fragment), "the message should name {fragment:?}: {message}");
    }
    println!("stopped: {message}");

    // The checkpoint describes a prefix of whole records; past it lies the half page that failed.
    let checkpoint: Value = serde_json::from_slice(&std::fs::read(&cp).expect("the checkpoint is kept")).expect("the checkpoint is whole JSON");
    let written = checkpoint["records"].as_u64().unwrap();
    let prefix = checkpoint["fileLength"].as_u64().unwrap();
    let on_disk = std::fs::read(&out).unwrap();
    assert!(written > 0 && written < reference.records, "some pages fitted, not all: {written} of {}", reference.records);
    assert_eq!(on_disk.len() as u64, limit, "the file ends at the limit, mid-page");
    assert!(prefix <= limit, "the checkpoint covers only what was written whole ({prefix} of {limit} bytes)");
    let kept = ids_of(std::str::from_utf8(&on_disk[..prefix as usize]).expect("UTF-8"));
    assert_eq!(kept.len() as u64, written, "the checkpointed prefix holds exactly the checkpointed records");
    assert_each_once(&kept, "the prefix");
    assert!(!on_disk[..prefix as usize].is_empty() && on_disk[prefix as usize - 1] == b'\n', "the prefix ends with a whole record");

    // A rerun without -Resume refuses to start over; with -Resume it completes.
    let refused = logs.start_export(core.sign_in_context().unwrap(), request(&out, false)).unwrap_err();
    assert!(refused.to_string().contains("-Resume"), "{refused}");
    let id = logs.start_export(core.sign_in_context().unwrap(), request(&out, true)).unwrap();
    let summary = logs.wait_export(&id).await.unwrap().expect("the resume completes once there is room");
    assert!(summary.resumed && summary.failures.is_empty());
    assert_eq!(summary.records, reference.records);
    assert_eq!(summary.records_this_run, reference.records - written, "the resume reads only what was missing");
    assert!(!cp.exists(), "a completed export removes its checkpoint");

    let mut resumed_ids = ids_of(&std::fs::read_to_string(&out).unwrap());
    assert_each_once(&resumed_ids, "the resumed export");
    resumed_ids.sort();
    reference_ids.sort();
    assert_eq!(resumed_ids, reference_ids, "the same sign-ins as the export that had room: 0 lost, 0 repeated");
    println!("limit {limit} of {total_bytes} bytes: {written} records kept at the stop, {} written by the resume, {} in all", summary.records_this_run, summary.records);
}
