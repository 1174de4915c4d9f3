//! `herald subscriptions list|remove ID`: the WebSub subscriptions in the
//! state database (the daemon may be running).

use std::process::ExitCode;

use herald::diagnostic::Diagnostic;
use herald::render::time::rfc3339;

use super::args::{Cli, SubscriptionsCommand};
use super::error::{CliError, Status};
use super::push_state;

/// Runs `herald subscriptions …`.
pub fn run(cli: &Cli, command: &SubscriptionsCommand) -> Result<ExitCode, CliError> {
    let state = match command {
        SubscriptionsCommand::List { state, .. } | SubscriptionsCommand::Remove { state, .. } => state.clone(),
    };
    let push_state = push_state::open(cli, state)?;
    match command {
        SubscriptionsCommand::List { topic, .. } => {
            let Some(store) = push_state.store else {
                push_state::nothing_here_yet(&push_state.path);
                return Ok(Status::Ok.into());
            };
            let all = store.subscriptions().map_err(push_state::failed)?;
            let tz = &push_state.config.site.time_zone;
            println!("{:>6}  {:<25}  {:<6}  TOPIC  ->  CALLBACK", "ID", "EXPIRES", "SIGNED");
            let shown: Vec<_> = all.iter().filter(|s| topic.as_ref().is_none_or(|t| *t == s.topic)).collect();
            for s in &shown {
                let signed = if s.secret.is_some() { "yes" } else { "no" };
                let expires = rfc3339(s.expires_at, tz);
                println!("{:>6}  {expires:<25}  {signed:<6}  {}  ->  {}", s.id, s.topic, s.callback);
            }
            eprintln!("{} subscription(s)", shown.len());
            Ok(Status::Ok.into())
        }
        SubscriptionsCommand::Remove { id, .. } => {
            let what = format!("subscription {id}");
            let Some(store) = push_state.store else { return Err(push_state::nothing_yet(&push_state.path, &what)) };
            if !store.remove_subscription(*id).map_err(push_state::failed)? {
                return Err(CliError::problems(vec![
                    Diagnostic::general_error(format!("there is no {what}"))
                        .with_hint("`herald subscriptions list` shows the ids"),
                ]));
            }
            println!("removed {what}");
            Ok(Status::Ok.into())
        }
    }
}
