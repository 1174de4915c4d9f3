//! The text of `feeds.toml`: every key with a comment saying what it does
//! and where its value came from, `CHECK` on guesses and `CHANGE THIS` on
//! placeholders, then herald's defaults for the fixed tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Component, Path};

use super::guess::language_name;
use super::site_config::SiteConfig;
use super::{Inspection, PLACEHOLDER_BASE_URL};

/// The body of [`super::render_config`]: the commented feeds.toml text for
/// `inspection`, with paths written relative to `config_dir` when possible.
pub(super) fn render(inspection: &Inspection, config_dir: &Path) -> String {
    let mut out = String::new();
    let i = inspection;
    let site = i.site.as_ref();
    let from_site = |what: &str| site.map(|s| format!("{}'s {what}", s.file_name())).unwrap_or_default();

    // Header.
    out.push_str("# herald configuration, written by `herald init`.\n#\n");
    out.push_str("# Relative paths are read from this file's folder. Every key is optional\n");
    out.push_str("# unless marked \"required\"; unknown keys are errors, so a typo never passes\n");
    out.push_str("# silently. \"CHANGE THIS\" marks a placeholder to replace, \"CHECK\" a guess\n");
    out.push_str("# to confirm. Check a change with:  herald check --config FILE\n#\n");
    let _ = writeln!(out, "# herald init found {}.", i.found_line());
    if let Some(s) = site {
        let _ = writeln!(out, "# Site configuration read: {} ({}).", path_for(&s.file, config_dir), s.generator.name());
    }
    if !i.problems.is_empty() {
        out.push_str("#\n# Notes from herald init:\n");
        for p in &i.problems {
            comment(&mut out, &format!("- {}", p.message), "  ");
        }
    }

    // Store and state.
    out.push_str("\n# The article store: <store>/<section>/<slug>.<lang>.md (see README).\n");
    out.push_str("# Overridden by --store PATH.\n");
    let _ = writeln!(out, "store = {}", quote(&path_for(&i.store, config_dir)));
    out.push_str("\n# Where herald keeps its own state (subscriptions, delivery queue).\n");
    out.push_str("# Overridden by --state DIR.\n");
    if is_inside(config_dir, &i.store) {
        out.push_str("# A hidden folder: this file is inside the store, and the store skips hidden folders.\n");
        out.push_str("state_dir = \".herald-state\"\n");
    } else {
        out.push_str("state_dir = \"state\"\n");
    }

    // [site]
    out.push_str("\n[site]\n");
    out.push_str("# Required. Every URL herald writes starts with this. Overridden by --base-url.\n");
    match site.and_then(|s| s.base_url.as_deref()) {
        Some(url) => {
            let _ = writeln!(out, "# From {}.\nbase_url = {}", from_site("base URL"), quote(url));
        }
        None => {
            out.push_str("# CHANGE THIS: no site configuration gave the site's address.\n");
            let _ = writeln!(out, "base_url = {}", quote(PLACEHOLDER_BASE_URL));
        }
    }
    out.push_str("# Required. Articles whose file name names no language are in this one, and\n");
    out.push_str("# the site-wide feeds (/rss.xml …) carry it.\n");
    comment(&mut out, &checked(i.default_language_is_guess, &i.default_language_reason), "");
    let _ = writeln!(out, "default_language = {}", quote(&i.default_language));
    out.push_str("# IANA time zone: dates without an offset are read in it, every date is\n");
    out.push_str("# written in it (default UTC).\n");
    comment(&mut out, &checked(i.time_zone_is_guess, &i.time_zone_reason), "");
    let _ = writeln!(out, "time_zone = {}", quote(&i.time_zone));
    out.push_str("# Required. One text for all languages, or one per language.\n");
    let (title, title_from_site) = site_title(i);
    if title_from_site {
        let _ = writeln!(out, "# From {}.", from_site("title"));
    } else {
        out.push_str("# CHANGE THIS: no site configuration gave a title; this is the folder's name.\n");
    }
    let _ = writeln!(out, "title = {title}");
    match site.and_then(|s| s.description.as_deref()) {
        Some(d) => {
            let _ = writeln!(out, "description = {}", quote(d));
        }
        None => out.push_str("# description = \"What the site is about, in one line\"\n"),
    }
    out.push_str("# copyright = \"© Newsroom name\"\n");
    out.push_str("# A path on the site or an absolute URL.\n# logo = \"/images/logo.png\"\n");
    out.push_str("# Where articles live on the site. Placeholders: {prefix} (the language's\n");
    out.push_str("# prefix below), {lang}, {section}, {slug}, {year}, {month}, {day}.\n");
    if site.is_some_and(|s| s.has_permalinks) {
        let _ = writeln!(
            out,
            "# CHECK: {} sets [permalinks]; write the same URL pattern here.",
            site.map(SiteConfig::file_name).unwrap_or_default()
        );
    } else {
        out.push_str("# CHECK: it must match the article URLs of your site.\n");
    }
    out.push_str("permalink = \"{prefix}/{section}/{slug}/\"\n");
    out.push_str("# Turns an article id into a globally unique feed id (Atom id, RSS guid).\n");
    out.push_str("# Set it once and never change it: feed readers show every article again\n");
    out.push_str("# when ids change. The default is tag:<host of base_url>,2000:\n");
    match site.and_then(|s| s.base_url.as_deref()).and_then(|u| url::Url::parse(u).ok()) {
        Some(url) => {
            let _ =
                writeln!(out, "id_prefix = {}", quote(&format!("tag:{},2000:", url.host_str().unwrap_or("localhost"))));
        }
        None => out.push_str("# id_prefix = \"tag:example.com,2000:\"  (set it together with base_url)\n"),
    }

    // [languages.*]
    out.push_str("\n# One table per language. `prefix` is the path prefix of its article URLs\n");
    out.push_str("# (default \"/<code>\"; \"\" puts the language at the site root).\n");
    if let Some(s) = site.filter(|s| !s.content_dirs.is_empty()) {
        let note = format!(
            "CHECK: {} gives each language its own content folder; herald reads one folder with `<slug>.<lang>.md` names, so merge them or run one herald per language.",
            s.file_name()
        );
        comment(&mut out, &note, "");
    }
    for code in language_order(i) {
        let count = i.languages.get(code).copied().unwrap_or(0);
        let _ = writeln!(out, "[languages.{code}]");
        let name = language_name(site, code);
        let note = match &name {
            Some(_) => format!("{count} {}", plural(count, "article", "articles")),
            None => format!("{count} {}; CHECK: the language's name in itself", plural(count, "article", "articles")),
        };
        let _ = writeln!(out, "name = {}  # {note}", quote(name.as_deref().unwrap_or(code)));
        let in_subdir = site.is_some_and(|s| s.default_language_in_subdir);
        let prefix = if code == i.default_language && !in_subdir { String::new() } else { format!("/{code}") };
        let _ = writeln!(out, "prefix = {}\n", quote(&prefix));
    }

    // [sections.*]
    out.push_str("# One table per section folder. Undeclared folders still get feeds, titled\n");
    out.push_str("# by their slug (herald check warns about them).\n");
    if i.sections.is_empty() {
        out.push_str("# No section folder holds articles yet. Declare each like this:\n");
        out.push_str("# [sections.news]\n# title = \"News\"\n");
    }
    for section in &i.sections {
        let _ = writeln!(out, "[sections.{}]", section.slug);
        let folders: Vec<String> = section.folders.iter().map(|f| format!("{f}/")).collect();
        let count = section.articles;
        let _ = write!(out, "# {}: {count} {}", folders.join(", "), plural(count, "article", "articles"));
        if section.titles.is_empty() {
            out.push_str("; CHECK: no _index.md gives a title, so the slug is used.\n");
            let _ = writeln!(out, "title = {}\n", quote(&section.slug));
        } else {
            out.push_str("; titles from _index.md files.\n");
            let _ = writeln!(out, "title = {}\n", localized(&section.titles, &i.default_language));
        }
    }

    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(FIXED_TABLES);
    out.push('\n');
    if let Some(s) = site {
        let note = format!(
            "CHECK: {} may write /sitemap.xml and /robots.txt too; if both are served from one site, turn one off or change herald's paths below.",
            s.generator.name()
        );
        comment(&mut out, &note, "");
    }
    out.push_str(SITEMAPS_AND_MORE);
    out
}

