//! The HTML index page herald serves at `/`: every feed and sitemap of the
//! site, by language and section.
//!
//! It has two readers. People open it to find the address to paste into
//! their feed reader, so each feed gets links in all three formats and a
//! read-only field holding its RSS address, with a copy button. Browsers and
//! feed readers given the site's address read the `<link rel="alternate">`
//! tags in `<head>` (feed autodiscovery), one per feed and format.
//!
//! Each language's part is labelled in that language (Vietnamese for `vi`,
//! English for any other); the parts shared by all languages say things in
//! both. The page works without JavaScript: the small script at the end
//! only makes the copy buttons work, and they stay hidden without it.
//!
//! With ActivityPub on, each language's and section's fediverse handle is
//! listed under its feed with how many follow it.
//!
//! Like every renderer the page is a pure function of its inputs (the
//! catalog, the configuration and the follower counts, which the caller
//! reads from the push state and passes in): only ordered collections are
//! iterated and no clock is read, so it keeps its bytes (and ETag) until
//! the site or a follower count changes.

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::config::{Config, Language, SiteScope};
use crate::render::feed::{FeedFormat, FeedScope, feed_scopes};
use crate::snapshot::{Resource, ResourceKind};
use crate::text::escape_html;

/// Site path of the index page.
pub const INDEX_PATH: &str = "/index.html";

/// `Content-Type` of HTML pages.
pub const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// How many fediverse accounts follow each actor, by username; an actor
/// missing has none.
pub type FollowerCounts = BTreeMap<String, u64>;

/// The HTML index page: every feed and sitemap by language and section
/// (with ActivityPub on, each actor's handle and its count in
/// `followers`), as `(INDEX_PATH, resource)`.
///
/// Its `Last-Modified` is the date of the newest visible article (not a
/// clock read, so the page stays deterministic); `None` while nothing is
/// visible.
pub fn index_page(catalog: &Catalog, config: &Config, followers: &FollowerCounts) -> (String, Resource) {
    let default_lang = &config.site.default_language;
    let mut html = String::new();
    html.push_str(&format!("<!doctype html>\n<html lang=\"{}\">\n", escape_html(default_lang)));
    head(&mut html, catalog, config);
    html.push_str("<body>\n");
    header(&mut html, config);
    html.push_str("<main>\n");
    for language in ordered_languages(config) {
        language_section(&mut html, language, catalog, config, followers);
    }
    sitemaps_section(&mut html, catalog, config);
    html.push_str("</main>\n");
    html.push_str(&format!("<script>\n{SCRIPT}{}</script>\n</body>\n</html>\n", crate::render::index_terms::SCRIPT));
    let last_modified = catalog.all().next().map(|a| a.date);
    let resource = Resource::new(ResourceKind::Other, html.into_bytes(), HTML_CONTENT_TYPE, last_modified);
    (INDEX_PATH.to_string(), resource)
}

/// `<head>`: metadata, the autodiscovery links of every feed, the style.
fn head(out: &mut String, catalog: &Catalog, config: &Config) {
    let title = format!("{} – {}", config.site_title(&config.site.default_language), PAGE_TITLE_SUFFIX);
    out.push_str("<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape_html(&title)));
    // Term feeds are too many to announce (thousands of tags): the page
    // lists them, and each language's OPML files hold them.
    for scope in feed_scopes(catalog, config).into_iter().filter(|s| !matches!(s, FeedScope::Term(_))) {
        for format in FeedFormat::ALL {
            out.push_str(&format!(
                "<link rel=\"alternate\" type=\"{}\" title=\"{}\" hreflang=\"{}\" href=\"{}\">\n",
                format.media_type(),
                escape_html(&format!("{} ({})", scope.title(config, catalog), format_name(format))),
                escape_html(scope.lang(config)),
                escape_html(&config.url_for(&scope.path(format, config))),
            ));
        }
    }
    out.push_str(&format!(
        "<link rel=\"outline\" type=\"text/x-opml\" title=\"OPML\" href=\"{}\">\n",
        escape_html(&config.url_for(crate::render::opml::SITE_OPML_PATH))
    ));
    out.push_str(&format!("<style>\n{STYLE}{}</style>\n</head>\n", crate::render::index_terms::STYLE));
}

/// The page header: site title, description and a bilingual introduction.
fn header(out: &mut String, config: &Config) {
    let lang = &config.site.default_language;
    out.push_str("<header>\n<p class=\"badge\">Nguồn tin · Feeds</p>\n");
    out.push_str(&format!("<h1>{}</h1>\n", escape_html(config.site_title(lang))));
    let description = config.site_description(lang);
    if !description.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", escape_html(description)));
    }
    out.push_str(&format!("<p lang=\"vi\">{INTRO_VI}</p>\n<p lang=\"en\">{INTRO_EN}</p>\n</header>\n"));
}

