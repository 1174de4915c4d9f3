//! Reads a rendered feed, archive or sitemap back into a [`Page`]: what its
//! HTML view shows. Each format is read with the crate that wrote it (rss,
//! atom_syndication, serde_json) or, for sitemaps, with quick-xml.
//!
//! Reading the document itself (rather than the catalog) makes the view a
//! function of the bytes it stands for: any code path that writes a feed or
//! sitemap gets the matching view, and the two can never disagree.

use jiff::Timestamp;
use quick_xml::events::Event;

use super::{Entry, Item, Page, PageKind};

/// Reads an RSS 2.0 document.
pub(super) fn rss(bytes: &[u8]) -> Option<Page> {
    let channel = rss::Channel::read_from(bytes).ok()?;
    let links = channel.atom_ext().map(|ext| ext.links().to_vec()).unwrap_or_default();
    let nav = navigation(links.iter().map(|l| (l.rel(), l.href())));
    let items = channel
        .items()
        .iter()
        .map(|item| Item {
            title: item.title().unwrap_or_default().to_string(),
            link: item.link().unwrap_or_default().to_string(),
            date: item.pub_date().and_then(|d| jiff::fmt::rfc2822::parse(d).ok()).map(|z| z.timestamp()),
            authors: item.dublin_core_ext().map(|dc| dc.creators().to_vec()).unwrap_or_default(),
            // The description holds the summary as HTML.
            summary: html_to_text(item.description().unwrap_or_default()),
        })
        .collect();
    Some(Page {
        kind: PageKind::Feed { archive: false },
        lang: channel.language().unwrap_or_default().to_string(),
        title: channel.title().to_string(),
        description: channel.description().to_string(),
        home: Some(channel.link().to_string()).filter(|l| !l.is_empty()),
        items,
        nav,
        entries: Vec::new(),
    })
}

/// Reads an Atom 1.0 document.
pub(super) fn atom(bytes: &[u8]) -> Option<Page> {
    let feed = atom_syndication::Feed::read_from(bytes).ok()?;
    let nav = navigation(feed.links.iter().map(|l| (l.rel.as_str(), l.href.as_str())));
    let home = feed.links.iter().find(|l| l.rel == "alternate").map(|l| l.href.clone());
    let items = feed
        .entries
        .iter()
        .map(|entry| Item {
            title: entry.title.value.clone(),
            link: entry.links.iter().find(|l| l.rel == "alternate").map(|l| l.href.clone()).unwrap_or_default(),
            date: entry.published.or(Some(entry.updated)).and_then(|d| d.to_rfc3339().parse::<Timestamp>().ok()),
            authors: entry.authors.iter().map(|a| a.name.clone()).collect(),
            summary: entry.summary.as_ref().map(|s| s.value.clone()).unwrap_or_default(),
        })
        .collect();
    Some(Page {
        kind: PageKind::Feed { archive: false },
        lang: feed.lang.clone().unwrap_or_default(),
        title: feed.title.value.clone(),
        description: feed.subtitle.as_ref().map(|s| s.value.clone()).unwrap_or_default(),
        home,
        items,
        nav,
        entries: Vec::new(),
    })
}

