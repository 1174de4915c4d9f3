//! `herald serve`: load the configuration, bind the port, start the daemon
//! and run it until SIGTERM or SIGINT; SIGHUP reloads the configuration.

use std::process::ExitCode;
use std::sync::Arc;

use herald::clock::{Clock, SystemClock};
use herald::config::{Config, Overrides};
use herald::daemon::{ConfigSource, Daemon, StartError};
use herald::diagnostic::Diagnostic;
use herald::push::PushError;
use herald::push::state::StoreError;
use herald::snapshot::ForeignFolder;

use super::args::{Cli, ServeArgs};
use super::error::{CliError, Status};

/// Runs `herald serve`.
pub fn run(cli: &Cli, args: &ServeArgs) -> Result<ExitCode, CliError> {
    let source = ConfigSource {
        path: cli.config.clone(),
        overrides: Overrides {
            store: args.store.clone(),
            base_url: args.base_url.clone(),
            state_dir: args.state.clone(),
            listen: args.listen,
            out_dir: args.out.clone(),
            allow_private_callbacks: args.allow_private_callbacks,
            init_state: args.init_state,
            database_url: super::database_url(cli)?,
        },
    };
    let config = source.load()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(Diagnostic::general_error(format!("cannot start the async runtime: {e}"))))?;
    runtime.block_on(run_daemon(config, source))
}

/// Starts the daemon and runs it until a stop signal.
async fn run_daemon(config: Config, source: ConfigSource) -> Result<ExitCode, CliError> {
    use tokio::signal::unix::{SignalKind, signal};

    // Handlers first: a SIGHUP or SIGTERM that arrives while herald starts
    // (or right after it says it listens) must not kill it outright.
    let (Ok(mut hangup), Ok(mut terminate), Ok(mut interrupt)) =
        (signal(SignalKind::hangup()), signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return Err(CliError::failed(Diagnostic::general_error("cannot install signal handlers")));
    };
    let listen = config.server.listen;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "another program (or another herald) uses this port: stop it, or pass --listen with another port"
            }
            std::io::ErrorKind::PermissionDenied => {
                "ports below 1024 need privileges: use a port such as 8080 behind a reverse proxy"
            }
            _ => "check the address in [server] listen or --listen",
        };
        CliError::failed(Diagnostic::error(listen.to_string(), format!("cannot listen: {e}")).with_hint(hint))
    })?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let daemon = Daemon::start(config, source, listener, clock).await.map_err(start_failed)?;
    tracing::info!("listening on http://{} (open it in a browser for the list of feeds)", daemon.addr);
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: reloading the configuration");
                daemon.reload();
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!("shutting down: finishing requests in flight");
    daemon.shutdown().await;
    tracing::info!("stopped");
    Ok(Status::Ok.into())
}

/// The daemon did not start: a store that cannot be opened or an output
/// folder herald did not write, or a state database that is empty or another
/// program's, is a configuration error (exit 2); a state
/// folder, state database or output folder that cannot be written is the
/// work failing (exit 3).
fn start_failed(e: StartError) -> CliError {
    let diagnostic = e.diagnostic();
    match e {
        StartError::Store(_) => CliError::usage(diagnostic),
        // An empty or foreign state database is refused before anything is
        // done, like a bad configuration.
        StartError::Push(PushError::Store(StoreError::Refused(_))) => CliError::usage(diagnostic),
        StartError::Output { source, .. } if ForeignFolder::in_error(&source).is_some() => CliError::usage(diagnostic),
        // A schema newer than this herald: nothing was done.
        StartError::Database(herald::db::DbError::SchemaNewer { .. }) => CliError::usage(diagnostic),
        StartError::State { .. } | StartError::Push(_) | StartError::Output { .. } | StartError::Database(_) => {
            CliError::failed(diagnostic)
        }
    }
}