/// One `<section>` for `language`: its feeds in a table, site-wide feeds
/// first for the default language, then the language feed, then one row per
/// section with articles in it.
fn language_section(
    out: &mut String,
    language: &Language,
    catalog: &Catalog,
    config: &Config,
    followers: &FollowerCounts,
) {
    let code = &language.code;
    let labels = Labels::for_language(code);
    out.push_str(&format!("<section lang=\"{}\">\n<h2>{}</h2>\n", escape_html(code), escape_html(&language.name)));
    out.push_str(&format!(
        "<table>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        labels.feed, labels.articles, labels.formats, labels.subscribe,
    ));
    if *code == config.site.default_language {
        let site_label = match config.feeds.site_scope {
            SiteScope::DefaultLanguage => labels.site,
            SiteScope::AllLanguages => labels.site_all_languages,
        };
        let count = match config.feeds.site_scope {
            SiteScope::DefaultLanguage => catalog.count_in_language(code),
            SiteScope::AllLanguages => catalog.count_all(),
        };
        feed_row(out, &FeedScope::Site, site_label, count, &labels, config);
    }
    let count = catalog.count_in_language(code);
    feed_row(out, &FeedScope::Language(code.clone()), labels.all_articles, count, &labels, config);
    handle_row(out, code, None, &labels, config, followers);
    for placement in catalog.placements().filter(|p| p.lang == *code) {
        let scope = FeedScope::Section { lang: code.clone(), section: placement.section.clone() };
        let count = catalog.count_in_section(code, &placement.section);
        feed_row(out, &scope, config.section_title(&placement.section, code), count, &labels, config);
        handle_row(out, code, Some(&placement.section), &labels, config, followers);
    }
    out.push_str("</tbody>\n</table>\n");
    out.push_str(&crate::render::index_terms::term_lists(code, labels.vietnamese, catalog, config, escape_html));
    out.push_str("</section>\n");
}

/// One table row: the feed's name, its article count, a link per format,
/// and its RSS address in a copyable field.
fn feed_row(out: &mut String, scope: &FeedScope, name: &str, count: usize, labels: &Labels, config: &Config) {
    let links: Vec<String> = FeedFormat::ALL
        .into_iter()
        .map(|format| {
            let url = config.url_for(&scope.path(format, config));
            format!("<a href=\"{}\">{}</a>", escape_html(&url), format_name(format))
        })
        .collect();
    let rss = escape_html(&config.url_for(&scope.path(FeedFormat::Rss, config)));
    out.push_str(&format!(
        "<tr>\n<th scope=\"row\">{}</th>\n<td class=\"count\">{}</td>\n<td class=\"formats\">{}</td>\n",
        escape_html(name),
        labels.count(count),
        links.join(" · "),
    ));
    out.push_str(&format!(
        "<td><div class=\"subscribe\"><input type=\"text\" readonly value=\"{rss}\" aria-label=\"{}\"> \
         <button type=\"button\" data-copy=\"{rss}\">{}</button></div></td>\n</tr>\n",
        labels.subscribe, labels.copy,
    ));
}

/// With ActivityPub on, the fediverse handle of the feed just listed
/// (the language's actor, or the section's), to follow from Mastodon, and
/// how many follow it.
fn handle_row(
    out: &mut String,
    lang: &str,
    section: Option<&str>,
    labels: &Labels,
    config: &Config,
    followers: &FollowerCounts,
) {
    if !config.activitypub.enabled {
        return;
    }
    let name = config.activitypub.username(lang, section, &config.site.default_language);
    let handle = format!("@{name}@{}", crate::config::handle_host(&config.site.base_url));
    let actor = config.url_for(&crate::config::actor_path(&name));
    let count = followers.get(&name).copied().unwrap_or(0);
    out.push_str(&format!(
        "<tr class=\"fediverse\">\n<td colspan=\"4\">Fediverse: <a href=\"{}\" rel=\"me\">{}</a> · \
         <span class=\"followers\">{}</span></td>\n</tr>\n",
        escape_html(&actor),
        escape_html(&handle),
        labels.followers(count),
    ));
}

