//! herald: turns an article store into feeds, sitemaps and push notifications.
//!
//! The pipeline (see `DESIGN.md` in the team's shared folder):
//! [`store`] → [`article`] → [`catalog`] → [`render`] → [`snapshot`].
//! Each module has one job; [`pipeline`] runs a full pass, and `main.rs`
//! only parses the command line and calls into [`cli`].

pub mod article;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod corpus;
pub mod daemon;
pub mod diagnostic;
pub mod digest;
pub mod init;
pub mod markdown;
pub mod parallel;
pub mod pipeline;
pub mod push;
pub mod render;
pub mod schedule;
pub mod server;
pub mod site;
pub mod snapshot;
pub mod stale_staging;
pub mod store;
pub mod text;
pub mod watch;
