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

fn config(item_limit: usize) -> Config {
    let text = format!("store = \"unused\"\n{TEST_CONFIG}\n[feeds]\nitem_limit = {item_limit}\n");
    Config::parse(&text, Path::new("feeds.toml"), &Overrides::default()).unwrap()
}

fn article(title: &str, date: &str, extra: &str) -> String {
    format!("+++\ntitle = \"{title}\"\ndate = {date}\n{extra}+++\nBody of {title}.\n")
}

/// An article as the test writes it: what each feed should hold is derived
/// from these, never from the catalog under test.
#[derive(Debug, Clone)]
struct Written {
    lang: &'static str,
    section: &'static str,
    slug: String,
    /// `YYYY-MM-DD`, at 08:00 in the site's time zone.
    day: String,
    draft: bool,
}

impl Written {
    fn id(&self) -> String {
        format!("tag:example.vn,2026:{}/{}/{}", self.lang, self.section, self.slug)
    }

    fn date(&self) -> String {
        format!("{}T08:00:00+07:00", self.day)
    }

    fn visible(&self) -> bool {
        !self.draft && self.date().parse::<jiff::Timestamp>().unwrap() <= now()
    }

    /// Whether `scope` shows this article (the site feeds: the default
    /// language, vi).
    fn in_scope(&self, scope: &FeedScope) -> bool {
        match scope {
            FeedScope::Site => self.lang == "vi",
            FeedScope::Language(lang) => lang == self.lang,
            FeedScope::Section { lang, section } => lang == self.lang && section == self.section,
            FeedScope::Term(_) => false,
        }
    }
}

/// A memory store holding `written`.
fn store_of(written: &[Written]) -> MemoryStore {
    let store = MemoryStore::new();
    for w in written {
        let extra = if w.draft { "draft = true\n" } else { "" };
        store.insert(format!("{}/{}.{}.md", w.section, w.slug, w.lang), article(&w.slug, &w.date(), extra));
    }
    store
}

/// The visible articles of `scope` among `written`, newest first.
fn expected<'a>(written: &'a [Written], scope: &FeedScope) -> Vec<&'a Written> {
    let mut shown: Vec<&Written> = written.iter().filter(|w| w.visible() && w.in_scope(scope)).collect();
    shown.sort_by(|a, b| b.day.cmp(&a.day));
    shown
}

/// Three months of `thoi-su`, a draft, a future article and a small
/// section.
fn fixture() -> Vec<Written> {
    let days = ["2026-09-03", "2026-09-20", "2026-10-02", "2026-10-15", "2026-10-28", "2026-11-05", "2026-11-20"];
    let at = |section, slug: &str, day: &str, draft| Written {
        lang: "vi",
        section,
        slug: slug.to_string(),
        day: day.to_string(),
        draft,
    };
    let mut written: Vec<Written> =
        days.iter().enumerate().map(|(n, day)| at("thoi-su", &format!("bai-{n}"), day, false)).collect();
    written.push(at("thoi-su", "nhap", "2026-10-10", true));
    written.push(at("thoi-su", "sau", "2026-12-24", false));
    written.push(at("kinh-te", "mot", "2026-10-10", false));
    written
}

/// The fixture's store.
fn store() -> MemoryStore {
    store_of(&fixture())
}