/// The sitemaps and robots.txt, when herald writes them; nothing otherwise.
/// The news sitemap is listed only while it exists (it holds the last 48
/// hours; with nothing that recent there is no file).
fn sitemaps_section(out: &mut String, catalog: &Catalog, config: &Config) {
    let sitemaps = &config.sitemaps;
    let mut entries: Vec<(String, String)> =
        vec![("Mọi nguồn tin (OPML) · All feeds (OPML)".into(), crate::render::opml::SITE_OPML_PATH.into())];
    // Browse the archive: each language whose feeds have archives.
    for language in ordered_languages(config) {
        let archived = crate::render::feed::feed_scopes(catalog, config).iter().any(|scope| {
            scope.lang(config) == language.code && crate::render::archive::is_archived(scope, catalog, config)
        });
        if archived {
            let path = crate::config::fill_template(&config.archives.index_path, &[("lang", &language.code)]);
            entries.push((format!("Lưu trữ nguồn tin · Browse the archive ({})", language.name), path));
        }
    }
    if sitemaps.enabled {
        entries.push(("Chỉ mục sơ đồ trang · Sitemap index".into(), sitemaps.index_path.clone()));
        let has_news = !crate::render::news_sitemap::news_articles(catalog).is_empty();
        if let Some(news_path) = sitemaps.news_path.as_ref().filter(|_| has_news) {
            entries.push(("Sơ đồ tin mới (Google News) · News sitemap".into(), news_path.clone()));
        }
        entries.push(("Sơ đồ các trang · Pages sitemap".into(), sitemaps.pages_path.clone()));
    }
    if sitemaps.robots_txt {
        entries.push(("robots.txt".into(), ROBOTS_PATH.into()));
    }
    if entries.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Lưu trữ và sơ đồ trang · Archive and sitemaps</h2>\n<ul>\n");
    for (label, path) in entries {
        let url = escape_html(&config.url_for(&path));
        out.push_str(&format!("<li><a href=\"{url}\">{}</a><br><code>{url}</code></li>\n", escape_html(&label)));
    }
    out.push_str("</ul>\n</section>\n");
}

/// The site's languages, default language first, the others in
/// configuration order.
fn ordered_languages(config: &Config) -> Vec<&Language> {
    let default_lang = &config.site.default_language;
    let default = config.languages.iter().filter(|l| l.code == *default_lang);
    let others = config.languages.iter().filter(|l| l.code != *default_lang);
    default.chain(others).collect()
}

/// The name people know each format by.
fn format_name(format: FeedFormat) -> &'static str {
    match format {
        FeedFormat::Rss => "RSS",
        FeedFormat::Atom => "Atom",
        FeedFormat::Json => "JSON Feed",
    }
}

/// Site path of robots.txt (fixed, as crawlers expect).
const ROBOTS_PATH: &str = "/robots.txt";

/// What follows the site title in `<title>`.
const PAGE_TITLE_SUFFIX: &str = "Nguồn tin · Feeds";

/// The introduction under the site title in Vietnamese (plain text, no
/// markup characters to escape).
const INTRO_VI: &str = "Theo dõi tin mới bằng ứng dụng đọc tin: sao chép địa chỉ RSS và dán vào ứng dụng.";
/// The same in English.
const INTRO_EN: &str = "Follow new articles with a feed reader: copy an RSS address and paste it into your reader.";

/// The words of one language's part of the page. Plain text without markup
/// characters, so they are inserted as they are.
struct Labels {
    feed: &'static str,
    articles: &'static str,
    formats: &'static str,
    subscribe: &'static str,
    copy: &'static str,
    site: &'static str,
    site_all_languages: &'static str,
    all_articles: &'static str,
    vietnamese: bool,
}

impl Labels {
    /// Vietnamese labels for `vi` (and `vi-*`), English for anything else.
    fn for_language(lang: &str) -> Labels {
        match lang.split('-').next().unwrap_or(lang) {
            "vi" => Labels {
                feed: "Nguồn tin",
                articles: "Số bài",
                formats: "Định dạng",
                subscribe: "Địa chỉ RSS để theo dõi",
                copy: "Sao chép",
                site: "Toàn trang",
                site_all_languages: "Toàn trang (mọi ngôn ngữ)",
                all_articles: "Tất cả bài viết",
                vietnamese: true,
            },
            _ => Labels {
                feed: "Feed",
                articles: "Articles",
                formats: "Formats",
                subscribe: "RSS address to subscribe",
                copy: "Copy",
                site: "Whole site",
                site_all_languages: "Whole site (all languages)",
                all_articles: "All articles",
                vietnamese: false,
            },
        }
    }

    /// "12 người theo dõi" / "1 follower" / "12 followers".
    fn followers(&self, n: u64) -> String {
        match (self.vietnamese, n) {
            (true, _) => format!("{n} người theo dõi"),
            (false, 1) => String::from("1 follower"),
            (false, _) => format!("{n} followers"),
        }
    }

