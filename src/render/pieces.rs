//! Archive items rendered once and shared: an archive document is a
//! header, its items and a tail ([`super::splice`]), and an archive item's
//! bytes depend on its article alone (archives carry summaries, never
//! bodies). So the archive documents of one month, in every scope that
//! lists the month (the site, each language, each section, and any scope
//! added later), are assembled from one rendering of each article per
//! format: a new scope costs a header and the concatenation of bytes
//! already made.
//!
//! The items of a month are written into one buffer per format (no
//! allocation per item kept); each scope's document is its header, the
//! pieces of its articles and the tail. A piece that does not have the
//! expected shape makes the scope's document be written whole instead, and
//! debug builds (the tests) compare every assembled document with the one
//! written at once.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use jiff::Timestamp;

use super::archive::{History, archive_path, articles_in_month};
use super::feed::{FeedDoc, FeedFormat, FeedItem, FeedScope, archive_doc_partial, archive_item};
use super::splice;
use crate::article::{Article, Month};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::snapshot::{Resource, ResourceKind};

/// One scope archived in a month: the scope and its archive months
/// (oldest first, for the links to the neighbouring months).
pub type ScopeMonths<'a> = (&'a FeedScope, &'a [Month]);

/// The archive documents of `month` of every scope in `scopes` (each must
/// have `month` among its months): `(path, resource)` pairs, three per
/// scope, the same bytes [`super::render_archive_month`] gives.
pub fn month_documents(
    month: Month,
    scopes: &[ScopeMonths<'_>],
    catalog: &Catalog,
    config: &Config,
) -> Vec<(String, Resource)> {
    let articles = month_articles(month, catalog);
    let index: HashMap<*const Article, usize> = articles.iter().enumerate().map(|(i, a)| (Arc::as_ptr(a), i)).collect();
    // Each scope's articles of the month, as places in `articles` (`None`:
    // one is not among them, and that scope's documents are written whole).
    let members: Vec<Option<Vec<usize>>> = scopes
        .iter()
        .map(|(scope, _)| {
            articles_in_month(scope, month, catalog, config)
                .into_iter()
                .map(|a| index.get(&Arc::as_ptr(a)).copied())
                .collect()
        })
        .collect();
    let mut needed = vec![false; articles.len()];
    for &i in members.iter().flatten().flatten() {
        needed[i] = true;
    }
    let pieces = Pieces::render(&articles, &needed, catalog, config);
    let past = month < Month::of(catalog.now(), &config.site.time_zone);
    let mut out = Vec::with_capacity(scopes.len() * 3);
    for ((scope, months), members) in scopes.iter().zip(&members) {
        let at = months.iter().position(|m| *m == month);
        let prev = at.and_then(|i| i.checked_sub(1)).map(|i| months[i]);
        let next = at.and_then(|i| months.get(i + 1)).copied();
        let doc = archive_doc_partial(scope, month, prev, next, catalog, config, |_| false);
        let kind = ResourceKind::Archive { past };
        for (n, format) in FeedFormat::ALL.into_iter().enumerate() {
            let path = archive_path(scope, month, format, config);
            let bytes = members
                .as_deref()
                .and_then(|members| pieces.assemble(&doc, members, n, format, config))
                .unwrap_or_else(|| whole(scope, month, prev, next, catalog, config, format));
            debug_assert!(
                bytes == whole(scope, month, prev, next, catalog, config, format),
                "{path}: the assembled archive differs from the one written at once"
            );
            let resource = Resource::new(kind, bytes, splice::content_type(format), Some(doc.updated));
            out.push((path, resource.with_cold(scope.is_cold())));
        }
    }
    out
}

/// The archive document of `scope` for `month` in `format`, written at once.
fn whole(
    scope: &FeedScope,
    month: Month,
    prev: Option<Month>,
    next: Option<Month>,
    catalog: &Catalog,
    config: &Config,
    format: FeedFormat,
) -> Vec<u8> {
    let doc = super::feed::archive_doc(scope, month, prev, next, catalog, config);
    splice::format_bytes(&doc, &doc.items, format, config)
}

/// Every visible article published in `month`, in every language: each
/// scope's articles of the month are among them.
fn month_articles(month: Month, catalog: &Catalog) -> Vec<&Arc<Article>> {
    catalog.languages().flat_map(|lang| catalog.in_month(lang, month)).collect()
}

/// The archive items of a month's articles, per format: all pieces in one
/// buffer, and where each article's piece lies (`None`: not rendered, or
/// not of the expected shape).
struct Pieces {
    bytes: [Vec<u8>; 3],
    at: [Vec<Option<Range<usize>>>; 3],
}

impl Pieces {
    /// Renders the pieces of the `articles` that are `needed`.
    fn render(articles: &[&Arc<Article>], needed: &[bool], catalog: &Catalog, config: &Config) -> Pieces {
        let stub = stub_doc();
        let mut pieces = Pieces {
            bytes: std::array::from_fn(|_| Vec::with_capacity(articles.len() * 1536)),
            at: std::array::from_fn(|_| Vec::with_capacity(articles.len())),
        };
        let heads: Vec<Option<Vec<u8>>> =
            FeedFormat::ALL.into_iter().map(|format| splice::stub_head(&stub, format, config)).collect();
        for (article, needed) in articles.iter().zip(needed) {
            if !*needed {
                for at in &mut pieces.at {
                    at.push(None);
                }
                continue;
            }
            let item = archive_item(article, catalog, config);
            for (n, format) in FeedFormat::ALL.into_iter().enumerate() {
                let buffer = &mut pieces.bytes[n];
                let start = buffer.len();
                let ok = heads[n]
                    .as_deref()
                    .is_some_and(|head| splice::push_piece(&stub, head, &item, format, config, buffer));
                pieces.at[n].push(ok.then_some(start..buffer.len()));
            }
        }
        pieces
    }

    /// `doc` (a scope's archive document, its items placeholders for the
    /// articles at `members`) in format number `n`, from its header and
    /// the pieces; `None` if a piece is missing or the header has not the
    /// expected shape.
    fn assemble(
        &self,
        doc: &FeedDoc,
        members: &[usize],
        n: usize,
        format: FeedFormat,
        config: &Config,
    ) -> Option<Vec<u8>> {
        let ranges: Option<Vec<&Range<usize>>> = members.iter().map(|&i| self.at[n][i].as_ref()).collect();
        let ranges = ranges?;
        let bytes = &self.bytes[n];
        splice::join(doc, format, config, ranges.iter().map(|r| &bytes[(*r).clone()]))
    }
}

/// A document with no items and nothing in its header but the structure
/// every document shares: what items are written into to take their bytes.
fn stub_doc() -> FeedDoc {
    FeedDoc {
        scope: FeedScope::Site,
        lang: String::new(),
        title: String::new(),
        description: String::new(),
        home_url: String::new(),
        rss_url: String::new(),
        atom_url: String::new(),
        json_url: String::new(),
        updated: Timestamp::UNIX_EPOCH,
        items: Vec::<FeedItem>::new(),
        history: History::Off,
    }
}
