//! The command line: argument definitions and one function per command.
//!
//! Exit status, the same for every command: 0 all well, 1 problems found
//! (`check` found errors, `build --strict` met a bad article), 2 usage or
//! configuration error (the command could not run at all).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;

use crate::config::{BaseUrl, Config, Overrides};
use crate::diagnostic::{Diagnostic, render_all};
use crate::pipeline;

/// Exit status: everything went well.
pub const EXIT_OK: u8 = 0;
/// Exit status: the command ran and found problems.
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit status: the command could not run (bad usage or configuration).
pub const EXIT_USAGE: u8 = 2;

/// herald keeps a newsroom's feeds, sitemaps and push notifications current.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "HERALD_CONFIG", default_value = "feeds.toml", value_name = "FILE")]
    pub config: PathBuf,

    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more about what herald does (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log line format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str = "Exit status: 0 ok, 1 problems found, 2 usage or configuration error.";

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// herald's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every feed of the store into a folder, atomically.
    #[command(after_help = "Example:\n  herald build --config feeds.toml --out public")]
    Build(BuildArgs),
    /// Report every problem in the configuration and the store.
    #[command(after_help = "Example:\n  herald check --config feeds.toml")]
    Check(CheckArgs),
    /// Serve every feed and sitemap over HTTP and keep them current.
    #[command(after_help = "Example:\n  herald serve --config feeds.toml --listen 127.0.0.1:8080\n\n\
        Signals: SIGHUP reloads feeds.toml (kept only if valid); SIGTERM or SIGINT stop gracefully.")]
    Serve(ServeArgs),
    /// Show or remove WebSub subscriptions (the daemon may be running).
    #[command(subcommand, after_help = "Examples:\n  herald subscriptions list\n  herald subscriptions remove 12")]
    Subscriptions(SubscriptionsCommand),
    /// Show the queue of outgoing pushes, or push one along.
    #[command(subcommand, after_help = "Examples:\n  herald deliveries list --failed\n  herald deliveries retry 42")]
    Deliveries(DeliveriesCommand),
    /// Inspect an existing store (Hugo and Zola sites too) and write a
    /// commented feeds.toml for it.
    #[command(after_help = "Examples:\n  herald init content            # writes ./feeds.toml\n  \
        herald init ~/site --config /etc/herald/feeds.toml\n  herald check\n\n\
        Detects languages, sections (titles from _index files), the time zone, and a Hugo or Zola\n\
        site's base URL and title. Refuses to replace an existing file without --force.")]
    Init(InitArgs),
    /// Write a synthetic bilingual store of N articles, for benchmarks and trials.
    #[command(after_help = "Example:\n  herald gen-corpus /tmp/corpus 10000 --seed 1\n  \
        herald init /tmp/corpus && herald check --config /tmp/corpus/feeds.toml\n\n\
        The same N and seed always give the same files.")]
    GenCorpus(GenCorpusArgs),
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  herald completions bash > /etc/bash_completion.d/herald\n  \
        herald completions zsh > ~/.zfunc/_herald\n  herald completions fish > ~/.config/fish/completions/herald.fish")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print herald's manual page (roff), or write one page per command.
    #[command(after_help = "Examples:\n  herald man | man -l -\n  \
        herald man --out-dir /usr/local/share/man/man1 && man herald-serve")]
    Man {
        /// Write `herald.1` and `herald-COMMAND.1` into this folder instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// `herald init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The store (or the Hugo/Zola site folder holding `content/`).
    #[arg(default_value = ".")]
    pub store: PathBuf,
    /// Replace the configuration file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `herald gen-corpus`.
#[derive(Debug, Args)]
pub struct GenCorpusArgs {
    /// The folder to write the store into (created if missing; must be empty).
    pub dir: PathBuf,
    /// How many article documents to write.
    pub count: usize,
    /// Seed of the generator: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `herald deliveries …`.
#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// List waiting and failed pushes (WebSub, webhooks, IndexNow).
    List {
        /// Only those given up.
        #[arg(long)]
        failed: bool,
        /// Use this state folder instead of the configured one.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
    /// Make a waiting or failed push due now (a running daemon picks it up
    /// at its next pass).
    Retry {
        /// The id shown by `herald deliveries list`.
        id: i64,
        /// Use this state folder instead of the configured one.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
}

/// `herald subscriptions …`.
#[derive(Debug, Subcommand)]
pub enum SubscriptionsCommand {
    /// List every subscription: id, lease end, whether signed, topic, callback.
    List {
        /// Only subscriptions to this topic URL.
        #[arg(long, value_name = "URL")]
        topic: Option<String>,
        /// Use this state folder instead of the configured one.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
    /// Remove one subscription (and its pending deliveries) by id.
    Remove {
        /// The id shown by `herald subscriptions list`.
        id: i64,
        /// Use this state folder instead of the configured one.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
}

/// `herald serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen on this address and port instead of the configured one.
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,

    /// Keep state (subscriptions, deliveries) in this folder.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// Also mirror every served file into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Read articles from this folder instead of the configured store.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,

    /// Publish under this base URL instead of the configured one.
    #[arg(long, value_name = "URL", value_parser = parse_base_url)]
    pub base_url: Option<BaseUrl>,

    /// Let WebSub callbacks resolve to loopback or private addresses
    /// (tests, intranets); refused by default.
    #[arg(long)]
    pub allow_private_callbacks: bool,
}

/// Options shared by commands that read the store.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Read articles from this folder instead of the configured store.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,

    /// Publish under this base URL instead of the configured one.
    #[arg(long, value_name = "URL", value_parser = parse_base_url)]
    pub base_url: Option<BaseUrl>,

    /// Build as if it were this instant (RFC 3339), for reproducible output.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub now: Option<Timestamp>,
}

/// `herald build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The folder to write (replaced as a whole; created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Fail (exit 1, write nothing) when any article has an error.
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// `herald check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `--base-url`: an absolute http(s) URL; a malformed one is a usage error.
fn parse_base_url(s: &str) -> Result<BaseUrl, String> {
    BaseUrl::parse(s).map_err(|why| format!("{why}; give an absolute http(s) URL such as https://news.example.vn/"))
}

/// `--listen`: an IP address and a port; a malformed one is a usage error.
fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| "not an address and port; write host:port, e.g. 127.0.0.1:8080 or [::]:80".to_string())
}

fn parse_instant(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>().map_err(|e| format!("expected an RFC 3339 instant such as 2024-01-15T08:30:00+07:00 ({e})"))
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    init_logging(&cli);
    let status = match &cli.command {
        Command::Build(args) => build(&cli, args),
        Command::Check(args) => check(&cli, args),
        Command::Serve(args) => serve(&cli, args),
        Command::Subscriptions(command) => subscriptions(&cli, command),
        Command::Deliveries(command) => deliveries(&cli, command),
        Command::Init(args) => init(&cli, args),
        Command::GenCorpus(args) => gen_corpus(&cli, args),
        Command::Completions { shell } => completions(*shell),
        Command::Man { out_dir } => man_page(out_dir.as_deref()),
    };
    ExitCode::from(status)
}

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

fn load_config(cli: &Cli, store: &StoreArgs) -> Result<Config, u8> {
    let overrides = Overrides { store: store.store.clone(), base_url: store.base_url.clone(), ..Overrides::default() };
    Config::load(&cli.config, &overrides).map_err(|e| {
        eprintln!("{e}");
        EXIT_USAGE
    })
}

fn print_diagnostics(diagnostics: &[Diagnostic], quiet: bool) {
    let shown: Vec<Diagnostic> = diagnostics.iter().filter(|d| !quiet || d.is_error()).cloned().collect();
    if !shown.is_empty() {
        eprint!("{}", render_all(&shown));
    }
}

/// A progress bar on stderr for long builds: drawn only when stderr is a
/// terminal and `--quiet` is off (indicatif draws nothing otherwise).
fn progress_bar(cli: &Cli) -> indicatif::ProgressBar {
    if cli.quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    let style =
        indicatif::ProgressStyle::with_template("{spinner} reading articles {pos}/{len} {wide_bar} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn build(cli: &Cli, args: &BuildArgs) -> u8 {
    let config = match load_config(cli, &args.store) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match pipeline::open_store(&config) {
        Ok(s) => s,
        Err(d) => {
            eprintln!("{d}");
            return EXIT_USAGE;
        }
    };
    let now = args.store.now.unwrap_or_else(Timestamp::now);
    let bar = progress_bar(cli);
    let mut loaded = pipeline::load_reporting(&store, &config, now, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    // Warnings belong to `herald check`; a build reports what it skipped,
    // and says so when there was nothing to read at all.
    let report = |loaded: &pipeline::Loaded| -> Vec<Diagnostic> {
        let errors: Vec<Diagnostic> = loaded.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        print_diagnostics(&errors, false);
        if loaded.documents == 0 {
            print_diagnostics(&loaded.diagnostics, cli.quiet);
        }
        errors
    };
    let refuse = |errors: &[Diagnostic]| {
        eprintln!("error: {} article(s) have errors; nothing was written (--strict)", errors.len());
        EXIT_PROBLEMS
    };
    let cannot_write = |e: std::io::Error| {
        eprintln!("{}: error: cannot write the output: {e}", args.out.display());
        EXIT_USAGE
    };
    // Errors are known once the store is read: a strict build stops before
    // rendering anything.
    if args.strict && loaded.has_errors() {
        bar.finish_and_clear();
        return refuse(&report(&loaded));
    }
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} rendering feeds and sitemaps {elapsed}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    // Each file goes to a folder beside the output as soon as it is
    // rendered; the folder replaces the output only once all went well.
    let written = crate::snapshot::StagedDir::begin(&args.out)
        .and_then(|staged| pipeline::write_site(&mut loaded, &store, &config, &staged).map(|files| (staged, files)));
    bar.finish_and_clear();
    let errors = report(&loaded);
    let (staged, files) = match written {
        Ok(written) => written,
        Err(e) => return cannot_write(e),
    };
    // A body that could not be read while rendering (its file deleted
    // meanwhile): the new folder is dropped, the output left as it was.
    if args.strict && !errors.is_empty() {
        drop(staged);
        return refuse(&errors);
    }
    if let Err(e) = staged.commit() {
        return cannot_write(e);
    }
    let counts = loaded.catalog.counts();
    if !cli.quiet {
        eprintln!(
            "wrote {} files to {} from {} visible articles ({} documents, {} skipped, {} drafts, {} scheduled, {} expired)",
            files,
            args.out.display(),
            counts.visible,
            loaded.documents,
            errors.len(),
            counts.drafts,
            counts.scheduled,
            counts.expired,
        );
    }
    // The process ends here: freeing the catalog article by article would
    // only cost time (half a second for 100,000 articles).
    std::mem::forget(loaded);
    EXIT_OK
}

fn completions(shell: clap_complete::Shell) -> u8 {
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "herald", &mut std::io::stdout());
    EXIT_OK
}

fn man_page(out_dir: Option<&std::path::Path>) -> u8 {
    let command = <Cli as clap::CommandFactory>::command();
    let written = match out_dir {
        // One page per command, as git does: herald.1, herald-build.1, …
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir)),
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout()),
    };
    match written {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let place = out_dir.map(|d| format!("{}: ", d.display())).unwrap_or_default();
            eprintln!("{place}error: cannot write the manual pages: {e}");
            EXIT_USAGE
        }
    }
}

