//! `herald followers list [ACTOR]|remove ACTOR FOLLOWER`: the fediverse
//! followers of the ActivityPub actors, in the state database (the daemon
//! may be running).

use std::process::ExitCode;

use herald::diagnostic::Diagnostic;
use herald::render::time::rfc3339;

use super::args::{Cli, FollowersCommand};
use super::error::{CliError, Status};
use super::push_state;

/// Runs `herald followers …`.
pub fn run(cli: &Cli, command: &FollowersCommand) -> Result<ExitCode, CliError> {
    let state = match command {
        FollowersCommand::List { state, .. } | FollowersCommand::Remove { state, .. } => state.clone(),
    };
    let push_state = push_state::open(cli, state)?;
    match command {
        FollowersCommand::List { actor, .. } => {
            let Some(store) = push_state.store else {
                push_state::nothing_here_yet(&push_state.path);
                return Ok(Status::Ok.into());
            };
            let followers = store.followers(actor.as_deref()).map_err(push_state::failed)?;
            let tz = &push_state.config.site.time_zone;
            println!("{:<20}  {:<25}  FOLLOWER  ->  INBOX", "ACTOR", "SINCE");
            for f in &followers {
                println!(
                    "{:<20}  {:<25}  {}  ->  {}",
                    f.actor,
                    rfc3339(f.created_at, tz),
                    f.follower,
                    f.delivery_inbox()
                );
            }
            eprintln!("{} follower(s)", followers.len());
            Ok(Status::Ok.into())
        }
        FollowersCommand::Remove { actor, follower, .. } => {
            let what = format!("follower {follower} of {actor}");
            let Some(store) = push_state.store else { return Err(push_state::nothing_yet(&push_state.path, &what)) };
            if !store.remove_follower(actor, follower).map_err(push_state::failed)? {
                return Err(CliError::problems(vec![
                    Diagnostic::general_error(format!("there is no {what}"))
                        .with_hint("`herald followers list` shows the actors and followers"),
                ]));
            }
            println!("removed {what}");
            Ok(Status::Ok.into())
        }
    }
}
