//! Feed history (RFC 5005): walking a live feed's archive chain visits
//! every visible article once; past months keep their bytes; small feeds
//! are complete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::*;
use herald::config::{Config, Overrides};
use herald::pipeline::{self, Built};
use herald::render::feed::feed_scopes;
use herald::render::{FeedFormat, FeedScope};
use herald::store::MemoryStore;
use proptest::prelude::*;

/// The ids of the entries of the document at `path` and the URL of the
/// next older document in the chain (`prev-archive`, or `next_url`).
fn page(built: &Built, path: &str, format: FeedFormat) -> (Vec<String>, Option<String>) {
    let body = &built.snapshot.get(path).unwrap_or_else(|| panic!("no {path}")).body;
    match format {
        FeedFormat::Rss => {
            let channel = rss::Channel::read_from(body.as_ref()).unwrap();
            let ids = channel.items.iter().map(|i| i.guid.as_ref().unwrap().value.clone()).collect();
            let prev = channel
                .atom_ext
                .as_ref()
                .and_then(|a| a.links.iter().find(|l| l.rel == "prev-archive").map(|l| l.href.clone()));
            (ids, prev)
        }
        FeedFormat::Atom => {
            let feed = atom_syndication::Feed::read_from(body.as_ref()).unwrap();
            let ids = feed.entries.iter().map(|e| e.id.clone()).collect();
            let prev = feed.links.iter().find(|l| l.rel == "prev-archive").map(|l| l.href.clone());
            (ids, prev)
        }
        FeedFormat::Json => {
            let feed: serde_json::Value = serde_json::from_slice(body).unwrap();
            let ids = feed["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
            (ids, feed["next_url"].as_str().map(str::to_string))
        }
    }
}

/// Walks from the live feed of `scope` along the chain: (ids in the live
/// feed, ids in each archive document, in walking order).
fn walk(built: &Built, config: &Config, scope: &FeedScope, format: FeedFormat) -> (Vec<String>, Vec<Vec<String>>) {
    let (live, mut next) = page(built, &scope.path(format, config), format);
    let mut archives = Vec::new();
    let mut seen = BTreeSet::new();
    while let Some(url) = next {
        assert!(seen.insert(url.clone()), "the chain loops at {url}");
        let path = format!("/{}", url.strip_prefix(config.site.base_url.as_str()).unwrap());
        let (ids, prev) = page(built, &path, format);
        archives.push(ids);
        next = prev;
    }
    (live, archives)
}

fn visible_ids(built: &Built, config: &Config, scope: &FeedScope) -> BTreeSet<String> {
    scope.articles(&built.loaded.catalog, config).map(|a| a.iri(config)).collect()
}

fn config(item_limit: usize) -> Config {
    let text = format!("store = \"unused\"\n{TEST_CONFIG}\n[feeds]\nitem_limit = {item_limit}\n");
    Config::parse(&text, Path::new("feeds.toml"), &Overrides::default()).unwrap()
}

fn article(title: &str, date: &str, extra: &str) -> String {
    format!("+++\ntitle = \"{title}\"\ndate = {date}\n{extra}+++\nBody of {title}.\n")
}

/// A store over three months, with a draft, a future article and a small
/// section.
fn store() -> MemoryStore {
    let store = MemoryStore::new();
    let days = ["2026-09-03", "2026-09-20", "2026-10-02", "2026-10-15", "2026-10-28", "2026-11-05", "2026-11-20"];
    for (n, day) in days.iter().enumerate() {
        store.insert(
            format!("thoi-su/bai-{n}.vi.md"),
            article(&format!("Bài {n}"), &format!("{day}T08:00:00+07:00"), ""),
        );
    }
    store.insert("thoi-su/nhap.vi.md", article("Nháp", "2026-10-10T08:00:00+07:00", "draft = true\n"));
    store.insert("thoi-su/sau.vi.md", article("Sau", "2026-12-24T08:00:00+07:00", ""));
    store.insert("kinh-te/mot.vi.md", article("Một mình", "2026-10-10T08:00:00+07:00", ""));
    store
}

/// Walking prev-archive from each live feed visits every visible article
/// of that feed exactly once, in every format; each article is in exactly
/// one archive document; drafts and future articles never appear.
#[test]
fn the_chain_visits_every_article_once() {
    let config = config(3);
    let built = pipeline::build(&store(), &config, now());
    let mut walked = 0;
    for scope in feed_scopes(&built.loaded.catalog, &config) {
        let expected = visible_ids(&built, &config, &scope);
        for format in FeedFormat::ALL {
            let (live, archives) = walk(&built, &config, &scope, format);
            let all: Vec<&String> = archives.iter().flatten().collect();
            let unique: BTreeSet<String> = all.iter().map(|s| s.to_string()).collect();
            if expected.len() <= 3 {
                assert!(archives.is_empty(), "{scope:?} fits its live feed");
                assert_eq!(live.iter().cloned().collect::<BTreeSet<_>>(), expected);
                continue;
            }
            walked += 1;
            assert_eq!(all.len(), unique.len(), "{scope:?} {format:?}: an article is in two archives");
            assert_eq!(unique, expected, "{scope:?} {format:?}: the archives hold exactly the visible articles");
            assert!(live.iter().all(|id| unique.contains(id)));
            assert_eq!(archives.len(), 3, "three months");
        }
    }
    assert_eq!(walked, 9, "the site, Vietnamese and thoi-su feeds in three formats have archives");
    let everything: String =
        built.snapshot.iter().map(|(_, r)| String::from_utf8_lossy(&r.body).into_owned()).collect();
    assert!(
        !everything.contains("Nháp") && !everything.contains("<title>Sau</title>"),
        "drafts and future articles never appear"
    );
}

/// A feed that holds every article is marked complete and has no archive.
#[test]
fn small_feeds_are_complete() {
    let config = config(3);
    let built = pipeline::build(&store(), &config, now());
    let atom = text(&built, "/vi/kinh-te/atom.xml");
    assert!(atom.contains("<fh:complete/>"), "{atom}");
    assert!(!atom.contains("prev-archive"));
    assert!(text(&built, "/vi/kinh-te/rss.xml").contains("<fh:complete/>"));
    assert!(!text(&built, "/vi/kinh-te/feed.json").contains("next_url"));
    assert!(built.snapshot.iter().all(|(p, _)| !p.starts_with("/vi/kinh-te/archive/")));
    let live = text(&built, "/vi/thoi-su/atom.xml");
    assert!(!live.contains("fh:complete") && live.contains("rel=\"prev-archive\""));
    let archive = text(&built, "/vi/thoi-su/archive/2026-10.atom.xml");
    assert!(archive.contains("<fh:archive/>"));
    assert!(archive.contains("<link href=\"https://example.vn/vi/thoi-su/atom.xml\" rel=\"current\""));
    assert!(archive.contains("href=\"https://example.vn/vi/thoi-su/archive/2026-09.atom.xml\" rel=\"prev-archive\""));
    assert!(archive.contains("href=\"https://example.vn/vi/thoi-su/archive/2026-11.atom.xml\" rel=\"next-archive\""));
    assert!(!archive.contains("rel=\"hub\""), "archives are not for subscribing");
    let index = text(&built, "/vi/archive.xml");
    assert!(index.contains("<loc>https://example.vn/vi/thoi-su/archive/2026-09.rss.xml</loc>"));
}

/// Editing one old article rewrites exactly one archive document of each
/// feed it is in (per format), and no other archive.
#[test]
fn editing_an_old_article_rewrites_one_month() {
    let config = config(3);
    let store = store();
    let before = pipeline::build(&store, &config, now());
    store.insert("thoi-su/bai-1.vi.md", article("Bài 1 (sửa)", "2026-09-20T08:00:00+07:00", ""));
    let after = pipeline::build(&store, &config, now());
    let changed: Vec<String> =
        before.snapshot.changed_paths(&after.snapshot).into_iter().filter(|p| p.contains("/archive/")).collect();
    let mut per_feed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in &changed {
        let (feed, file) = path.rsplit_once("/archive/").unwrap();
        let format = file.split_once('.').unwrap().1;
        per_feed.entry(format!("{feed} {format}")).or_default().push(path.clone());
    }
    assert!(per_feed.values().all(|paths| paths.len() == 1), "{per_feed:?}");
    assert!(changed.iter().all(|p| p.contains("2026-09")), "{changed:?}");
    assert_eq!(
        changed.len(),
        9,
        "the September archive of the site, Vietnamese and thoi-su feeds, three formats: {changed:?}"
    );
}

/// Archives of past months are served as immutable.
#[test]
fn past_months_are_cached_for_good() {
    let config = config(3);
    let built = pipeline::build(&store(), &config, now());
    let files = herald::server::ServedFiles::prepare(&built.snapshot, None, &config, now(), None);
    let cache = |path: &str| files.get(path).unwrap().cache_control.to_str().unwrap().to_string();
    assert_eq!(cache("/vi/thoi-su/archive/2026-09.atom.xml"), "public, max-age=31536000, immutable");
    assert_eq!(cache("/vi/thoi-su/archive/2026-11.atom.xml"), "public, max-age=300", "the current month still changes");
    assert_eq!(cache("/vi/thoi-su/atom.xml"), "public, max-age=300");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// For random stores, the live feed and its archive chain together hold
    /// exactly the feed's visible articles.
    #[test]
    fn live_feed_and_chain_hold_exactly_the_visible_articles(
        articles in proptest::collection::vec((0usize..3, 1u32..=12, 1u32..=28, any::<bool>(), any::<bool>()), 0..30),
        limit in 1usize..6,
    ) {
        let config = config(limit);
        let store = MemoryStore::new();
        let sections = ["thoi-su", "kinh-te", "giao-duc"];
        for (n, (section, month, day, english, draft)) in articles.iter().enumerate() {
            let lang = if *english { "en" } else { "vi" };
            let extra = if *draft { "draft = true\n" } else { "" };
            store.insert(
                format!("{}/a-{n}.{lang}.md", sections[*section]),
                article(&format!("A{n}"), &format!("2026-{month:02}-{day:02}T08:00:00+07:00"), extra),
            );
        }
        let built = pipeline::build(&store, &config, now());
        for scope in feed_scopes(&built.loaded.catalog, &config) {
            let expected = visible_ids(&built, &config, &scope);
            for format in FeedFormat::ALL {
                let (live, archives) = walk(&built, &config, &scope, format);
                let union: BTreeSet<String> = live.into_iter().chain(archives.into_iter().flatten()).collect();
                prop_assert_eq!(&union, &expected, "{:?} {:?}", scope, format);
            }
        }
    }
}