/// Languages in the order they are written: the default first, then by code.
fn language_order(i: &Inspection) -> Vec<&str> {
    let mut order = vec![i.default_language.as_str()];
    order.extend(i.languages.keys().map(String::as_str).filter(|c| *c != i.default_language));
    order
}

/// The TOML value of `[site] title`, and whether a site configuration gave it.
fn site_title(i: &Inspection) -> (String, bool) {
    let Some(site) = i.site.as_ref().filter(|s| s.title.is_some() || !s.language_titles.is_empty()) else {
        return (quote(&i.folder_name), false);
    };
    let mut titles = BTreeMap::new();
    for code in i.languages.keys() {
        if let Some(t) = site.language_titles.get(code).or(site.title.as_ref()) {
            titles.insert(code.clone(), t.clone());
        }
    }
    let distinct: BTreeSet<&String> = titles.values().collect();
    match distinct.iter().next() {
        None => (quote(&i.folder_name), false),
        Some(only) if distinct.len() == 1 => (quote(only), true),
        Some(_) => (localized(&titles, &i.default_language), true),
    }
}

/// `path` as written in a feeds.toml in `config_dir`: relative when the two
/// share an ancestor below the file system root, else absolute.
fn path_for(path: &Path, config_dir: &Path) -> String {
    let absolute =
        |p: &Path| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.to_path_buf());
    let (store, base) = (absolute(path), absolute(config_dir));
    let s: Vec<Component> = store.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = s.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let only_root = s.iter().take(common).all(|c| matches!(c, Component::RootDir | Component::Prefix(_)));
    if only_root {
        return store.to_string_lossy().into_owned();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(s[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() { ".".to_string() } else { parts.join("/") }
}

/// Whether `folder` is `store` or lies inside it.
fn is_inside(folder: &Path, store: &Path) -> bool {
    match (std::fs::canonicalize(folder), std::fs::canonicalize(store)) {
        (Ok(folder), Ok(store)) => folder.starts_with(store),
        _ => false,
    }
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `{ vi = "…", en = "…" }`, the default language first.
fn localized(texts: &BTreeMap<String, String>, default_language: &str) -> String {
    let mut entries: Vec<(&String, &String)> = texts.iter().collect();
    entries.sort_by_key(|(code, _)| (code.as_str() != default_language, code.as_str()));
    let parts: Vec<String> = entries.iter().map(|(code, text)| format!("{code} = {}", quote(text))).collect();
    format!("{{ {} }}", parts.join(", "))
}

/// `one` when `n` is 1, else `many`.
pub(super) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// "CHECK: why." for a guess, "Why." otherwise.
fn checked(guess: bool, why: &str) -> String {
    if guess {
        return format!("CHECK: {why}.");
    }
    let mut chars = why.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Appends `text` as `#` comment lines of at most about 78 columns; lines
/// after the first start with `indent`.
fn comment(out: &mut String, text: &str, indent: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.chars().count() + 1 + word.chars().count() > 78 && line.len() > 2 + indent.len() {
            out.push_str(&line);
            out.push('\n');
            line = format!("# {indent}{word}");
        } else {
            line.push(' ');
            line.push_str(word);
        }
    }
    out.push_str(&line);
    out.push('\n');
}

/// `[feeds]`, `[archives]` and `[taxonomies]`, with herald's defaults.
const FIXED_TABLES: &str = r#"[feeds]
# Most items per feed (default 50). Older articles stay reachable through
# the monthly archives (RFC 5005).
item_limit = 50
# "full": feeds carry the whole article; "summary": only the lede.
content = "full"
# What /rss.xml, /atom.xml and /feed.json hold: "default_language" or
# "all_languages".
site_scope = "default_language"

# Feed locations. {lang} is the language code, {section} the section slug.
[feeds.paths.site]
rss = "/rss.xml"
atom = "/atom.xml"
json = "/feed.json"

[feeds.paths.language]
rss = "/{lang}/rss.xml"
atom = "/{lang}/atom.xml"
json = "/{lang}/feed.json"

[feeds.paths.section]
rss = "/{lang}/{section}/rss.xml"
atom = "/{lang}/{section}/atom.xml"
json = "/{lang}/{section}/feed.json"

# Feed archives (RFC 5005): every feed's history, one document per month.
[archives]
enabled = true
# {lang}, {section}, {month} (YYYY-MM) and {ext} (rss.xml, atom.xml, feed.json).
site_path = "/archive/{month}.{ext}"
language_path = "/{lang}/archive/{month}.{ext}"
section_path = "/{lang}/{section}/archive/{month}.{ext}"
# A sitemap-like list of every archive document of a language.
index_path = "/{lang}/archive.xml"

# Taxonomy feeds: every tag, author and category the front matter names
# (`tags`, `authors` or `author`, `categories`) gets feeds of its own in the
# article's language. Terms are folded to slugs as sections are (`Lễ hội`
# is `le-hoi`).
[taxonomies]
# Fewest visible articles a term needs for feeds (1: every term); each
# taxonomy below may set its own min_articles.
min_articles = 1

# {lang} is the language code, {term} the term's slug; archive_path also
# takes {month} and {ext}. enabled = false: no feeds, no OPML list.
[taxonomies.tags]
enabled = true
rss = "/{lang}/tags/{term}/rss.xml"
atom = "/{lang}/tags/{term}/atom.xml"
json = "/{lang}/tags/{term}/feed.json"
archive_path = "/{lang}/tags/{term}/archive/{month}.{ext}"

[taxonomies.authors]
enabled = true
rss = "/{lang}/authors/{term}/rss.xml"
atom = "/{lang}/authors/{term}/atom.xml"
json = "/{lang}/authors/{term}/feed.json"
archive_path = "/{lang}/authors/{term}/archive/{month}.{ext}"

[taxonomies.categories]
enabled = true
rss = "/{lang}/categories/{term}/rss.xml"
atom = "/{lang}/categories/{term}/atom.xml"
json = "/{lang}/categories/{term}/feed.json"
archive_path = "/{lang}/categories/{term}/archive/{month}.{ext}"
"#;

/// `[sitemaps]`, `[server]`, `[schedule]`, `[websub]` and the commented
/// `[[webhooks]]` and `[indexnow]`, with herald's defaults.
const SITEMAPS_AND_MORE: &str = r#"# Sitemaps: an index, monthly article sitemaps per language, a page sitemap,
# a Google News sitemap (last 48 hours) and robots.txt naming the index.
[sitemaps]
enabled = true
index_path = "/sitemap.xml"
# {lang} and {month} (YYYY-MM).
month_path = "/{lang}/sitemap-{month}.xml"
pages_path = "/sitemap-pages.xml"
news = true
news_path = "/sitemap-news.xml"
# Other pages of the site for the page sitemap: paths or absolute URLs.
extra_pages = []
# Also write .xml.gz twins.
gzip = false
robots_txt = true

# The HTTP server of `herald serve`.
[server]
# Overridden by --listen.
listen = "127.0.0.1:8080"
# For feeds, sitemaps and the index page.
cache_control = "public, max-age=300"
# Mirror every served file into a folder too (for a CDN); --out.
# out_dir = "public"
# Time limits (the README's "Limits" lists them all): a request head, an
# idle connection and an answer; a response the client stopped reading.
request_timeout_seconds = 30
write_timeout_seconds = 30
max_header_bytes = 16384
max_connections = 10000
# A saved file (closed after writing, or renamed into place) is read at
# once; a file still open for writing once the store has been quiet this
# long. Raise it if articles are written in place in slow pieces.
watch_debounce_ms = 100
# From this many documents (and without out_dir), `herald serve` starts
# serving the live feeds and sitemaps before the feed archives are rendered
# (meanwhile a path not found gets 503 and Retry-After instead of 404).
deferred_archives_from = 20000

# What the store may hold. Symbolic links are followed only when they lead
# inside the store, or into a folder listed here; a larger article is an
# error, never read.
[articles]
max_bytes = 4194304
follow_links_into = []

# Periodic jobs, cron lines (minute hour day-of-month month day-of-week) read
# in the site's time zone: a full rescan as a safety net, and housekeeping.
[schedule]
rebuild = "0 * * * *"
housekeeping = "30 3 * * *"

# herald's own WebSub hub: feed readers subscribe here and get new articles
# pushed within seconds. Subscriptions live in <state_dir>/herald.sqlite3.
[websub]
enabled = true
path = "/websub"
# Hubs to ping as well when a feed changes (also advertised in feeds).
external_hubs = []
# Leases (seconds): when the subscriber asks for none, shortest, longest.
lease_default_seconds = 864000
lease_min_seconds = 60
lease_max_seconds = 2592000
# X-Hub-Signature for subscriptions with a secret: sha1, sha256, sha384, sha512.
signature_algorithm = "sha256"
# Refuse callbacks on loopback/private addresses (SSRF); --allow-private-callbacks
# turns this off for tests and intranets.
allow_private_callbacks = false

# Signed article events for bots (Standard Webhooks). Uncomment and point at
# a real receiver; see the README for the payload.
# [[webhooks]]
# name = "social-bot"
# url = "https://bot.example.com/hooks/herald"
# secret = "whsec_…"  (generate: printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64)")
# events = ["article.published", "article.updated", "article.unpublished"]
# update_delay_seconds = 300

# Tell search engines about new and changed URLs at once.
# [indexnow]
# key = "…"  (8-128 letters, digits or dashes; e.g. head -c 16 /dev/urandom | xxd -p)
# endpoint = "https://api.indexnow.org/indexnow"
# delay_seconds = 10
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_for_toml() {
        assert_eq!(quote(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(quote("x\u{7}"), "\"x\\u0007\"");
    }

    #[test]
    fn store_paths_are_relative_when_close() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("site/content");
        std::fs::create_dir_all(&store).unwrap();
        assert_eq!(path_for(&store, &dir.path().join("site")), "content");
        assert_eq!(path_for(&store, &store), ".");
        assert_eq!(path_for(&store, &dir.path().join("etc")), "../site/content");
    }
}
