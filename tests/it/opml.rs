//! OPML 2.0 subscription lists: `/feeds.opml` holds every site, language
//! and section feed grouped by language, `/{lang}/feeds.opml` one
//! language's, `/{lang}/tags.opml` and `/{lang}/authors.opml` the term
//! feeds; a real reader (newsboat) imports them and gets exactly the feeds.
//!
//! The newsboat test skips with a message when newsboat is not installed,
//! unless `HERALD_REQUIRE_NEWSBOAT=1` (set by `.ci/run`, which installs it).

use std::collections::BTreeSet;

use crate::common::*;
use herald::render::{FeedFormat, FeedScope, feed::feed_scopes};
use quick_xml::events::Event;

/// An `<outline>` as read back: its attributes, and its depth in `<body>`
/// (1: a child of `<body>`).
#[derive(Debug)]
struct Outline {
    depth: usize,
    attributes: std::collections::BTreeMap<String, String>,
}

impl Outline {
    fn get(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

/// The `<opml version>`, `<head><title>` and every outline of an OPML file.
fn read_opml(bytes: &[u8]) -> (String, String, Vec<Outline>) {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let (mut version, mut title, mut outlines) = (String::new(), String::new(), Vec::new());
    let mut depth = 0;
    let mut in_title = false;
    let mut buf = Vec::new();
    let decoder = reader.decoder();
    loop {
        let event = reader.read_event_into(&mut buf).expect("well-formed OPML");
        let attributes = |e: &quick_xml::events::BytesStart<'_>| -> std::collections::BTreeMap<String, String> {
            e.attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, decoder)
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect()
        };
        match event {
            Event::Start(e) if e.name().as_ref() == b"opml" => {
                version = attributes(&e).get("version").cloned().unwrap_or_default()
            }
            Event::Start(e) if e.name().as_ref() == b"title" => in_title = true,
            Event::Text(t) if in_title => title = t.decode().unwrap().into_owned(),
            Event::End(e) if e.name().as_ref() == b"title" => in_title = false,
            Event::Start(e) if e.name().as_ref() == b"outline" => {
                depth += 1;
                outlines.push(Outline { depth, attributes: attributes(&e) });
            }
            Event::Empty(e) if e.name().as_ref() == b"outline" => {
                outlines.push(Outline { depth: depth + 1, attributes: attributes(&e) })
            }
            Event::End(e) if e.name().as_ref() == b"outline" => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    (version, title, outlines)
}

/// The RSS URLs of the feeds `keep` selects in the basic fixture.
fn rss_urls(keep: impl Fn(&FeedScope) -> bool) -> BTreeSet<String> {
    let built = build_fixture("basic");
    let config = fixture_config("basic");
    feed_scopes(&built.loaded.catalog, &config)
        .into_iter()
        .filter(|s| keep(s))
        .map(|s| config.url_for(&s.path(FeedFormat::Rss, &config)))
        .collect()
}

fn is_term(scope: &FeedScope, lang: &str, taxonomy: herald::config::Taxonomy) -> bool {
    matches!(scope, FeedScope::Term(t) if t.lang == lang && t.taxonomy == taxonomy)
}

/// `/feeds.opml`: OPML 2.0, one outline per language (default first)
/// holding that language's site, language and section feeds, each with
/// `type="rss"`, `text`, `title`, `xmlUrl`, `htmlUrl` and `language`; no
/// term feeds. `/{lang}/feeds.opml` holds the same feeds of one language,
/// and the term lists their taxonomy's feeds of one language.
#[test]
fn opml_lists_every_feed_grouped_by_language() {
    let built = build_fixture("basic");
    let file = built.snapshot.get("/feeds.opml").expect("/feeds.opml");
    assert_eq!(file.content_type, "text/x-opml; charset=utf-8");
    assert!(!file.etag.is_empty());
    let (version, title, outlines) = read_opml(&file.body);
    assert_eq!(version, "2.0");
    assert_eq!(title, "Báo Mẫu – feeds");
    let groups: Vec<(&str, &str)> = outlines
        .iter()
        .filter(|o| o.depth == 1)
        .map(|o| (o.get("language").unwrap(), o.get("text").unwrap()))
        .collect();
    assert_eq!(groups, [("vi", "Tiếng Việt"), ("en", "English")]);
    let feeds: Vec<&Outline> = outlines.iter().filter(|o| o.depth == 2).collect();
    let mut urls = BTreeSet::new();
    let mut lang = "";
    for outline in &outlines {
        if outline.depth == 1 {
            lang = outline.get("language").unwrap();
            continue;
        }
        assert_eq!(outline.get("type"), Some("rss"), "{outline:?}");
        assert_eq!(outline.get("language"), Some(lang), "grouped by language: {outline:?}");
        for name in ["text", "title", "xmlUrl", "htmlUrl"] {
            assert!(outline.get(name).is_some_and(|v| !v.is_empty()), "{name} in {outline:?}");
        }
        assert!(outline.get("htmlUrl").unwrap().starts_with("https://example.vn/"));
        urls.insert(outline.get("xmlUrl").unwrap().to_string());
    }
    assert_eq!(urls.len(), feeds.len(), "each feed once");
    assert_eq!(urls, rss_urls(|s| !matches!(s, FeedScope::Term(_))));
    assert!(urls.contains("https://example.vn/vi/thoi-su/rss.xml"));

    let (_, _, vi) = read_opml(&built.snapshot.get("/vi/feeds.opml").unwrap().body);
    let vi: BTreeSet<String> = vi.iter().map(|o| o.get("xmlUrl").unwrap().to_string()).collect();
    assert_eq!(vi, rss_urls(|s| s.lang(&fixture_config("basic")) == "vi" && !matches!(s, FeedScope::Term(_))));

    use herald::config::Taxonomy;
    for (path, lang, taxonomy) in [
        ("/vi/tags.opml", "vi", Taxonomy::Tags),
        ("/vi/authors.opml", "vi", Taxonomy::Authors),
        ("/en/tags.opml", "en", Taxonomy::Tags),
        ("/en/authors.opml", "en", Taxonomy::Authors),
    ] {
        let (_, _, outlines) = read_opml(&built.snapshot.get(path).unwrap().body);
        let urls: BTreeSet<String> = outlines.iter().map(|o| o.get("xmlUrl").unwrap().to_string()).collect();
        assert_eq!(urls, rss_urls(|s| is_term(s, lang, taxonomy)), "{path}");
        assert!(!urls.is_empty());
    }
    assert!(built.snapshot.get("/vi/categories.opml").is_none(), "no categories in the fixture, no list");
}

/// newsboat imports `/feeds.opml` and `/vi/tags.opml` (`newsboat -i`), and
/// its list of URLs is exactly the feeds they hold.
#[test]
fn newsboat_imports_the_opml() {
    if which("newsboat").is_none() {
        assert!(
            std::env::var("HERALD_REQUIRE_NEWSBOAT").is_err(),
            "HERALD_REQUIRE_NEWSBOAT is set but newsboat is not installed"
        );
        eprintln!("SKIPPED newsboat_imports_the_opml: newsboat is not installed (apt install newsboat)");
        return;
    }
    let built = build_fixture("basic");
    let dir = tempfile::tempdir().unwrap();
    let urls_file = dir.path().join("urls");
    std::fs::write(&urls_file, "").unwrap();
    for path in ["/feeds.opml", "/vi/tags.opml"] {
        let opml = dir.path().join(path.trim_start_matches('/').replace('/', "-"));
        std::fs::write(&opml, &built.snapshot.get(path).unwrap().body).unwrap();
        let output = std::process::Command::new("newsboat")
            .env("HOME", dir.path())
            .arg("-u")
            .arg(&urls_file)
            .arg("-c")
            .arg(dir.path().join("cache.db"))
            .args(["-C", "/dev/null", "-i"])
            .arg(&opml)
            .output()
            .unwrap();
        assert!(output.status.success(), "newsboat -i {path}: {output:?}");
    }
    // One URL per line, then the tags newsboat gives it (the language
    // group's name).
    let imported: BTreeSet<String> = std::fs::read_to_string(&urls_file)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(String::from))
        .collect();
    let expected = rss_urls(|s| !matches!(s, FeedScope::Term(_)) || is_term(s, "vi", herald::config::Taxonomy::Tags));
    assert_eq!(imported, expected);
}

/// The path of `program` on `PATH`, if it is there.
fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}
