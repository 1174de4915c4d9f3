//! `herald build` renders file by file into a staging folder (from several
//! threads) instead of building the whole snapshot first: the folder it
//! writes holds exactly the files and bytes of the in-memory build.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{TempStore, fixture_config, now};
use herald::config::Config;
use herald::pipeline;
use herald::snapshot::{OUTPUT_MARKER, StagedDir};
use herald::store::FolderStore;

/// Every file under `dir` by URL path, the marker left out.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().unwrap() != OUTPUT_MARKER {
                let url = format!("/{}", path.strip_prefix(dir).unwrap().to_str().unwrap());
                out.insert(url, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn assert_streamed_equals_snapshot(config: &Config) {
    let store = FolderStore::open(&config.store_dir).unwrap();
    let built = pipeline::build(&store, config, now());
    let expected: BTreeMap<String, Vec<u8>> =
        built.snapshot.iter().map(|(path, r)| (path.clone(), r.body.to_vec())).collect();
    assert!(expected.keys().any(|p| p.contains("/archive/")), "the site has archives: {:?}", expected.keys());

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let mut loaded = pipeline::load(&store, config, now());
    let staged = StagedDir::begin(&out).unwrap();
    let written = pipeline::write_site(&mut loaded, &store, config, &staged).unwrap();
    staged.commit().unwrap();
    assert_eq!(written, expected.len());
    assert_eq!(files(&out), expected);
}

#[test]
fn the_fixture_streamed_is_the_snapshot() {
    let mut config = fixture_config("basic");
    config.feeds.item_limit = 1;
    assert_streamed_equals_snapshot(&config);
}

#[test]
fn archives_sitemaps_and_gzip_twins_streamed_are_the_snapshot() {
    let mut store = TempStore::new();
    store.extra_config = "[feeds]\nitem_limit = 2\n[sitemaps]\ngzip = true\n".to_string();
    for month in 1..=9 {
        for day in [3, 17] {
            let date = format!("2026-{month:02}-{day:02}T08:00:00+07:00");
            store.article(&format!("thoi-su/bai-{month}-{day}.vi.md"), &format!("Bài {month}/{day}"), &date);
            if day == 3 {
                store.article(&format!("thoi-su/bai-{month}-{day}.en.md"), &format!("Story {month}/{day}"), &date);
            }
        }
    }
    let config = store.config();
    assert!(config.sitemaps.gzip);
    assert_streamed_equals_snapshot(&config);
}