/// Walking prev-archive from each live feed visits every visible article
/// of that feed exactly once, in every format: the live feed holds the
/// newest three, each archive document one month's articles, newest month
/// first; drafts and future articles never appear. Every feed that should
/// exist does.
#[test]
fn the_chain_visits_every_article_once() {
    let config = config(3);
    let written = fixture();
    let built = pipeline::build(&store_of(&written), &config, now());
    let scopes = feed_scopes(&built.loaded.catalog, &config);
    let mut walked = 0;
    for scope in &scopes {
        let expected = expected(&written, scope);
        let ids = |articles: &[&Written]| articles.iter().map(|w| w.id()).collect::<Vec<_>>();
        for format in FeedFormat::ALL {
            let (live, archives) = walk(&built, &config, scope, format);
            if expected.len() <= 3 {
                assert!(archives.is_empty(), "{scope:?} fits its live feed");
                assert_eq!(live, ids(&expected), "{scope:?} {format:?}");
                continue;
            }
            walked += 1;
            assert_eq!(live, ids(&expected[..3]), "{scope:?} {format:?}: the live feed");
            let mut months: Vec<Vec<String>> = Vec::new();
            for (i, w) in expected.iter().enumerate() {
                if i == 0 || w.day[..7] != expected[i - 1].day[..7] {
                    months.push(Vec::new());
                }
                months.last_mut().unwrap().push(w.id());
            }
            assert_eq!(archives, months, "{scope:?} {format:?}: one archive per month, each article once");
        }
    }
    assert_eq!(walked, 9, "the site, Vietnamese and thoi-su feeds in three formats have archives");
    for scope in [
        FeedScope::Site,
        FeedScope::Language("vi".into()),
        FeedScope::Section { lang: "vi".into(), section: "thoi-su".into() },
        FeedScope::Section { lang: "vi".into(), section: "kinh-te".into() },
    ] {
        assert!(scopes.contains(&scope), "no feeds for {scope:?}: {scopes:?}");
    }
    let everything: String =
        built.snapshot.iter().map(|(_, r)| String::from_utf8_lossy(&r.body).into_owned()).collect();
    assert!(
        !everything.contains("nhap") && !everything.contains("<title>sau</title>"),
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
    // Each document's HTML view changes with it.
    let (views, changed): (Vec<String>, Vec<String>) = changed.into_iter().partition(|p| p.ends_with(".html"));
    assert_eq!(views, changed.iter().map(|p| format!("{p}.html")).collect::<Vec<_>>());
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

    /// For random stores, the archive chain holds each of the feed's
    /// visible articles exactly once (counted, not as a set), and the live
    /// feed the newest of them; the visible articles are derived from what
    /// was written, not from the catalog.
    #[test]
    fn live_feed_and_chain_hold_exactly_the_visible_articles(
        articles in proptest::collection::vec((0usize..3, 1u32..=12, 1u32..=28, any::<bool>(), any::<bool>()), 0..30),
        limit in 1usize..6,
    ) {
        let config = config(limit);
        let sections = ["thoi-su", "kinh-te", "giao-duc"];
        let written: Vec<Written> = articles
            .iter()
            .enumerate()
            .map(|(n, (section, month, day, english, draft))| Written {
                lang: if *english { "en" } else { "vi" },
                section: sections[*section],
                slug: format!("a-{n}"),
                day: format!("2026-{month:02}-{day:02}"),
                draft: *draft,
            })
            .collect();
        let built = pipeline::build(&store_of(&written), &config, now());
        let scopes = feed_scopes(&built.loaded.catalog, &config);
        for scope in &scopes {
            let expected = expected(&written, scope);
            let mut expected_ids: Vec<String> = expected.iter().map(|w| w.id()).collect();
            expected_ids.sort();
            for format in FeedFormat::ALL {
                let (live, archives) = walk(&built, &config, scope, format);
                let mut held: Vec<String> =
                    if archives.is_empty() { live.clone() } else { archives.into_iter().flatten().collect() };
                held.sort();
                prop_assert_eq!(&held, &expected_ids, "{:?} {:?}", scope, format);
                prop_assert_eq!(live.len(), expected.len().min(limit), "{:?} {:?}", scope, format);
                // The live feed holds the newest: none left out is newer.
                let day = |id: &String| expected.iter().find(|w| w.id() == *id).map(|w| w.day.clone());
                let oldest_live = live.iter().filter_map(day).min();
                let newest_left = expected.iter().filter(|w| !live.contains(&w.id())).map(|w| w.day.clone()).max();
                prop_assert!(
                    oldest_live.is_none() || newest_left.is_none() || newest_left <= oldest_live,
                    "{:?} {:?}: {:?} left out of the live feed, which holds {:?}", scope, format, newest_left, live
                );
            }
        }
        for w in written.iter().filter(|w| w.visible()) {
            let section = FeedScope::Section { lang: w.lang.into(), section: w.section.into() };
            prop_assert!(scopes.contains(&section), "no feeds for {:?}", section);
        }
    }
}
