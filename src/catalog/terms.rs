//! The catalog's index of taxonomy terms: the visible articles of each tag,
//! author and category per language, by month, and how each term is
//! spelled.
//!
//! A term is known by its slug, folded as section names are
//! ([`crate::text::slugify`]: NFC, Vietnamese marks and case folded), so
//! `Lễ hội`, `lễ hội` and `Lễ Hội` are one term, `le-hoi`. Its title is the
//! spelling most of its articles use; on a tie, the one that sorts first
//! (by code point, so `Lễ Hội` before `Lễ hội`): the same store always
//! gives the same title.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::Newest;
use crate::article::{Article, Month};
use crate::config::Taxonomy;
use crate::text::slugify;

/// One term of one taxonomy in one language: what a term feed holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term {
    /// Language code.
    pub lang: String,
    /// Tags, authors or categories.
    pub taxonomy: Taxonomy,
    /// The folded spelling (`le-hoi`).
    pub slug: String,
}

/// The visible articles of one term and its spellings.
#[derive(Debug, Default)]
pub struct TermEntry {
    /// Visible articles by publication month (newest first within one).
    months: BTreeMap<Month, BTreeSet<Newest>>,
    /// How many visible articles it has.
    count: usize,
    /// Each spelling, with how many visible articles use it.
    spellings: BTreeMap<String, usize>,
}

impl TermEntry {
    /// How many visible articles it has (O(1)).
    pub fn count(&self) -> usize {
        self.count
    }

    /// The spelling most of its articles use (ties: the first by code
    /// point).
    pub fn title(&self) -> &str {
        let mut best: Option<(&String, usize)> = None;
        for (spelling, count) in &self.spellings {
            if best.is_none_or(|(_, n)| *count > n) {
                best = Some((spelling, *count));
            }
        }
        best.map_or("", |(s, _)| s.as_str())
    }

    /// Each spelling with how many visible articles use it, most used first
    /// (ties by code point).
    pub fn spellings(&self) -> Vec<(&str, usize)> {
        let mut out: Vec<(&str, usize)> = self.spellings.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        out
    }

    /// Its visible articles, newest first.
    pub fn articles(&self) -> impl Iterator<Item = &Arc<Article>> {
        self.months.values().rev().flatten().map(|n| &n.0)
    }

    /// The months in which it has visible articles, oldest first.
    pub fn months(&self) -> impl Iterator<Item = Month> + '_ {
        self.months.keys().copied()
    }

    /// Its visible articles published in `month`, newest first.
    pub fn in_month(&self, month: Month) -> impl Iterator<Item = &Arc<Article>> {
        self.months.get(&month).into_iter().flatten().map(|n| &n.0)
    }
}

/// Every term of the indexed taxonomies.
#[derive(Debug, Default)]
pub(super) struct TermIndex {
    /// The taxonomies indexed (those whose feeds are published).
    taxonomies: Vec<Taxonomy>,
    /// Each term with visible articles.
    terms: BTreeMap<Term, TermEntry>,
}

impl TermIndex {
    /// An empty index of `taxonomies`.
    pub(super) fn new(taxonomies: Vec<Taxonomy>) -> TermIndex {
        TermIndex { taxonomies, terms: BTreeMap::new() }
    }

    /// The terms `article` belongs to, each with the spellings it uses.
    fn terms_of(&self, article: &Article) -> BTreeMap<Term, Vec<String>> {
        let mut out: BTreeMap<Term, Vec<String>> = BTreeMap::new();
        for taxonomy in &self.taxonomies {
            for spelling in terms_in(article, *taxonomy) {
                let slug = slugify(spelling);
                if slug.is_empty() {
                    continue;
                }
                let term = Term { lang: article.lang.clone(), taxonomy: *taxonomy, slug };
                out.entry(term).or_default().push(spelling.clone());
            }
        }
        out
    }

    /// The terms of the indexed taxonomies `article` belongs to.
    pub(super) fn terms(&self, article: &Article) -> Vec<Term> {
        self.terms_of(article).into_keys().collect()
    }

    /// Adds a visible article.
    pub(super) fn index(&mut self, article: &Arc<Article>) {
        for (term, spellings) in self.terms_of(article) {
            let entry = self.terms.entry(term).or_default();
            if entry.months.entry(article.month).or_default().insert(Newest(Arc::clone(article))) {
                entry.count += 1;
            }
            for spelling in spellings {
                *entry.spellings.entry(spelling).or_default() += 1;
            }
        }
    }

    /// Removes a visible article.
    pub(super) fn unindex(&mut self, article: &Arc<Article>) {
        for (term, spellings) in self.terms_of(article) {
            let Some(entry) = self.terms.get_mut(&term) else { continue };
            if let Some(set) = entry.months.get_mut(&article.month) {
                if set.remove(&Newest(Arc::clone(article))) {
                    entry.count -= 1;
                }
                if set.is_empty() {
                    entry.months.remove(&article.month);
                }
            }
            for spelling in spellings {
                if let Some(n) = entry.spellings.get_mut(&spelling) {
                    *n -= 1;
                    if *n == 0 {
                        entry.spellings.remove(&spelling);
                    }
                }
            }
            if entry.count == 0 {
                self.terms.remove(&term);
            }
        }
    }

    /// Every term with visible articles, sorted.
    pub(super) fn all(&self) -> impl Iterator<Item = (&Term, &TermEntry)> {
        self.terms.iter()
    }

    /// `term`'s entry, if it has visible articles.
    pub(super) fn get(&self, term: &Term) -> Option<&TermEntry> {
        self.terms.get(term)
    }
}

/// The terms `article` lists in `taxonomy`, as written.
pub fn terms_in(article: &Article, taxonomy: Taxonomy) -> &[String] {
    match taxonomy {
        Taxonomy::Tags => &article.tags,
        Taxonomy::Authors => &article.authors,
        Taxonomy::Categories => &article.categories,
    }
}
