//! Atom 1.0 (RFC 4287) writer, on the `atom_syndication` crate.
//!
//! The crate validates nothing, so this writer supplies every required
//! element itself: feed `id`, `title`, `updated`, a feed-level `author`
//! (entries may have none), entry `id`/`title`/`updated`, and an alternate
//! link. Entries carry `xml:lang` on their text constructs (the crate has no
//! per-entry `xml:lang`), categories, and an enclosure link per image.
//!
//! Each entry has exactly one `rel="alternate"` link: its own page. Its
//! translations are `rel="related"` links with `hreflang`: readers disagree
//! on which of several alternates is the entry's link (feedparser keeps the
//! last, rss-parser, gofeed and feed-rs users the first), and none takes a
//! `related` link for it, while a client that looks for translations still
//! finds them (RFC 4287 section 4.2.7.2).

use atom_syndication::{Category, Content, Entry, Feed, Generator, Link, Person, Text, WriteConfig};

use super::feed::{FeedDoc, FeedFormat, FeedItem};
use super::time::chrono_fixed;
use crate::config::Config;

/// Writes `doc` as an Atom 1.0 document.
pub fn write(doc: &FeedDoc, config: &Config) -> Vec<u8> {
    write_items(doc, &doc.items, config)
}

/// Writes `doc` with `items` (some of its items) as its entries, the rest
/// as for the whole document ([`super::splice`]).
pub fn write_items(doc: &FeedDoc, items: &[FeedItem], config: &Config) -> Vec<u8> {
    let tz = &config.site.time_zone;
    let feed = Feed {
        title: Text::plain(doc.title.clone()),
        id: doc.url(FeedFormat::Atom).to_string(),
        updated: chrono_fixed(doc.updated, tz),
        authors: vec![Person {
            name: config.site_title(&doc.lang).to_string(),
            uri: Some(config.site.base_url.to_string()),
            ..Person::default()
        }],
        links: [
            link(doc.url(FeedFormat::Atom), "self", Some(FeedFormat::Atom.media_type()), None),
            link(&doc.home_url, "alternate", Some("text/html"), None),
        ]
        .into_iter()
        .chain(
            config
                .hubs()
                .iter()
                .filter(|_| !matches!(doc.history, super::archive::History::Archive { .. }))
                .map(|hub| link(hub, "hub", None, None)),
        )
        .chain(
            doc.history_links(FeedFormat::Atom, config)
                .iter()
                .map(|(rel, href)| link(href, rel, Some(FeedFormat::Atom.media_type()), None)),
        )
        .collect(),
        generator: Some(Generator { value: super::GENERATOR.to_string(), uri: None, version: None }),
        logo: config.site.logo.as_ref().map(|l| l.to_string()),
        rights: config.site.copyright.clone().map(Text::plain),
        subtitle: (!doc.description.is_empty()).then(|| Text::plain(doc.description.clone())),
        lang: Some(doc.lang.clone()),
        entries: items.iter().map(|item| entry(item, config)).collect(),
        ..Feed::default()
    };
    let mut feed = feed;
    let marker = super::rss::history_marker(doc);
    if marker.is_some() {
        feed.namespaces.insert("fh".to_string(), super::archive::HISTORY_NS.to_string());
    }
    let mut out = Vec::with_capacity(4096 + items.len() * 2048);
    out.extend_from_slice(super::XML_DECLARATION.as_bytes());
    let write_config = WriteConfig { write_document_declaration: false, indent_size: Some(2) };
    // Writing to a Vec cannot fail.
    let _ = feed.write_with_config(&mut out, write_config);
    out.push(b'\n');
    match marker {
        // RFC 4287 wants extension elements before the entries; the crate
        // writes its extensions after them, so the marker goes in here.
        Some(marker) => super::archive::insert_marker(out, "<feed ", marker),
        None => out,
    }
}

fn link(href: &str, rel: &str, mime_type: Option<&str>, hreflang: Option<&str>) -> Link {
    Link {
        href: href.to_string(),
        rel: rel.to_string(),
        mime_type: mime_type.map(str::to_string),
        hreflang: hreflang.map(str::to_string),
        ..Link::default()
    }
}

fn entry(item: &FeedItem, config: &Config) -> Entry {
    let a = &item.article;
    let tz = &config.site.time_zone;
    let lang = Some(a.lang.clone());
    let mut title = Text::plain(a.title.clone());
    title.lang = lang.clone();
    let summary = (!a.summary.is_empty()).then(|| {
        let mut s = Text::plain(a.summary.clone());
        s.lang = lang.clone();
        s
    });
    let content = item.content_html.as_ref().map(|html| Content {
        value: Some(html.to_string()),
        content_type: Some("html".to_string()),
        lang: lang.clone(),
        ..Content::default()
    });
    let mut links = vec![link(&a.url, "alternate", Some("text/html"), Some(&a.lang))];
    links.extend(item.translations.iter().map(|(l, url)| link(url, "related", Some("text/html"), Some(l))));
    links.extend(
        a.images.iter().map(|image| link(&image.src, "enclosure", Some(image.media_type().unwrap_or("image/*")), None)),
    );
    let mut categories =
        vec![Category { term: a.section.clone(), scheme: None, label: Some(item.section_title.clone()) }];
    categories.extend(a.tags.iter().map(|t| Category { term: t.clone(), scheme: None, label: None }));
    Entry {
        title,
        id: item.iri.clone(),
        updated: chrono_fixed(a.updated(), tz),
        published: Some(chrono_fixed(a.date, tz)),
        authors: a.authors.iter().map(|name| Person { name: name.clone(), ..Person::default() }).collect(),
        summary,
        content,
        links,
        categories,
        ..Entry::default()
    }
}
