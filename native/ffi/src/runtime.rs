//! The tokio runtime the async FFI calls run on.
//!
//! interoptopus' ready-made `rt::Tokio` is tokio's default, one worker thread per CPU. The work
//! here waits on Graph's throttle budget far more than it computes, and each worker costs memory
//! of its own (the pages it parses fill a malloc arena of its thread): an export of 200,000
//! sign-ins peaked 25-30 MB higher with 16 workers than with 2 (tests/bench, on 2 cores). Four
//! workers parse more pages per second than the most tenants a run reads at once (256) can
//! answer within Graph's budget. `TOKIO_WORKER_THREADS`, when set, still decides.

use interoptopus::pattern::asynk::{AsyncRuntime, TaskHandle};
use std::num::NonZeroUsize;

/// Most worker threads, whatever the CPU count.
pub const MAX_WORKERS: usize = 4;

/// Worker threads for a machine with `cpus` CPUs.
fn workers(cpus: usize) -> usize {
    cpus.clamp(1, MAX_WORKERS)
}

/// A multi-threaded tokio runtime of at most [`MAX_WORKERS`] workers.
pub struct Runtime {
    handle: tokio::runtime::Handle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Runtime {
    pub fn new() -> std::io::Result<Self> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.enable_all().thread_name("partnersec-rt");
        if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
            builder.worker_threads(workers(std::thread::available_parallelism().map_or(1, NonZeroUsize::get)));
        }
        let runtime = builder.build()?;
        Ok(Self { handle: runtime.handle().clone(), runtime: Some(runtime) })
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The service, and this runtime with it, may be dropped by the last task holding it, on
        // one of the runtime's own threads, where dropping a runtime panics; shutting down in the
        // background never blocks.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl AsyncRuntime for Runtime {
    type T = ();

    fn spawn<Fn, F>(&self, f: Fn) -> TaskHandle
    where
        Fn: FnOnce(Self::T) -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let join = self.handle.spawn(f(()));
        TaskHandle::from_handle(join.abort_handle(), tokio::task::AbortHandle::abort)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_follow_the_cpus_up_to_the_cap() {
        assert_eq!(workers(0), 1);
        assert_eq!(workers(1), 1);
        assert_eq!(workers(2), 2);
        assert_eq!(workers(MAX_WORKERS), MAX_WORKERS);
        assert_eq!(workers(64), MAX_WORKERS);
    }

    #[test]
    fn spawned_work_runs_on_at_most_the_capped_workers_and_dropping_inside_it_is_safe() {
        let runtime = std::sync::Arc::new(Runtime::new().unwrap());
        assert!(runtime.handle.metrics().num_workers() <= MAX_WORKERS);
        let (tx, rx) = std::sync::mpsc::channel();
        let last = runtime.clone();
        let _task = runtime.spawn(move |()| async move {
            tx.send(std::thread::current().name().map(str::to_owned)).unwrap();
            // The task holds the last reference and drops it on a worker thread.
            drop(last);
        });
        drop(runtime);
        let name = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert_eq!(name.as_deref(), Some("partnersec-rt"));
    }
}
