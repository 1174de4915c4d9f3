//! Helpers shared by the integration tests: fixture stores, a fixed clock,
//! and builds that return what the pipeline produced.

pub mod fediverse;
pub mod hub;
pub mod postgres;
pub mod process;
pub mod subscriber;

use std::path::{Path, PathBuf};

use herald::config::{Config, Overrides};
use herald::pipeline::{self, Built};
use herald::store::FolderStore;
use jiff::Timestamp;

/// The instant every test builds at unless it says otherwise.
pub const NOW: &str = "2026-11-26T12:00:00+07:00";

/// The fixed "now" of the tests.
pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// The `herald` binary as a command, with no configuration file or log
/// settings taken from the environment.
pub fn herald() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("herald").unwrap();
    cmd.env_remove("HERALD_CONFIG").env_remove("HERALD_LOG");
    cmd
}

/// The checked-in fixture folder `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The configuration of fixture `name`.
pub fn fixture_config(name: &str) -> Config {
    Config::load(&fixture(name).join("feeds.toml"), &Overrides::default()).unwrap()
}

/// Builds fixture `name` at [`now`].
pub fn build_fixture(name: &str) -> Built {
    let config = fixture_config(name);
    let store = FolderStore::open(&config.store_dir).unwrap();
    pipeline::build(&store, &config, now())
}

/// A configuration like the basic fixture's, over another store folder.
pub const TEST_CONFIG: &str = r#"
[site]
base_url = "https://example.vn/"
default_language = "vi"
time_zone = "Asia/Ho_Chi_Minh"
title = { vi = "Báo Mẫu", en = "Sample News" }
id_prefix = "tag:example.vn,2026:"

[languages.vi]
name = "Tiếng Việt"
prefix = ""

[languages.en]
name = "English"

[sections.thoi-su]
title = { vi = "Thời sự", en = "News" }
"#;

/// A temporary article store the test fills file by file.
pub struct TempStore {
    /// Holds the folder until the test ends.
    pub dir: tempfile::TempDir,
    /// Extra configuration appended to [`TEST_CONFIG`].
    pub extra_config: String,
}

impl TempStore {
    /// An empty store.
    pub fn new() -> TempStore {
        TempStore { dir: tempfile::tempdir().unwrap(), extra_config: String::new() }
    }

    /// The store folder.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// Writes `contents` at store-relative `path`.
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) -> &Self {
        let full = self.root().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
        self
    }

    /// Writes a minimal valid TOML article.
    pub fn article(&self, path: &str, title: &str, date: &str) -> &Self {
        self.write(path, format!("+++\ntitle = {title:?}\ndate = {date}\n+++\nBody of {title}.\n"))
    }

    /// Deletes store-relative `path`.
    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.root().join(path)).unwrap();
    }

    /// The configuration file (written on first use) for this store.
    pub fn config_path(&self) -> PathBuf {
        let path = self.dir.path().join("feeds.toml");
        let text = format!("store = \"store\"\n{TEST_CONFIG}\n{}", self.extra_config);
        std::fs::write(&path, text).unwrap();
        std::fs::create_dir_all(self.root()).unwrap();
        path
    }

    /// The parsed configuration for this store.
    pub fn config(&self) -> Config {
        Config::load(&self.config_path(), &Overrides::default()).unwrap()
    }

    /// Builds the store at [`now`].
    pub fn build(&self) -> Built {
        self.build_at(now())
    }

    /// Builds the store at `at`.
    pub fn build_at(&self, at: Timestamp) -> Built {
        let config = self.config();
        let store = FolderStore::for_config(&config).unwrap();
        pipeline::build(&store, &config, at)
    }
}

/// The text of file `path` in a build.
pub fn text(built: &Built, path: &str) -> String {
    let resource = built.snapshot.get(path).unwrap_or_else(|| {
        let paths: Vec<&String> = built.snapshot.iter().map(|(p, _)| p).collect();
        panic!("no file {path}; the build has {paths:?}")
    });
    String::from_utf8(resource.body.to_vec()).unwrap()
}

/// Parses file `path` of a build with feed-rs (RSS, Atom or JSON Feed).
pub fn parse_feed(built: &Built, path: &str) -> feed_rs::model::Feed {
    let body = built.snapshot.get(path).unwrap_or_else(|| panic!("no file {path}")).body.clone();
    feed_rs::parser::parse(body.as_ref()).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
}

/// Entry titles of feed `path`, in order.
pub fn titles(built: &Built, path: &str) -> Vec<String> {
    parse_feed(built, path).entries.into_iter().map(|e| e.title.map(|t| t.content).unwrap_or_default()).collect()
}

/// An HTTP client for tests (installs the TLS provider reqwest needs); a
/// request gives up after a generous minute, since the machine may be loaded.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_gzip().no_brotli().timeout(std::time::Duration::from_secs(60)).build().unwrap()
}

/// Copies folder `from` into `to` (created), recursively.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
