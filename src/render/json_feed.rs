//! JSON Feed 1.1 writer: our own serde structs (the format is small and a
//! crate adds little). Optional members are left out rather than written as
//! `null`, as the specification asks.

use serde::Serialize;

use super::feed::{FeedDoc, FeedFormat, FeedItem};
use super::time::rfc3339;
use crate::config::Config;

/// The JSON Feed 1.1 version URL.
pub const VERSION: &str = "https://jsonfeed.org/version/1.1";

/// A JSON Feed 1.1 document.
#[derive(Debug, Serialize)]
pub struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    /// The next older part of the history (RFC 5005's chain, in JSON Feed's
    /// own paging member).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    favicon: Option<String>,
    authors: Vec<Author<'a>>,
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<HubEntry>,
    items: Vec<JsonItem<'a>>,
}

/// One entry of a JSON Feed's `hubs`: where to subscribe for real-time
/// notification.
#[derive(Debug, Serialize)]
pub struct HubEntry {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

/// One JSON Feed author.
#[derive(Debug, Serialize)]
pub struct Author<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// One JSON Feed item. Also the article payload of webhooks.
#[derive(Debug, Serialize)]
pub struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    language: &'a str,
}

/// Writes `doc` as a JSON Feed 1.1 document.
pub fn write(doc: &FeedDoc, config: &Config) -> Vec<u8> {
    write_items(doc, &doc.items, config)
}

/// Writes `doc` with `items` (some of its items) as its items, the rest as
/// for the whole document ([`super::splice`]).
pub fn write_items(doc: &FeedDoc, items: &[FeedItem], config: &Config) -> Vec<u8> {
    let feed = JsonFeed {
        version: VERSION,
        title: &doc.title,
        home_page_url: &doc.home_url,
        feed_url: doc.url(FeedFormat::Json),
        description: (!doc.description.is_empty()).then_some(doc.description.as_str()),
        next_url: doc
            .history_links(FeedFormat::Json, config)
            .into_iter()
            .find(|(rel, _)| *rel == "prev-archive")
            .map(|(_, url)| url),
        icon: config.site.logo.as_ref().map(|l| l.to_string()),
        favicon: config.site.logo.as_ref().map(|l| l.to_string()),
        authors: vec![Author { name: config.site_title(&doc.lang), url: Some(config.site.base_url.as_str()) }],
        language: &doc.lang,
        hubs: if matches!(doc.history, super::archive::History::Archive { .. }) {
            Vec::new()
        } else {
            config.hubs().into_iter().map(|url| HubEntry { kind: "WebSub", url }).collect()
        },
        items: items.iter().map(|item| item_of(item, config)).collect(),
    };
    let mut out = serde_json::to_vec_pretty(&feed).unwrap_or_default();
    out.push(b'\n');
    out
}

/// One article as a JSON Feed item.
pub fn item_of<'a>(item: &'a FeedItem, config: &Config) -> JsonItem<'a> {
    let a = &item.article;
    let tz = &config.site.time_zone;
    let summary = (!a.summary.is_empty()).then_some(a.summary.as_str());
    JsonItem {
        id: &item.iri,
        url: &a.url,
        title: &a.title,
        content_html: item.content_html.as_deref(),
        // An item needs content: without the body, its summary is the text.
        content_text: if item.content_html.is_none() { Some(summary.unwrap_or("")) } else { None },
        summary,
        image: a.images.first().map(|i| i.src.as_str()),
        date_published: rfc3339(a.date, tz),
        date_modified: (a.updated() > a.date).then(|| rfc3339(a.updated(), tz)),
        authors: a.authors.iter().map(|name| Author { name, url: None }).collect(),
        tags: a.tags.iter().map(String::as_str).collect(),
        language: &a.lang,
    }
}
