//! The command line's definition (clap): every command, its arguments and
//! their help text. `--help`, the shell completions and the manual pages
//! are all generated from it. Parsing only: the commands are run by the
//! files beside this one.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use herald::config::BaseUrl;
use jiff::Timestamp;

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

    /// Keep push state (and, with `[database] articles = true`, articles)
    /// in this PostgreSQL database instead of `[database] url`
    /// (postgresql://USER:PASSWORD@HOST/DB).
    #[arg(long, global = true, env = "HERALD_DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub database_url: Option<SecretArg>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A command-line value that may hold a password: taken as written (a
/// malformed one is reported later, without its text) and never shown by
/// Debug.
#[derive(Clone)]
pub struct SecretArg(pub String);

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretArg(s.to_string()))
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretArg(***)")
    }
}

/// The exit statuses, shown under `--help` and in the manual page.
pub const EXIT_CODES: &str = "Exit status: 0 ok, 1 problems found, 2 usage or configuration error (nothing was done), \
    3 the work failed (a write, a full disk, a port in use).";

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
    /// Show or remove fediverse followers of the ActivityPub actors (the
    /// daemon may be running).
    #[command(
        subcommand,
        after_help = "Examples:\n  herald followers list\n  herald followers list thoi-su\n  \
        herald followers remove thoi-su https://mastodon.example/users/alice"
    )]
    Followers(FollowersCommand),
    /// Show the queue of outgoing pushes, or push one along.
    #[command(subcommand, after_help = "Examples:\n  herald deliveries list --failed\n  herald deliveries retry 42")]
    Deliveries(DeliveriesCommand),
    /// Set up or inspect the PostgreSQL database replicas share.
    #[command(
        subcommand,
        after_help = "Examples:\n  herald db migrate --database-url postgresql://herald@db.internal/news\n  \
        HERALD_DATABASE_URL=postgresql://herald@db.internal/news herald db status"
    )]
    Db(DbCommand),
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

/// `herald db …`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Bring the database's schema to this herald's version (safe while
    /// other replicas start or run).
    Migrate,
    /// Show the schema version, article and subscription counts, the
    /// outbox's depth and the replicas seen recently.
    Status,
    /// Copy a store folder into the `articles` table (read with
    /// feeds.toml's rules; idempotent: rows that already hold the file are
    /// not written). Migrates the schema first.
    #[command(after_help = "Examples:\n  herald db import examples/store\n  \
        herald db import /srv/news/content --delete-missing\n\n\
        Each document becomes the row keyed by its path (thoi-su/le-hoi.vi.md). Broken documents are\n\
        reported and their rows left as they were (exit status 1).")]
    Import {
        /// The store folder.
        folder: PathBuf,
        /// Also mark deleted the rows whose file is gone (rows keyed by a
        /// document path only; rows a CMS wrote under other keys are kept).
        #[arg(long)]
        delete_missing: bool,
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

/// `herald followers …`.
#[derive(Debug, Subcommand)]
pub enum FollowersCommand {
    /// List followers: actor, since when, follower, the inbox deliveries go to.
    List {
        /// Only the followers of this actor (its username).
        actor: Option<String>,
        /// Use this state folder instead of the configured one.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
    /// Remove one follower of one actor (nothing more is sent to it).
    Remove {
        /// The actor's username.
        actor: String,
        /// The follower's id (a URL), as `herald followers list` shows it.
        follower: String,
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

    /// Initialise an empty state database (zero bytes, or SQLite without
    /// tables) instead of refusing it; a missing one is always created.
    #[arg(long)]
    pub init_state: bool,
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
    /// List every warning. Without it, warnings of one kind (say "image …
    /// has no alt text") past the first five are counted, not listed;
    /// errors are always listed in full.
    #[arg(long)]
    pub all: bool,
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
