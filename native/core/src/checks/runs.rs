//! Assessments that outlive one call: the PowerShell side runs the checks one at a time (to
//! show progress and stop on Ctrl+C) against one shared [`Sources`], then writes the reports.

use super::{CheckId, Finding, Options, Sources, run_check};
use crate::error::{Error, Result};
use crate::report::Assessment;
use crate::signins::Context;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// Assessments kept at most; starting another forgets the oldest.
const MAX_RUNS: usize = 16;

struct Run {
    sources: Arc<Sources>,
    findings: Mutex<Vec<Finding>>,
    started: u64,
}

#[derive(Default)]
pub struct Assessments {
    runs: Mutex<HashMap<String, Arc<Run>>>,
    counter: Mutex<u64>,
}

impl Assessments {
    /// Starts an assessment; returns its id and the checks it will run, in order.
    pub fn start(&self, ctx: Context, options: Options) -> Result<(String, Vec<CheckId>)> {
        let options = options.validated()?;
        let checks = options.checks.clone();
        let started = {
            let mut c = self.counter.lock();
            *c += 1;
            *c
        };
        let run = Arc::new(Run { sources: Arc::new(Sources::new(ctx, options)), findings: Mutex::new(Vec::new()), started });
        let id = uuid::Uuid::new_v4().to_string();
        let mut runs = self.runs.lock();
        if runs.len() >= MAX_RUNS
            && let Some(oldest) = runs.iter().min_by_key(|(_, r)| r.started).map(|(k, _)| k.clone())
        {
            runs.remove(&oldest);
        }
        runs.insert(id.clone(), run);
        Ok((id, checks))
    }

    fn run(&self, id: &str) -> Result<Arc<Run>> {
        self.runs.lock().get(id).cloned().ok_or_else(|| Error::invalid_input("AssessmentId", format!("no assessment '{}' is open (it was closed or forgotten)", id.chars().take(40).collect::<String>())))
    }

    /// Runs one check of an assessment; its findings are also kept for the reports.
    pub async fn run_check(&self, id: &str, check: CheckId) -> Result<Vec<Finding>> {
        let run = self.run(id)?;
        let findings = run_check(check, &run.sources).await;
        run.findings.lock().extend(findings.iter().cloned());
        Ok(findings)
    }

    /// The assessment so far, for the reports.
    pub fn assessment(&self, id: &str) -> Result<Assessment> {
        let run = self.run(id)?;
        let findings = run.findings.lock().clone();
        let mut checks: Vec<CheckId> = findings.iter().map(|f| f.check).collect();
        checks.sort();
        checks.dedup();
        Ok(Assessment { tenant: run.sources.tenant(), generated_at: chrono::Utc::now(), checks, findings })
    }

    pub fn close(&self, id: &str) -> bool {
        self.runs.lock().remove(id).is_some()
    }
}