/// Reads a JSON Feed 1.1 document.
pub(super) fn json_feed(bytes: &[u8]) -> Option<Page> {
    let feed: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let text = |value: &serde_json::Value, key: &str| value[key].as_str().unwrap_or_default().to_string();
    let items = feed["items"]
        .as_array()?
        .iter()
        .map(|item| Item {
            title: text(item, "title"),
            link: text(item, "url"),
            date: item["date_published"].as_str().and_then(|d| d.parse::<Timestamp>().ok()),
            authors: item["authors"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p["name"].as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            summary: text(item, "summary"),
        })
        .collect();
    // `next_url` is the next older part of the history (RFC 5005's
    // prev-archive).
    let nav = feed["next_url"].as_str().map(|url| ("prev-archive", url.to_string())).into_iter().collect();
    Some(Page {
        kind: PageKind::Feed { archive: false },
        lang: text(&feed, "language"),
        title: text(&feed, "title"),
        description: text(&feed, "description"),
        home: feed["home_page_url"].as_str().map(str::to_string),
        items,
        nav,
        entries: Vec::new(),
    })
}

/// Reads a sitemap (`urlset`) or a sitemap index (`sitemapindex`).
pub(super) fn sitemap(bytes: &[u8]) -> Option<Page> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let decoder = reader.decoder();
    let mut kind = None;
    let mut entries: Vec<Entry> = Vec::new();
    // The local name of the innermost open element, and the text read in it.
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let name = start.local_name().as_ref().to_vec();
                match name.as_slice() {
                    b"urlset" if open.is_empty() => kind = Some(PageKind::Sitemap),
                    b"sitemapindex" if open.is_empty() => kind = Some(PageKind::SitemapIndex),
                    b"url" | b"sitemap" if open.len() == 1 => entries.push(Entry::default()),
                    b"image" if start.name().as_ref() == b"image:image" => {
                        if let Some(entry) = entries.last_mut() {
                            entry.images += 1;
                        }
                    }
                    b"link" => {
                        let attr = |key: &[u8]| {
                            start.try_get_attribute(key).ok().flatten().and_then(|a| {
                                a.decoded_and_normalized_value(quick_xml::XmlVersion::Explicit1_0, decoder)
                                    .ok()
                                    .map(|v| v.into_owned())
                            })
                        };
                        if let (Some(entry), Some(lang), Some(href)) =
                            (entries.last_mut(), attr(b"hreflang"), attr(b"href"))
                            && lang != "x-default"
                        {
                            entry.alternates.push((lang, href));
                        }
                    }
                    _ => {}
                }
                if matches!(event, Event::Start(_)) {
                    open.push(name);
                    text.clear();
                }
            }
            Event::Text(t) => text.push_str(&t.decode().ok()?),
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let name = r.decode().ok()?;
                match name.as_ref() {
                    "amp" => text.push('&'),
                    "lt" => text.push('<'),
                    "gt" => text.push('>'),
                    "quot" => text.push('"'),
                    "apos" => text.push('\''),
                    _ => text.extend(r.resolve_char_ref().ok().flatten()),
                }
            }
            Event::End(_) => {
                let name = open.pop().unwrap_or_default();
                if let Some(entry) = entries.last_mut() {
                    let value = std::mem::take(&mut text).trim().to_string();
                    match name.as_slice() {
                        b"loc" if open.len() == 2 => entry.loc = value,
                        b"lastmod" if open.len() == 2 => entry.lastmod = value.parse::<Timestamp>().ok(),
                        b"title" if open.last().is_some_and(|n| n == b"news") => entry.title = Some(value),
                        b"publication_date" => entry.lastmod = entry.lastmod.or(value.parse::<Timestamp>().ok()),
                        _ => {}
                    }
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some(Page {
        kind: kind?,
        lang: String::new(),
        title: String::new(),
        description: String::new(),
        home: None,
        items: Vec::new(),
        nav: Vec::new(),
        entries,
    })
}

/// The history links among `links` (rel, href), in a fixed order: the
/// current feed, newer, older.
fn navigation<'a>(links: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(&'static str, String)> {
    let links: Vec<(&str, &str)> = links.collect();
    ["current", "next-archive", "prev-archive"]
        .into_iter()
        .filter_map(|rel| links.iter().find(|(r, _)| *r == rel).map(|(_, href)| (rel, href.to_string())))
        .collect()
}

/// The text of an HTML fragment: tags dropped, character references
/// decoded.
fn html_to_text(html: &str) -> String {
    // ammonia with no tags allowed keeps only the text, escaped for HTML.
    let escaped = ammonia::Builder::empty().clean(html).to_string();
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped.as_str();
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (decoded, len) = match rest.find(';').map(|end| &rest[1..end]) {
            Some("amp") => ('&', 5),
            Some("lt") => ('<', 4),
            Some("gt") => ('>', 4),
            Some("quot") => ('"', 6),
            Some("#39") => ('\'', 5),
            Some("nbsp") => ('\u{a0}', 6),
            _ => ('&', 1),
        };
        out.push(decoded);
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_summaries_become_their_text() {
        assert_eq!(html_to_text("Q&amp;A: &lt;b&gt;đậm&lt;/b&gt; &amp;amp; x"), "Q&A: <b>đậm</b> &amp; x");
        assert_eq!(html_to_text("<p>a <b>b</b></p><script>x</script>"), "a b");
    }

    #[test]
    fn sitemaps_list_their_urls_images_and_languages() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://e.vn/a/?x=1&amp;y=2</loc>
    <lastmod>2026-11-20T08:00:00+07:00</lastmod>
    <xhtml:link rel="alternate" hreflang="en" href="https://e.vn/en/a/"/>
    <xhtml:link rel="alternate" hreflang="x-default" href="https://e.vn/a/"/>
    <image:image><image:loc>https://e.vn/1.jpg</image:loc></image:image>
    <image:image><image:loc>https://e.vn/2.jpg</image:loc></image:image>
  </url>
  <url><loc>https://e.vn/b/</loc></url>
</urlset>"#;
        let page = sitemap(xml).unwrap();
        assert_eq!(page.kind, PageKind::Sitemap);
        assert_eq!(page.entries.len(), 2);
        let first = &page.entries[0];
        assert_eq!(first.loc, "https://e.vn/a/?x=1&y=2");
        assert_eq!(first.lastmod, Some("2026-11-20T01:00:00Z".parse().unwrap()));
        assert_eq!(first.images, 2);
        assert_eq!(first.alternates, [("en".to_string(), "https://e.vn/en/a/".to_string())]);
        assert_eq!(page.entries[1].loc, "https://e.vn/b/");
        assert!(sitemap(b"<rss/>").is_none());
    }
}
