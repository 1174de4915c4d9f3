//! RSS 2.0 writer, on the `rss` crate.
//!
//! Items carry a stable `guid` (isPermaLink="false"), `pubDate` in RFC 822
//! with the site's offset, the summary as `description` (escaped: readers
//! take it as HTML, and the summary is plain text), the full body as
//! `content:encoded`, one `dc:creator` per author, the section and tags as
//! `category`, and Media RSS `media:content` per image (the `media`
//! namespace is declared by hand: the crate does not know it).

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::{Extension, ExtensionMap};
use rss::{Category, Channel, Guid, Image, Item};

use super::feed::{FeedDoc, FeedFormat, FeedItem};
use super::time::rfc2822;
use crate::config::Config;

const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";
const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";

/// Writes `doc` as an RSS 2.0 document.
pub fn write(doc: &FeedDoc, config: &Config) -> Vec<u8> {
    write_items(doc, &doc.items, config)
}

/// Writes `doc` with `items` (some of its items) in place of all of them:
/// everything else, namespace declarations included, is that of the whole
/// document, so its items can be written one at a time
/// ([`super::splice`]).
pub fn write_items(doc: &FeedDoc, items: &[FeedItem], config: &Config) -> Vec<u8> {
    let tz = &config.site.time_zone;
    let mut channel = Channel {
        title: doc.title.clone(),
        link: doc.home_url.clone(),
        description: if doc.description.is_empty() { doc.title.clone() } else { doc.description.clone() },
        language: Some(doc.lang.clone()),
        copyright: config.site.copyright.clone(),
        last_build_date: (!doc.items.is_empty()).then(|| rfc2822(doc.updated, tz)),
        generator: Some(super::GENERATOR.to_string()),
        docs: Some("https://www.rssboard.org/rss-specification".to_string()),
        image: config.site.logo.as_ref().map(|logo| Image {
            url: logo.to_string(),
            title: doc.title.clone(),
            link: doc.home_url.clone(),
            ..Image::default()
        }),
        atom_ext: Some(AtomExtension { links: feed_links(doc, config) }),
        items: items.iter().map(|item| rss_item(item, config)).collect(),
        ..Channel::default()
    };
    // The namespaces the items use, declared for all of them (the crate
    // declares those of the items it writes).
    if doc.items.iter().any(|i| i.content_html.is_some()) {
        channel.namespaces.insert("content".to_string(), CONTENT_NS.to_string());
    }
    if doc.items.iter().any(|i| !i.article.authors.is_empty()) {
        channel.namespaces.insert("dc".to_string(), rss::extension::dublincore::NAMESPACE.to_string());
    }
    if doc.items.iter().any(|i| !i.article.images.is_empty()) {
        channel.namespaces.insert("media".to_string(), MEDIA_NS.to_string());
    }
    let marker = history_marker(doc);
    if marker.is_some() {
        channel.namespaces.insert("fh".to_string(), super::archive::HISTORY_NS.to_string());
    }
    let mut out = Vec::with_capacity(4096 + items.len() * 2048);
    // Writing to a Vec cannot fail.
    let _ = channel.pretty_write_to(&mut out, b' ', 2);
    out.push(b'\n');
    match marker {
        Some(marker) => super::archive::insert_marker(out, "<channel", marker),
        None => out,
    }
}

/// `atom:link rel="self"`, `rel="hub"` for each WebSub hub (live feeds
/// only), and the feed-history links (RFC 5005 Appendix B).
fn feed_links(doc: &FeedDoc, config: &Config) -> Vec<Link> {
    let mut links = vec![Link {
        href: doc.url(FeedFormat::Rss).to_string(),
        rel: "self".to_string(),
        mime_type: Some(FeedFormat::Rss.media_type().to_string()),
        ..Link::default()
    }];
    if !matches!(doc.history, super::archive::History::Archive { .. }) {
        links.extend(config.hubs().into_iter().map(|hub| Link {
            href: hub,
            rel: "hub".to_string(),
            ..Link::default()
        }));
    }
    links.extend(doc.history_links(FeedFormat::Rss, config).into_iter().map(|(rel, href)| Link {
        href,
        rel: rel.to_string(),
        mime_type: Some(FeedFormat::Rss.media_type().to_string()),
        ..Link::default()
    }));
    links
}

/// `complete` or `archive` when the document carries that RFC 5005 marker.
pub fn history_marker(doc: &FeedDoc) -> Option<&'static str> {
    match doc.history {
        super::archive::History::Complete => Some("complete"),
        super::archive::History::Archive { .. } => Some("archive"),
        _ => None,
    }
}

fn rss_item(item: &FeedItem, config: &Config) -> Item {
    let a = &item.article;
    let mut categories = vec![Category { name: item.section_title.clone(), domain: None }];
    categories.extend(a.tags.iter().map(|t| Category { name: t.clone(), domain: None }));
    let dublin_core = (!a.authors.is_empty())
        .then(|| DublinCoreExtension { creators: a.authors.clone(), ..DublinCoreExtension::default() });
    Item {
        title: Some(a.title.clone()),
        link: Some(a.url.clone()),
        description: (!a.summary.is_empty()).then(|| html_text(&a.summary)),
        guid: Some(Guid { value: item.iri.clone(), permalink: false }),
        pub_date: Some(rfc2822(a.date, &config.site.time_zone)),
        content: item.content_html.as_deref().map(str::to_string),
        categories,
        dublin_core_ext: dublin_core,
        extensions: media_extensions(item),
        ..Item::default()
    }
}

/// Plain `text` as HTML showing the same characters (`<`, `>` and `&`
/// escaped): what an RSS `description` must hold, since readers render it
/// as HTML. (No `]]>` can remain either to end the CDATA section early.)
fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `media:content` per image, with `media:description` for the caption and
/// `media:title` for the alternative text.
fn media_extensions(item: &FeedItem) -> ExtensionMap {
    let mut map = ExtensionMap::default();
    if item.article.images.is_empty() {
        return map;
    }
    let contents = item
        .article
        .images
        .iter()
        .map(|image| {
            let mut attrs = BTreeMap::new();
            attrs.insert("url".to_string(), image.src.clone());
            attrs.insert("medium".to_string(), "image".to_string());
            if let Some(mime) = image.media_type() {
                attrs.insert("type".to_string(), mime.to_string());
            }
            let mut children = BTreeMap::new();
            if let Some(caption) = &image.caption {
                children.insert("media:description".to_string(), vec![text_extension("media:description", caption)]);
            }
            if let Some(alt) = &image.alt {
                children.insert("media:title".to_string(), vec![text_extension("media:title", alt)]);
            }
            Extension { name: "media:content".to_string(), value: None, attrs, children }
        })
        .collect();
    let mut media = BTreeMap::new();
    media.insert("content".to_string(), contents);
    map.insert("media".to_string(), media);
    map
}

fn text_extension(name: &str, text: &str) -> Extension {
    Extension {
        name: name.to_string(),
        value: Some(text.to_string()),
        attrs: BTreeMap::new(),
        children: BTreeMap::new(),
    }
}
