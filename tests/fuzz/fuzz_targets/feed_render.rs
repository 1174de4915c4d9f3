//! Fuzz target: one article document (front matter in TOML, YAML or JSON,
//! a Markdown or HTML body), whatever its bytes, goes through the whole
//! pipeline (store rules, article, catalog, every renderer), and every file
//! of the site must still be sound:
//!
//! - no panic, and the same input renders the same bytes twice;
//! - every text file is UTF-8; every XML file holds only characters XML 1.0
//!   allows and is well-formed for quick-xml (ends match, every entity and
//!   attribute decodes, one root element);
//! - every feed reads back with its own crate (rss, atom_syndication,
//!   serde_json), and the HTML of a JSON Feed item is a fixed point of
//!   herald's own sanitiser (sanitising it again changes nothing: nothing
//!   in it is markup the sanitiser would remove).
//!
//! The first input byte picks where the document lives (its language, its
//! format); the rest are the document's bytes.

#![no_main]

use std::sync::LazyLock;

use herald::config::{Config, Overrides};
use herald::markdown::{BodyFormat, render_body};
use herald::pipeline;
use herald::snapshot::{ResourceKind, Snapshot};
use herald::store::MemoryStore;
use libfuzzer_sys::fuzz_target;
use quick_xml::events::Event;

/// Where the fuzzed document is put: each language, each layout, each format.
const PATHS: [&str; 6] = [
    "thoi-su/bai.vi.md",
    "thoi-su/bai.en.md",
    "thoi-su/bai/index.vi.md",
    "kinh-te/bai.vi.json",
    "kinh-te/bai.en.json",
    "the-thao/bai.md",
];

/// A newsroom's configuration: two languages, one at the site root, and
/// sections both declared and not.
const CONFIG: &str = r#"
store = "unused"
[site]
base_url = "https://example.vn/tin/"
default_language = "vi"
time_zone = "Asia/Ho_Chi_Minh"
title = { vi = "Báo <Mẫu> & \"Tin\"", en = "Sample ]]> News" }
description = { vi = "Tin mẫu", en = "Sample news" }
copyright = "© Báo Mẫu"
logo = "/logo.png"
id_prefix = "tag:example.vn,2026:"

[languages.vi]
name = "Tiếng Việt"
prefix = ""

[languages.en]
name = "English"

[sections.thoi-su]
title = { vi = "Thời sự", en = "News" }

[sections.kinh-te]
title = { vi = "Kinh tế", en = "Economy" }
"#;

static SETUP: LazyLock<(Config, jiff::Timestamp)> = LazyLock::new(|| {
    let config = Config::parse(CONFIG, std::path::Path::new("feeds.toml"), &Overrides::default())
        .expect("the fuzz configuration is valid");
    (config, "2026-11-26T12:00:00+07:00".parse().unwrap())
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, document)) = data.split_first() else { return };
    let (config, now) = &*SETUP;
    let store = MemoryStore::new();
    store.insert(PATHS[usize::from(selector) % PATHS.len()], document.to_vec());
    let built = pipeline::build(&store, config, *now);
    check_site(&built.snapshot, config);
    let again = pipeline::build(&store, config, *now);
    let bytes = |s: &Snapshot| s.iter().map(|(p, r)| (p.clone(), r.body.clone())).collect::<Vec<_>>();
    assert!(bytes(&built.snapshot) == bytes(&again.snapshot), "the same store rendered different bytes");
});

fn check_site(snapshot: &Snapshot, config: &Config) {
    for (path, resource) in snapshot.iter() {
        if path.ends_with(".gz") || !resource.content_type.contains("charset") && !is_xml(path) {
            continue;
        }
        let text = std::str::from_utf8(&resource.body).unwrap_or_else(|e| panic!("{path} is not UTF-8: {e}"));
        if is_xml(path) {
            if let Some(c) = text.chars().find(|c| !allowed_in_xml(*c)) {
                panic!("{path} holds U+{:04X}, which XML 1.0 forbids", u32::from(c));
            }
            check_well_formed(path, text);
        }
        if resource.kind == ResourceKind::Feed || matches!(resource.kind, ResourceKind::Archive { .. }) {
            check_feed(path, &resource.body, config);
        }
    }
}

fn is_xml(path: &str) -> bool {
    path.ends_with(".xml") || path.ends_with(".xsl")
}

/// XML 1.0's `Char` production, written out here rather than borrowed from
/// herald.
fn allowed_in_xml(c: char) -> bool {
    let c = u32::from(c);
    c == 0x9 || c == 0xA || c == 0xD || (0x20..=0xD7FF).contains(&c) || (0xE000..=0xFFFD).contains(&c) || c >= 0x10000
}

fn check_well_formed(path: &str, text: &str) {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("{path} is not well-formed: {e}"));
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                if depth == 0 {
                    roots += 1;
                }
                for attribute in e.attributes() {
                    let attribute = attribute.unwrap_or_else(|e| panic!("{path}: a broken attribute: {e}"));
                    attribute
                        .decoded_and_normalized_value(quick_xml::XmlVersion::Explicit1_0, reader.decoder())
                        .unwrap_or_else(|e| panic!("{path}: an attribute does not decode: {e}"));
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth -= 1,
            Event::Text(t) => {
                t.decode().unwrap_or_else(|e| panic!("{path}: text does not decode: {e}"));
            }
            Event::GeneralRef(r) => {
                let name = r.decode().unwrap_or_else(|e| panic!("{path}: a reference does not decode: {e}"));
                let known = matches!(name.as_ref(), "lt" | "gt" | "amp" | "quot" | "apos")
                    || r.resolve_char_ref().ok().flatten().is_some();
                assert!(known, "{path}: an undefined entity &{name};");
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "{path}: elements left open");
    assert_eq!(roots, 1, "{path}: {roots} root elements");
}

fn check_feed(path: &str, body: &[u8], config: &Config) {
    if path.ends_with(".json") {
        let feed: serde_json::Value =
            serde_json::from_slice(body).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
        let base = url::Url::parse(config.site.base_url.as_str()).unwrap();
        for item in feed["items"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(html) = item["content_html"].as_str() else { continue };
            let permalink = url::Url::parse(item["url"].as_str().expect("an item has a url")).unwrap();
            let again = render_body(html, BodyFormat::Html, &base, &permalink);
            assert_eq!(again, html, "{path}: the item's HTML is not what herald's sanitiser makes of it");
        }
    } else if path.contains("atom") || path.ends_with(".atom") {
        atom_syndication::Feed::read_from(body).unwrap_or_else(|e| panic!("{path} does not read as Atom: {e}"));
    } else if path.ends_with(".xml") {
        rss::Channel::read_from(body).unwrap_or_else(|e| panic!("{path} does not read as RSS: {e}"));
    }
}
