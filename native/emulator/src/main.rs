//! `partnersec-emulator`: runs the emulator until SIGTERM or Ctrl+C.
//!
//! Contract with callers (Pester tests, benchmarks, developers): exactly one line on stdout,
//! `PARTNERSEC_EMULATOR_URL=<base>`, once listening; optionally a ready file written
//! atomically. Everything else goes to stderr.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Parser;
use partnersecurity_emulator::{EmulatorConfig, ScenarioSource, serve};
use serde_json::json;
use tracing_subscriber::EnvFilter;

/// Local emulator of Entra ID, Microsoft Graph and Partner Center for PartnerSecurity tests.
/// Test use only: it issues tokens to anyone who can reach it.
#[derive(Debug, Parser)]
#[command(name = "partnersec-emulator", version)]
struct Cli {
    /// Scenario JSON (tenants, users, apps, consents); see native/emulator/README.md.
    #[arg(long)]
    scenario: PathBuf,
    /// Address to bind. Loopback by default; anything else exposes the token service.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port; 0 lets the OS pick a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve HTTPS with a freshly generated local CA and server certificate.
    #[arg(long)]
    tls: bool,
    /// Where to write the CA certificate (PEM) clients must trust. Default with --tls: next to
    /// the ready file, else in the temp directory.
    #[arg(long)]
    cert_out: Option<PathBuf>,
    /// Write {"baseUrl", "certificatePath", "pid"} here (atomically) once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One readable line with the cause chain, not a backtrace.
            eprintln!("partnersec-emulator: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal; Pester and CI capture stderr into files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();

    let mut config =
        EmulatorConfig::new(ScenarioSource::File(cli.scenario.clone())).with_tls(cli.tls);
    config.bind = cli.bind;
    config.port = cli.port;
    if !cli.bind.is_loopback() {
        tracing::warn!(bind = %cli.bind, "binding a non-loopback address: anyone who can reach it gets tokens");
    }
    let mut emulator = serve(config).await.context("starting the emulator")?;

    let certificate_path = match &emulator.certificate_pem {
        Some(pem) => {
            let path = cli
                .cert_out
                .clone()
                .unwrap_or_else(|| default_cert_path(cli.ready_file.as_deref()));
            write_atomically(&path, pem.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    if let Some(ready) = &cli.ready_file {
        let body = json!({
            "baseUrl": emulator.base_url,
            "certificatePath": certificate_path.as_ref().map(|p| p.display().to_string()),
            "pid": std::process::id(),
        });
        write_atomically(ready, body.to_string().as_bytes())
            .with_context(|| format!("writing {}", ready.display()))?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "PARTNERSEC_EMULATOR_URL={}", emulator.base_url)?;
        out.flush()?;
    }

    // Stop gracefully on SIGTERM / Ctrl+C; join() then returns.
    let handle = emulator.handle();
    let on_signal = tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        handle.graceful_shutdown(Some(std::time::Duration::from_secs(2)));
    });
    let result = emulator.join().await;
    on_signal.abort();
    result.context("server stopped")?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn default_cert_path(ready_file: Option<&Path>) -> PathBuf {
    let name = format!("partnersec-emulator-{}-ca.pem", std::process::id());
    match ready_file.and_then(Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(name),
        _ => std::env::temp_dir().join(name),
    }
}

/// Write to a sibling temp file, then rename: readers polling for the file never see it
/// half-written.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}
