//! Panic containment: a panic must never unwind into the .NET host (it would abort pwsh).
//! interoptopus 0.16 does not catch panics in synchronous service methods, and turns a panic in
//! an async method into a bare cancellation; both paths go through here instead.

use crate::reply::Reply;
use futures::FutureExt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no detail".to_owned());
    format!("a panic was caught at the FFI boundary ({detail}); the session is still usable")
}

pub fn sync(body: impl FnOnce() -> Reply) -> Reply {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Reply::internal(panic_message(payload)))
}

/// Like [`sync`] for bodies written with `?`: an error becomes the error reply.
pub fn sync_result(body: impl FnOnce() -> partnersecurity_core::Result<Reply>) -> Reply {
    sync(|| body().into())
}

pub async fn async_(body: impl Future<Output = Reply>) -> Reply {
    AssertUnwindSafe(body).catch_unwind().await.unwrap_or_else(|payload| Reply::internal(panic_message(payload)))
}

/// Like [`async_`] for bodies written with `?`: an error becomes the error reply.
pub async fn async_result(body: impl Future<Output = partnersecurity_core::Result<Reply>>) -> Reply {
    async_(async move { body.await.into() }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Status;

    #[test]
    fn a_panic_in_a_sync_call_becomes_an_internal_error() {
        let reply = sync(|| panic!("boom"));
        assert_eq!(reply.status, Status::Internal);
        assert!(reply.message.as_str().contains("boom"));
        assert!(reply.message.as_str().contains("still usable"));
    }

    #[test]
    fn a_panic_in_an_async_call_becomes_an_internal_error() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let reply = runtime.block_on(async_(async { panic!("async boom") }));
        assert_eq!(reply.status, Status::Internal);
        assert!(reply.message.as_str().contains("async boom"));
    }
}
