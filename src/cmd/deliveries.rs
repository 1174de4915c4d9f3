//! `herald deliveries list [--failed]|retry ID`: the outbox of pushes in
//! the state database (the daemon may be running).

use std::process::ExitCode;

use herald::diagnostic::Diagnostic;
use herald::render::time::rfc3339;

use super::args::{Cli, DeliveriesCommand};
use super::error::{CliError, Status};
use super::push_state;

/// Runs `herald deliveries …`.
pub fn run(cli: &Cli, command: &DeliveriesCommand) -> Result<ExitCode, CliError> {
    let state = match command {
        DeliveriesCommand::List { state, .. } | DeliveriesCommand::Retry { state, .. } => state.clone(),
    };
    let push_state = push_state::open(cli, state)?;
    match command {
        DeliveriesCommand::List { failed, .. } => {
            let Some(store) = push_state.store else {
                push_state::nothing_here_yet(&push_state.path);
                return Ok(Status::Ok.into());
            };
            let jobs = store.deliveries(*failed, 10_000).map_err(push_state::failed)?;
            let tz = &push_state.config.site.time_zone;
            println!(
                "{:>6}  {:<15}  {:<8}  {:>8}  {:<25}  TARGET  (LAST ERROR)",
                "ID", "KIND", "STATE", "ATTEMPTS", "QUEUED"
            );
            for job in &jobs {
                let state = if job.failed { "failed" } else { "waiting" };
                let queued = rfc3339(job.created_at, tz);
                let target = if job.target.is_empty() { job.topic.as_str() } else { job.target.as_str() };
                let error = job.last_error.as_deref().map(|e| format!("  ({e})")).unwrap_or_default();
                println!(
                    "{:>6}  {:<15}  {state:<8}  {:>8}  {queued:<25}  {target}{error}",
                    job.id,
                    job.kind.name(),
                    job.attempts
                );
            }
            eprintln!("{} deliveries", jobs.len());
            Ok(Status::Ok.into())
        }
        DeliveriesCommand::Retry { id, .. } => {
            let what = format!("delivery {id}");
            let Some(store) = push_state.store else { return Err(push_state::nothing_yet(&push_state.path, &what)) };
            if !store.retry_now(*id, jiff::Timestamp::now()).map_err(push_state::failed)? {
                return Err(CliError::problems(vec![
                    Diagnostic::general_error(format!("there is no {what}"))
                        .with_hint("`herald deliveries list` shows the ids"),
                ]));
            }
            println!("{what} is due now");
            Ok(Status::Ok.into())
        }
    }
}