fn init(cli: &Cli, args: &InitArgs) -> u8 {
    match crate::init::init(&args.store, &cli.config, args.force) {
        Ok(inspection) => {
            if !cli.quiet {
                eprintln!("{}", inspection.summary().trim_end());
                eprintln!(
                    "wrote {}: read it, set base_url if it says CHANGE, then run `herald check --config {}`",
                    cli.config.display(),
                    cli.config.display()
                );
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("{e}");
            EXIT_USAGE
        }
    }
}

fn gen_corpus(cli: &Cli, args: &GenCorpusArgs) -> u8 {
    let occupied = std::fs::read_dir(&args.dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if occupied {
        eprintln!(
            "{}: error: the folder is not empty\n  hint: gen-corpus writes a fresh store; give it a new or empty folder",
            args.dir.display()
        );
        return EXIT_USAGE;
    }
    match crate::corpus::generate(&args.dir, args.count, args.seed) {
        Ok(summary) => {
            if !cli.quiet {
                eprintln!(
                    "wrote {} documents to {} ({} stories in both languages, {} drafts, {} future-dated)",
                    summary.documents,
                    args.dir.display(),
                    summary.pairs,
                    summary.drafts,
                    summary.future
                );
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("{}: error: cannot write the corpus: {e}", args.dir.display());
            EXIT_USAGE
        }
    }
}

fn check(cli: &Cli, args: &CheckArgs) -> u8 {
    let config = match load_config(cli, &args.store) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match pipeline::open_store(&config) {
        Ok(s) => s,
        Err(d) => {
            eprintln!("{d}");
            return EXIT_USAGE;
        }
    };
    let now = args.store.now.unwrap_or_else(Timestamp::now);
    let loaded = pipeline::load(&store, &config, now);
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;
    print!("{}", render_all(&loaded.diagnostics));
    println!("{} documents: {errors} error(s), {warnings} warning(s)", loaded.documents);
    if errors > 0 { EXIT_PROBLEMS } else { EXIT_OK }
}

fn serve(cli: &Cli, args: &ServeArgs) -> u8 {
    let source = crate::daemon::ConfigSource {
        path: cli.config.clone(),
        overrides: Overrides {
            store: args.store.clone(),
            base_url: args.base_url.clone(),
            state_dir: args.state.clone(),
            listen: args.listen,
            out_dir: args.out.clone(),
            allow_private_callbacks: args.allow_private_callbacks,
        },
    };
    let config = match source.load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    runtime.block_on(run_daemon(config, source))
}

async fn run_daemon(config: Config, source: crate::daemon::ConfigSource) -> u8 {
    use tokio::signal::unix::{SignalKind, signal};

    // Handlers first: a SIGHUP or SIGTERM that arrives while herald starts
    // (or right after it says it listens) must not kill it outright.
    let (Ok(mut hangup), Ok(mut terminate), Ok(mut interrupt)) =
        (signal(SignalKind::hangup()), signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        eprintln!("error: cannot install signal handlers");
        return EXIT_USAGE;
    };
    let listen = config.server.listen;
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(e) => {
            let hint = match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    "another program (or another herald) uses this port: stop it, or pass --listen with another port"
                }
                std::io::ErrorKind::PermissionDenied => {
                    "ports below 1024 need privileges: use a port such as 8080 behind a reverse proxy"
                }
                _ => "check the address in [server] listen or --listen",
            };
            eprintln!("{listen}: error: cannot listen: {e}\n  hint: {hint}");
            return EXIT_USAGE;
        }
    };
    let clock: std::sync::Arc<dyn crate::clock::Clock> = std::sync::Arc::new(crate::clock::SystemClock);
    let daemon = match crate::daemon::Daemon::start(config, source, listener, clock).await {
        Ok(daemon) => daemon,
        Err(e) => {
            eprintln!("{}", e.diagnostic());
            return EXIT_USAGE;
        }
    };
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
    EXIT_OK
}

