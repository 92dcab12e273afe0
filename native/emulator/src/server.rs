//! Starting and stopping an emulator; the router that puts the services together.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::errors::EmulatorError;
use crate::keys::{KeyError, SigningKey};
use crate::scenario::Scenario;
use crate::state::{AppState, Emulator};
use crate::{control, faults, graph, partner_center, request_log, sts, tls};

/// A started emulator. Dropping it stops the server immediately; [`RunningEmulator::shutdown`]
/// stops it gracefully.
pub struct RunningEmulator {
    /// `http(s)://127.0.0.1:<port>` without a trailing slash.
    pub base_url: String,
    pub local_addr: SocketAddr,
    /// PEM of the CA that signed the server certificate (TLS mode only).
    pub certificate_pem: Option<String>,
    pub state: AppState,
    handle: Handle<SocketAddr>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// Stops accepting connections, lets in-flight requests finish (up to 2 s) and waits.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        self.handle.graceful_shutdown(Some(Duration::from_secs(2)));
        self.join().await
    }

    /// Waits until the server stops (after [`RunningEmulator::shutdown`] from elsewhere, or
    /// an I/O failure).
    pub async fn join(&mut self) -> Result<(), EmulatorError> {
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(EmulatorError::Io),
                Err(join) => Err(EmulatorError::Io(std::io::Error::other(join))),
            },
            None => Ok(()),
        }
    }

    pub fn handle(&self) -> Handle<SocketAddr> {
        self.handle.clone()
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.handle.shutdown();
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(sts::router())
        .nest("/graph", graph::router())
        .nest("/partnercenter", partner_center::router())
        .nest("/vault", crate::key_vault::router())
        .nest("/_emulator", control::router())
        .fallback(|| async { StatusCode::NOT_FOUND })
        // Data endpoints only (/graph, /partnercenter); inside the log so faults are logged.
        .layer(middleware::from_fn_with_state(state.clone(), faults::inject))
        .layer(middleware::from_fn(echo_client_request_id))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_log::record,
        ))
        .with_state(state)
}

/// Entra and Graph echo the caller's `client-request-id` (api-contracts §1.12).
async fn echo_client_request_id(request: Request, next: Next) -> Response {
    let id = request.headers().get("client-request-id").cloned();
    let mut response = next.run(request).await;
    if let Some(id) = id
        && !response.headers().contains_key("client-request-id")
    {
        response.headers_mut().insert("client-request-id", id);
    }
    response.into_response()
}

/// Binds, loads the scenario (with `{base}` replaced by the bound URL) and starts serving.
/// Returns once the listener is accepting connections.
pub async fn serve(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    // Both the TLS server and any in-process reqwest client use ring; a second install (from
    // another emulator or the test's client) reports Err, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let addr = SocketAddr::new(config.bind, config.port);
    let listener = std::net::TcpListener::bind(addr).map_err(|source| EmulatorError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    // axum-server registers the socket with tokio, which refuses blocking sockets.
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let base_url = base_url(config.tls, local_addr);

    let clock = Clock::new();
    let scenario = Scenario::load(&config.scenario.read()?, &base_url, clock.now())?;
    let keys = match config.signing_key {
        Some(k) => k,
        // RSA generation is CPU-heavy; keep it off the async workers.
        None => tokio::task::spawn_blocking(SigningKey::process_default)
            .await
            .map_err(|e| KeyError::Generate(e.to_string()))??,
    };
    let state: AppState = Arc::new(Emulator::new(base_url.clone(), scenario, clock, keys));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();

    let handle: Handle<SocketAddr> = Handle::new();
    let (task, certificate_pem) = if config.tls {
        let material = tls::generate()?;
        let rustls = RustlsConfig::from_pem(
            material.chain_pem.into_bytes(),
            material.key_pem.into_bytes(),
        )
        .await?;
        let server = axum_server::from_tcp_rustls(listener, rustls)?.handle(handle.clone());
        (tokio::spawn(server.serve(app)), Some(material.ca_pem))
    } else {
        let server = axum_server::from_tcp(listener)?.handle(handle.clone());
        (tokio::spawn(server.serve(app)), None)
    };
    if handle.listening().await.is_none() {
        // The serve task failed before listening; surface its error.
        let err = match task.await {
            Ok(Err(e)) => e,
            Ok(Ok(())) => std::io::Error::other("server stopped before listening"),
            Err(join) => std::io::Error::other(join),
        };
        return Err(EmulatorError::Io(err));
    }
    tracing::info!(%base_url, tls = config.tls, "emulator listening");
    Ok(RunningEmulator {
        base_url,
        local_addr,
        certificate_pem,
        state,
        handle,
        task: Some(task),
    })
}

fn base_url(tls: bool, addr: SocketAddr) -> String {
    let scheme = if tls { "https" } else { "http" };
    let host = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => "127.0.0.1".to_owned(),
        IpAddr::V6(v6) if v6.is_unspecified() => "[::1]".to_owned(),
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    };
    format!("{scheme}://{host}:{}", addr.port())
}
