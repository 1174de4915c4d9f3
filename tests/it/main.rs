//! herald's integration tests: one binary, one module per capability.
//!
//! Each module says at its top what it proves. Shared helpers (fixture
//! stores, a fixed clock, a test subscriber, running the `herald` binary)
//! live in [`common`]. Fixtures are under `tests/fixtures/`, insta snapshots
//! under `tests/it/snapshots/`.

mod common;

mod activitypub;
mod archives;
mod bad_input;
mod body_images;
mod browser;
mod build_streaming;
mod cli;
mod connections;
mod delivery;
mod feeds;
mod file_cache;
mod fuzz_findings;
mod golden;
mod init;
mod live_site;
mod live_site_staged;
mod mirror;
mod opml;
mod pg_articles;
mod pg_health;
mod plain_text;
mod postgres_db;
mod postgres_outbox;
mod postgres_push;
#[cfg(target_os = "linux")]
mod push_health;
mod replicas_process;
mod restart;
mod restart_announcements;
mod saved_catalog;
mod saved_catalog_kill;
mod serve;
mod serve_archives;
mod serve_process;
mod sitemaps;
mod state_commands;
mod store_files;
mod taxonomies;
mod unicode_property;
mod update_metrics;
mod watched_store;
mod webhooks;
mod websub;
mod websub_crash;
mod websub_limits;