    /// "12 bài" / "1 article" / "12 articles".
    fn count(&self, n: usize) -> String {
        match (self.vietnamese, n) {
            (true, _) => format!("{n} bài"),
            (false, 1) => String::from("1 article"),
            (false, _) => format!("{n} articles"),
        }
    }
}

/// The page's style: the look of the XSL pages, with rows that stack on
/// narrow screens. Copy buttons show only once the script has run.
pub(crate) const STYLE: &str = r#"body {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
  color: #1d1d1f; line-height: 1.5;
}
header { border-bottom: 1px solid #ddd; margin-bottom: 1.5rem; }
.badge {
  display: inline-block; background: #ee802f; color: #fff;
  border-radius: 4px; padding: .1rem .5rem; font-size: .85rem;
}
section { margin: 2rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { border-bottom: 1px solid #eee; padding: .35rem; text-align: left; vertical-align: middle; }
thead th { color: #666; font-weight: normal; }
.count { white-space: nowrap; color: #666; }
.subscribe { display: flex; gap: .4rem; }
input {
  flex: 1; min-width: 0; font: inherit; padding: .3rem .4rem;
  border: 1px solid #bbb; border-radius: 4px;
}
button {
  font: inherit; padding: .3rem .7rem; cursor: pointer;
  border: 1px solid #0b57d0; border-radius: 4px; background: #0b57d0; color: #fff;
}
html:not(.js) button[data-copy] { display: none; }
a { color: #0b57d0; }
code { font-size: .85rem; color: #666; word-break: break-all; }
@media (max-width: 40rem) {
  table, tbody, tr, th, td { display: block; }
  thead { display: none; }
  tr { border-bottom: 1px solid #ddd; padding: .6rem 0; }
  th, td { border: 0; padding: .1rem 0; }
}
"#;

/// Makes the copy buttons copy their `data-copy` address; where the
/// clipboard is unavailable (plain http), selects the field instead.
pub(crate) const SCRIPT: &str = r#"document.documentElement.classList.add("js");
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var label = button.textContent;
  button.addEventListener("click", function () {
    var field = button.parentNode.querySelector("input");
    var select = function () { field.focus(); field.select(); };
    if (!navigator.clipboard) { select(); return; }
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      button.textContent = "✓";
      setTimeout(function () { button.textContent = label; }, 1500);
    }, select);
  });
});
"#;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Overrides;
    use crate::config::testing::MINIMAL;
    use crate::store::{ArticleStore, MemoryStore};

    /// Two languages and one section.
    fn two_languages() -> String {
        format!("{MINIMAL}\n[sections.thoi-su]\ntitle = {{ vi = \"Thời sự\", en = \"News\" }}\n")
    }

    fn page(config_text: &str) -> String {
        page_with(config_text, &FollowerCounts::new())
    }

    fn page_with(config_text: &str, followers: &FollowerCounts) -> String {
        let config = Config::parse(config_text, Path::new("feeds.toml"), &Overrides::default()).unwrap();
        let store = MemoryStore::new();
        store.insert("thoi-su/a.vi.md", "+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\n+++\nBody\n");
        store.insert("thoi-su/b.en.md", "+++\ntitle = \"B\"\ndate = 2026-11-19T08:00:00+07:00\n+++\nBody\n");
        let scan = store.scan(&config);
        assert!(scan.diagnostics.is_empty(), "{:?}", scan.diagnostics);
        let now: jiff::Timestamp = "2026-11-21T00:00:00Z".parse().unwrap();
        let (catalog, _) = Catalog::from_articles(scan.articles, now, config.taxonomies.enabled());
        let (path, resource) = index_page(&catalog, &config, followers);
        assert_eq!(path, INDEX_PATH);
        assert_eq!(resource.content_type, HTML_CONTENT_TYPE);
        assert_eq!(resource.last_modified, Some("2026-11-20T01:00:00Z".parse().unwrap()));
        String::from_utf8(resource.body.to_vec()).unwrap()
    }

    #[test]
    fn lists_every_feed_for_autodiscovery_and_people() {
        let html = page(&two_languages());
        assert!(html.starts_with("<!doctype html>\n<html lang=\"vi\">"), "{html}");
        assert!(html.contains("<title>Báo Mẫu – Nguồn tin · Feeds</title>"), "{html}");
        for (type_, title, lang, url) in [
            ("application/rss+xml", "Báo Mẫu (RSS)", "vi", "https://news.example.vn/vi/rss.xml"),
            ("application/atom+xml", "Thời sự – Báo Mẫu (Atom)", "vi", "https://news.example.vn/vi/thoi-su/atom.xml"),
            ("application/feed+json", "Báo Mẫu (JSON Feed)", "vi", "https://news.example.vn/feed.json"),
            ("application/rss+xml", "News – Sample News (RSS)", "en", "https://news.example.vn/en/thoi-su/rss.xml"),
        ] {
            let link = format!(
                "<link rel=\"alternate\" type=\"{type_}\" title=\"{title}\" hreflang=\"{lang}\" href=\"{url}\">"
            );
            assert!(html.contains(&link), "missing {link}");
        }
        // 3 scopes (site, vi, en) + 2 sections, 3 formats each.
        assert_eq!(html.matches("<link rel=\"alternate\"").count(), 15);
        let rss = "https://news.example.vn/vi/thoi-su/rss.xml";
        assert!(html.contains(&format!("<input type=\"text\" readonly value=\"{rss}\"")), "{html}");
        assert!(html.contains(&format!("<button type=\"button\" data-copy=\"{rss}\">Sao chép</button>")), "{html}");
        assert!(
            html.contains("<button type=\"button\" data-copy=\"https://news.example.vn/en/rss.xml\">Copy</button>")
        );
        assert!(html.contains("navigator.clipboard.writeText(button.dataset.copy)"));
        for label in ["Tất cả bài viết", "All articles", "Theo dõi tin mới", "Follow new articles", "Thời sự", "News"]
        {
            assert!(html.contains(label), "missing {label}");
        }
        assert!(html.contains("<td class=\"count\">1 article</td>"), "{html}");
        assert!(html.contains("<td class=\"count\">1 bài</td>"), "{html}");
        assert!(html.contains("https://news.example.vn/sitemap.xml"));
        assert!(html.contains("https://news.example.vn/robots.txt"));
        // Default language first, and the site feed only in its section.
        let vi = html.find("<section lang=\"vi\">").unwrap();
        let en = html.find("<section lang=\"en\">").unwrap();
        assert!(vi < en);
        let site_row = html.find("<th scope=\"row\">Toàn trang</th>").unwrap();
        assert!(vi < site_row && site_row < en);
        assert!(!html.contains("Whole site"));
    }

    #[test]
    fn escapes_text_from_the_configuration() {
        let config = two_languages().replace("vi = \"Báo Mẫu\"", "vi = 'Tin & \"Nóng\" <1>'");
        let html = page(&config);
        assert!(html.contains("<h1>Tin &amp; &quot;Nóng&quot; &lt;1&gt;</h1>"), "{html}");
        assert!(html.contains("title=\"Tin &amp; &quot;Nóng&quot; &lt;1&gt; (RSS)\""), "{html}");
        assert!(!html.contains("Tin & "));
        assert!(!html.contains("<1>"));
        assert_eq!(escape_html("a'b"), "a&#39;b");
    }

    #[test]
    fn leaves_out_sitemaps_when_disabled() {
        let html = page(&format!("{}\n[sitemaps]\nenabled = false\nrobots_txt = false\n", two_languages()));
        assert!(!html.contains("Sitemaps"));
        assert!(!html.contains("sitemap.xml"));
    }

    #[test]
    fn same_input_gives_same_bytes() {
        assert_eq!(page(&two_languages()), page(&two_languages()));
        let counts = FollowerCounts::from([("thoi-su".to_string(), 3)]);
        assert_eq!(page_with(&two_languages(), &counts), page_with(&two_languages(), &counts));
    }

    #[test]
    fn shows_each_actors_handle_and_follower_count() {
        let config = format!("{}\n[activitypub]\nenabled = true\n", two_languages());
        let counts = FollowerCounts::from([("thoi-su".to_string(), 12), ("thoi-su.en".to_string(), 1)]);
        let html = page_with(&config, &counts);
        for (handle, count) in [
            ("@vi@news.example.vn", "0 người theo dõi"),
            ("@thoi-su@news.example.vn", "12 người theo dõi"),
            ("@en@news.example.vn", "0 followers"),
            ("@thoi-su.en@news.example.vn", "1 follower"),
        ] {
            let row = format!("rel=\"me\">{handle}</a> · <span class=\"followers\">{count}</span></td>");
            assert!(html.contains(&row), "missing {row} in {html}");
        }
        // Another count, other bytes; without ActivityPub, no handles.
        let fewer = FollowerCounts::from([("thoi-su".to_string(), 11), ("thoi-su.en".to_string(), 1)]);
        assert_ne!(page_with(&config, &fewer), html);
        assert!(!page_with(&two_languages(), &counts).contains("Fediverse"));
    }
}