/// The configuration and the push store of the state folder, for the
/// commands that inspect it; `Err(status)` when they cannot be had. `Ok(None)`
/// when the database does not exist yet.
fn open_push_store(cli: &Cli, state: Option<PathBuf>) -> Result<(Config, Option<crate::push::state::SqliteStore>), u8> {
    use crate::push::state::SqliteStore;
    let overrides = Overrides { state_dir: state, ..Overrides::default() };
    let config = Config::load(&cli.config, &overrides).map_err(|e| {
        eprintln!("{e}");
        EXIT_USAGE
    })?;
    let path = SqliteStore::file_in(&config.state_dir);
    if !path.exists() {
        eprintln!("{}: nothing here yet (herald serve creates this database)", path.display());
        return Ok((config, None));
    }
    match SqliteStore::open(&path) {
        Ok(store) => Ok((config, Some(store))),
        Err(e) => {
            eprintln!("error: {e}\n  hint: check the state folder (--state DIR) and its permissions");
            Err(EXIT_USAGE)
        }
    }
}

fn deliveries(cli: &Cli, command: &DeliveriesCommand) -> u8 {
    use crate::push::state::PushStore;
    let state = match command {
        DeliveriesCommand::List { state, .. } | DeliveriesCommand::Retry { state, .. } => state.clone(),
    };
    let (config, store) = match open_push_store(cli, state) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let Some(store) = store else {
        return if matches!(command, DeliveriesCommand::List { .. }) { EXIT_OK } else { EXIT_PROBLEMS };
    };
    match command {
        DeliveriesCommand::List { failed, .. } => match store.deliveries(*failed, 10_000) {
            Ok(jobs) => {
                let tz = &config.site.time_zone;
                println!(
                    "{:>6}  {:<15}  {:<8}  {:>8}  {:<25}  TARGET  (LAST ERROR)",
                    "ID", "KIND", "STATE", "ATTEMPTS", "QUEUED"
                );
                for job in &jobs {
                    let state = if job.failed { "failed" } else { "waiting" };
                    let queued = crate::render::time::rfc3339(job.created_at, tz);
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
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
        },
        DeliveriesCommand::Retry { id, .. } => match store.retry_now(*id, jiff::Timestamp::now()) {
            Ok(true) => {
                println!("delivery {id} is due now");
                EXIT_OK
            }
            Ok(false) => {
                eprintln!("error: there is no delivery {id}\n  hint: `herald deliveries list` shows the ids");
                EXIT_PROBLEMS
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
        },
    }
}

fn subscriptions(cli: &Cli, command: &SubscriptionsCommand) -> u8 {
    use crate::push::state::PushStore;
    let state = match command {
        SubscriptionsCommand::List { state, .. } | SubscriptionsCommand::Remove { state, .. } => state.clone(),
    };
    let (config, store) = match open_push_store(cli, state) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let Some(store) = store else {
        return if matches!(command, SubscriptionsCommand::List { .. }) { EXIT_OK } else { EXIT_PROBLEMS };
    };
    match command {
        SubscriptionsCommand::List { topic, .. } => match store.subscriptions() {
            Ok(all) => {
                let tz = &config.site.time_zone;
                println!("{:>6}  {:<25}  {:<6}  TOPIC  ->  CALLBACK", "ID", "EXPIRES", "SIGNED");
                let shown: Vec<_> = all.iter().filter(|s| topic.as_ref().is_none_or(|t| *t == s.topic)).collect();
                for s in &shown {
                    let signed = if s.secret.is_some() { "yes" } else { "no" };
                    let expires = crate::render::time::rfc3339(s.expires_at, tz);
                    println!("{:>6}  {expires:<25}  {signed:<6}  {}  ->  {}", s.id, s.topic, s.callback);
                }
                eprintln!("{} subscription(s)", shown.len());
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
        },
        SubscriptionsCommand::Remove { id, .. } => match store.remove_subscription(*id) {
            Ok(true) => {
                println!("removed subscription {id}");
                EXIT_OK
            }
            Ok(false) => {
                eprintln!("error: there is no subscription {id}\n  hint: `herald subscriptions list` shows the ids");
                EXIT_PROBLEMS
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
        },
    }
}
