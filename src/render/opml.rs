//! OPML 2.0 subscription lists (<http://opml.org/spec2.opml>): a reader
//! imports one file and follows every feed in it.
//!
//! - `/feeds.opml`: the site, language and section feeds, one outline per
//!   language (default language first) holding that language's feeds;
//! - `/{lang}/feeds.opml`: one language's site, language and section feeds;
//! - `/{lang}/tags.opml`, `/{lang}/authors.opml`, `/{lang}/categories.opml`:
//!   one language's term feeds of one taxonomy (thousands of tags would
//!   drown the main list), written while the language has such feeds.
//!
//! Each feed is `<outline type="rss" text title xmlUrl htmlUrl language>`
//! pointing at its RSS document. Served as `text/x-opml`: OPML has no
//! registered media type, and `text/x-opml` is the one feed readers,
//! OPML directories and `<link rel="outline">` autodiscovery use, so a
//! reader given the address recognises the file (a browser offers to save
//! it rather than showing an XML tree, which suits a subscription list).

use quick_xml::Writer;
use quick_xml::events::BytesText;

use super::scope::{FeedFormat, FeedScope, feed_scopes};
use crate::catalog::Catalog;
use crate::config::{Config, Language, Taxonomy, fill_template};
use crate::snapshot::{Resource, ResourceKind};

/// `Content-Type` of OPML files.
pub const OPML_CONTENT_TYPE: &str = "text/x-opml; charset=utf-8";

/// Site path of the list of every site, language and section feed.
pub const SITE_OPML_PATH: &str = "/feeds.opml";

/// Site path of `lang`'s list of its site, language and section feeds.
pub fn language_opml_path(lang: &str) -> String {
    fill_template("/{lang}/feeds.opml", &[("lang", lang)])
}

/// Site path of `lang`'s list of its term feeds of `taxonomy`.
pub fn taxonomy_opml_path(lang: &str, taxonomy: Taxonomy) -> String {
    format!("/{lang}/{}.opml", taxonomy.name())
}

/// Every path an OPML file may have under `config`: the files of
/// [`files`] and those it leaves out for want of feeds.
pub fn possible_paths(config: &Config) -> Vec<String> {
    let mut out = vec![SITE_OPML_PATH.to_string()];
    for language in &config.languages {
        out.push(language_opml_path(&language.code));
        out.extend(config.taxonomies.enabled().into_iter().map(|t| taxonomy_opml_path(&language.code, t)));
    }
    out
}

/// Every OPML file of the site: `(path, resource)` pairs.
pub fn files(catalog: &Catalog, config: &Config) -> Vec<(String, Resource)> {
    let scopes = feed_scopes(catalog, config);
    let main: Vec<&FeedScope> = scopes.iter().filter(|s| !matches!(s, FeedScope::Term(_))).collect();
    let languages = ordered_languages(config);
    let site_title = format!("{} – feeds", config.site_title(&config.site.default_language));
    let mut out = vec![(
        SITE_OPML_PATH.to_string(),
        document(&site_title, |w| {
            for language in &languages {
                let feeds: Vec<&FeedScope> = main.iter().copied().filter(|s| s.lang(config) == language.code).collect();
                if feeds.is_empty() {
                    continue;
                }
                w.create_element("outline")
                    .with_attribute(("text", language.name.as_str()))
                    .with_attribute(("title", language.name.as_str()))
                    .with_attribute(("language", language.code.as_str()))
                    .write_inner_content(|w| feeds.iter().try_for_each(|s| feed_outline(w, s, catalog, config)))?;
            }
            Ok(())
        }),
    )];
    for language in &languages {
        let lang = &language.code;
        let feeds: Vec<&FeedScope> = main.iter().copied().filter(|s| s.lang(config) == *lang).collect();
        let title = format!("{} – {}", config.site_title(lang), language.name);
        out.push((
            language_opml_path(lang),
            document(&title, |w| feeds.iter().try_for_each(|s| feed_outline(w, s, catalog, config))),
        ));
        for taxonomy in config.taxonomies.enabled() {
            let terms: Vec<&FeedScope> = scopes
                .iter()
                .filter(|s| matches!(s, FeedScope::Term(t) if t.lang == *lang && t.taxonomy == taxonomy))
                .collect();
            if terms.is_empty() {
                continue;
            }
            let title = format!("{} – {} ({})", config.site_title(lang), taxonomy.name(), language.name);
            out.push((
                taxonomy_opml_path(lang, taxonomy),
                document(&title, |w| terms.iter().try_for_each(|s| feed_outline(w, s, catalog, config))),
            ));
        }
    }
    out
}

/// The site's languages, default language first, the others in
/// configuration order.
fn ordered_languages(config: &Config) -> Vec<&Language> {
    let default_lang = &config.site.default_language;
    let default = config.languages.iter().filter(|l| l.code == *default_lang);
    default.chain(config.languages.iter().filter(|l| l.code != *default_lang)).collect()
}

/// An OPML 2.0 document titled `title` whose body `body` writes.
fn document(title: &str, body: impl FnOnce(&mut Writer<Vec<u8>>) -> std::io::Result<()>) -> Resource {
    let mut writer = Writer::new_with_indent(super::XML_DECLARATION.as_bytes().to_vec(), b' ', 2);
    let _ = writer.create_element("opml").with_attribute(("version", "2.0")).write_inner_content(|w| {
        w.create_element("head").write_inner_content(|w| {
            w.create_element("title").write_text_content(BytesText::new(title))?;
            w.create_element("docs").write_text_content(BytesText::new("http://opml.org/spec2.opml"))?;
            Ok(())
        })?;
        w.create_element("body").write_inner_content(body)?;
        Ok(())
    });
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    Resource::new(ResourceKind::Other, bytes, OPML_CONTENT_TYPE, None)
}

/// One feed's outline, pointing at its RSS document.
fn feed_outline(w: &mut Writer<Vec<u8>>, scope: &FeedScope, catalog: &Catalog, config: &Config) -> std::io::Result<()> {
    let title = scope.title(config, catalog);
    // The site feed is titled as its language's feed: say which is which.
    let text = match scope {
        FeedScope::Site if scope.lang(config).starts_with("vi") => format!("{title} (toàn trang)"),
        FeedScope::Site => format!("{title} (whole site)"),
        _ => title.clone(),
    };
    let xml_url = config.url_for(&scope.path(FeedFormat::Rss, config));
    let html_url = scope.home_url(config);
    w.create_element("outline")
        .with_attribute(("type", "rss"))
        .with_attribute(("text", text.as_str()))
        .with_attribute(("title", title.as_str()))
        .with_attribute(("xmlUrl", xml_url.as_str()))
        .with_attribute(("htmlUrl", html_url.as_str()))
        .with_attribute(("language", scope.lang(config)))
        .write_empty()?;
    Ok(())
}
