//! herald: turns an article store into feeds, sitemaps and push notifications.
//!
//! The pipeline: [`store`] reads the documents, [`article`] (with
//! [`markdown`] for bodies) parses them, [`catalog`] indexes the visible
//! ones by language, section and month, and [`render`] turns the catalog
//! into feeds and sitemaps held in a [`snapshot`]. [`pipeline`] runs one
//! full pass (`herald build`, `herald check`). For `herald serve`, [`site`]
//! keeps a live site current one small step at a time, [`server`] serves
//! its snapshot over HTTP, [`push`] announces what changed (WebSub,
//! webhooks, IndexNow) through a durable outbox, [`activitypub`] makes
//! languages and sections fediverse actors publishing through that outbox,
//! and [`daemon`] wires them together.
//!
//! The `herald` binary (`src/main.rs` and `src/cmd/`) only parses the
//! command line, calls into this library and prints what went wrong.
//! `ARCHITECTURE.md` at the repository root has the bird's-eye view, the
//! code map and which module may import which.

// Every public item is documented, and `pub` means reachable from outside
// the crate (`pub(crate)` otherwise); CI's clippy turns these into errors.
#![warn(missing_docs, unreachable_pub)]

pub mod activitypub;
pub mod article;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod corpus;
pub mod daemon;
pub mod db;
pub mod diagnostic;
pub mod digest;
pub mod file_cache;
pub mod init;
pub mod markdown;
pub mod parallel;
pub mod pipeline;
pub mod push;
pub mod render;
pub mod saved_catalog;
pub mod schedule;
pub mod server;
pub mod site;
pub mod snapshot;
pub mod store;
pub mod text;
pub mod watch;
