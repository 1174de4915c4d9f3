//! The `herald` binary: parse the command line, set up logging, run the
//! command, print its failure if it failed, and exit with its status.
//!
//! The commands live in `cmd/` (one file each, the clap definition in
//! `cmd/args.rs`); the work is done by the `herald` library.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

use cmd::args::{Cli, Command, LogFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let outcome = match &cli.command {
        Command::Build(args) => cmd::build::run(&cli, args),
        Command::Check(args) => cmd::check::run(&cli, args),
        Command::Serve(args) => cmd::serve::run(&cli, args),
        Command::Subscriptions(command) => cmd::subscriptions::run(&cli, command),
        Command::Followers(command) => cmd::followers::run(&cli, command),
        Command::Deliveries(command) => cmd::deliveries::run(&cli, command),
        Command::Db(command) => cmd::db::run(&cli, command),
        Command::Init(args) => cmd::init::run(&cli, args),
        Command::GenCorpus(args) => cmd::gen_corpus::run(&cli, args),
        Command::Completions { shell } => cmd::completions::run(*shell),
        Command::Man { out_dir } => cmd::man::run(out_dir.as_deref()),
    };
    match outcome {
        Ok(status) => status,
        Err(error) => {
            error.print(cli.quiet, cli.log_format);
            error.status.into()
        }
    }
}

/// Logs go to stderr: `--quiet` keeps errors only, each `-v` shows more,
/// `HERALD_LOG` (an env-filter) overrides both; colour only on a terminal.
fn init_logging(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (_, 0) => "info",
        (_, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    let _ = match cli.log_format {
        LogFormat::Text => builder.without_time().with_target(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
