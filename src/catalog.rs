//! The catalog: which articles are visible now, per language and section,
//! newest first, and when visibility next changes.
//!
//! It is built once from a full scan and then kept current by small steps:
//! [`Catalog::upsert`] and [`Catalog::remove`] for store changes,
//! [`Catalog::advance`] for the passing of time (a future article's date
//! arriving, an expiry). Each step costs O(log n) and reports which feeds it
//! touched, so the daemon re-renders only those.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;

use crate::article::{Article, Month};
use crate::diagnostic::Diagnostic;

/// An article ordered newest first: by date descending, then id ascending.
#[derive(Debug, Clone)]
pub struct Newest(pub Arc<Article>);

impl Ord for Newest {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.date.cmp(&self.0.date).then_with(|| self.0.id.cmp(&other.0.id))
    }
}

impl PartialOrd for Newest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Newest {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Newest {}

/// Where an article is visible: the parts of the site a change touches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Placement {
    /// Language code.
    pub lang: String,
    /// Section slug.
    pub section: String,
}

/// What one catalog step did to the visible set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Visible articles that appeared (new file, or their time came).
    pub published: Vec<Arc<Article>>,
    /// Visible articles whose document changed while staying visible.
    pub updated: Vec<(Arc<Article>, Arc<Article>)>,
    /// Articles that stopped being visible (deleted, drafted, expired).
    pub unpublished: Vec<Arc<Article>>,
}

impl Change {
    /// Whether the visible set is unchanged.
    pub fn is_empty(&self) -> bool {
        self.published.is_empty() && self.updated.is_empty() && self.unpublished.is_empty()
    }

    /// Every language and section whose feeds may have changed.
    pub fn placements(&self) -> BTreeSet<Placement> {
        let mut out = BTreeSet::new();
        let mut add = |a: &Article| {
            out.insert(Placement { lang: a.lang.clone(), section: a.section.clone() });
        };
        self.published.iter().for_each(|a| add(a));
        self.unpublished.iter().for_each(|a| add(a));
        for (old, new) in &self.updated {
            add(old);
            add(new);
        }
        out
    }

    /// Adds `other`'s articles to this change.
    pub fn merge(&mut self, other: Change) {
        self.published.extend(other.published);
        self.updated.extend(other.updated);
        self.unpublished.extend(other.unpublished);
    }
}

/// Counts of articles by state, for health reports and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// Visible now.
    pub visible: usize,
    /// Drafts.
    pub drafts: usize,
    /// Not yet visible (date or publishDate in the future).
    pub scheduled: usize,
    /// Past their expiry date.
    pub expired: usize,
}

/// Every known article, and the visible ones indexed for the renderers.
#[derive(Debug, Default)]
pub struct Catalog {
    now: Timestamp,
    /// Every article read from the store, by source path.
    by_source: HashMap<PathBuf, Arc<Article>>,
    /// Which source holds each id (the first by path wins a duplicate).
    id_owner: HashMap<String, PathBuf>,
    /// Visible articles, newest first.
    all: BTreeSet<Newest>,
    /// Visible articles per language.
    by_lang: BTreeMap<String, BTreeSet<Newest>>,
    /// Visible articles per language and section.
    by_section: BTreeMap<Placement, BTreeSet<Newest>>,
    /// Visible articles per language and publication month.
    by_month: BTreeMap<(String, Month), BTreeSet<Newest>>,
    /// Visible articles per translation key, as (lang, source) pairs.
    by_translation: HashMap<String, BTreeSet<(String, PathBuf)>>,
    /// Future instants at which an article's visibility flips.
    timeline: BTreeSet<(Timestamp, PathBuf)>,
}

impl Catalog {
    /// An empty catalog at `now`.
    pub fn new(now: Timestamp) -> Catalog {
        Catalog { now, ..Catalog::default() }
    }

    /// A catalog of `articles` at `now`. Articles whose id is already taken
    /// by an earlier document (by path) are refused with a diagnostic.
    pub fn from_articles(articles: Vec<Article>, now: Timestamp) -> (Catalog, Vec<Diagnostic>) {
        let mut catalog = Catalog::new(now);
        let mut problems = Vec::new();
        let mut articles = articles;
        articles.sort_by(|a, b| a.source.path.cmp(&b.source.path));
        for article in articles {
            if let Err(d) = catalog.upsert(article) {
                problems.push(d);
            }
        }
        (catalog, problems)
    }

    /// The instant the catalog reflects.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Adds or replaces the article read from `article.source.path`.
    /// Refused when another document already uses the same id.
    pub fn upsert(&mut self, article: Article) -> Result<Change, Diagnostic> {
        let source = article.source.path.clone();
        if let Some(owner) = self.id_owner.get(&article.id)
            && *owner != source
        {
            return Err(Diagnostic::error(
                &source,
                format!("id `{}` is already used by {}", article.id, owner.display()),
            )
            .with_hint("every article needs its own id: change `id` or `slug` in one of them"));
        }
        let article = Arc::new(article);
        let old = self.by_source.insert(source.clone(), Arc::clone(&article));
        if let Some(old) = &old
            && old.id != article.id
        {
            self.id_owner.remove(&old.id);
        }
        self.id_owner.insert(article.id.clone(), source);
        Ok(self.reindex(old, Some(article)))
    }

    /// Forgets the article read from `source` (its file was deleted).
    pub fn remove(&mut self, source: &Path) -> Change {
        let Some(old) = self.by_source.remove(source) else { return Change::default() };
        self.id_owner.remove(&old.id);
        self.reindex(Some(old), None)
    }

    /// Moves the clock to `now`, publishing and expiring what falls due.
    pub fn advance(&mut self, now: Timestamp) -> Change {
        self.now = now;
        let mut change = Change::default();
        while let Some((at, source)) = self.timeline.first().cloned() {
            if at > now {
                break;
            }
            self.timeline.pop_first();
            if let Some(article) = self.by_source.get(&source).cloned() {
                // Re-evaluate with the new clock: remove, then insert.
                change.merge(self.reindex(Some(Arc::clone(&article)), Some(article)));
            }
        }
        change
    }

    /// The next instant at which an article's visibility changes, if any.
    pub fn next_change(&self) -> Option<Timestamp> {
        self.timeline.first().map(|(at, _)| *at)
    }

    /// Removes `old` from the indexes and adds `new`, at the current clock,
    /// and says what that did to the visible set.
    fn reindex(&mut self, old: Option<Arc<Article>>, new: Option<Arc<Article>>) -> Change {
        let was_visible = old.as_ref().is_some_and(|a| self.is_indexed(a));
        if let Some(old) = &old {
            self.unindex(old);
        }
        let now_visible = new.as_ref().is_some_and(|a| a.is_visible_at(self.now));
        if let Some(new) = &new {
            for at in [Some(new.visible_from()), new.expiry_date].into_iter().flatten() {
                if at > self.now && !new.draft {
                    self.timeline.insert((at, new.source.path.clone()));
                }
            }
            if now_visible {
                self.index(new);
            }
        }
        let mut change = Change::default();
        match (old, new, was_visible, now_visible) {
            (_, Some(new), false, true) => change.published.push(new),
            (Some(old), None, true, _) | (Some(old), Some(_), true, false) => change.unpublished.push(old),
            (Some(old), Some(new), true, true) if old != new => change.updated.push((old, new)),
            _ => {}
        }
        change
    }

    fn is_indexed(&self, article: &Arc<Article>) -> bool {
        self.all.get(&Newest(Arc::clone(article))).is_some_and(|found| Arc::ptr_eq(&found.0, article))
    }

    fn index(&mut self, article: &Arc<Article>) {
        let entry = Newest(Arc::clone(article));
        self.all.insert(entry.clone());
        self.by_lang.entry(article.lang.clone()).or_default().insert(entry.clone());
        self.by_section.entry(placement(article)).or_default().insert(entry.clone());
        self.by_month.entry((article.lang.clone(), article.month)).or_default().insert(entry);
        self.by_translation
            .entry(article.translation_key.clone())
            .or_default()
            .insert((article.lang.clone(), article.source.path.clone()));
    }

    fn unindex(&mut self, article: &Arc<Article>) {
        let entry = Newest(Arc::clone(article));
        self.timeline.retain(|(_, s)| *s != article.source.path || s.as_os_str().is_empty());
        if !self.is_indexed(article) {
            return;
        }
        self.all.remove(&entry);
        remove_from(&mut self.by_lang, &article.lang, &entry);
        remove_from(&mut self.by_section, &placement(article), &entry);
        remove_from(&mut self.by_month, &(article.lang.clone(), article.month), &entry);
        if let Some(set) = self.by_translation.get_mut(&article.translation_key) {
            set.remove(&(article.lang.clone(), article.source.path.clone()));
            if set.is_empty() {
                self.by_translation.remove(&article.translation_key);
            }
        }
    }

    /// Visible articles in every language, newest first.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Article>> {
        self.all.iter().map(|n| &n.0)
    }

    /// Visible articles in `lang`, newest first.
    pub fn in_language(&self, lang: &str) -> impl Iterator<Item = &Arc<Article>> {
        self.by_lang.get(lang).into_iter().flatten().map(|n| &n.0)
    }

    /// Visible articles in `section` of `lang`, newest first.
    pub fn in_section(&self, lang: &str, section: &str) -> impl Iterator<Item = &Arc<Article>> {
        let key = Placement { lang: lang.to_string(), section: section.to_string() };
        self.by_section.get(&key).into_iter().flatten().map(|n| &n.0)
    }

    /// Visible articles of `lang` published in `month`, newest first.
    pub fn in_month(&self, lang: &str, month: Month) -> impl Iterator<Item = &Arc<Article>> {
        self.by_month.get(&(lang.to_string(), month)).into_iter().flatten().map(|n| &n.0)
    }

    /// Every (language, month) that has visible articles, sorted.
    pub fn months(&self) -> impl Iterator<Item = (&str, Month)> {
        self.by_month.keys().map(|(lang, month)| (lang.as_str(), *month))
    }

    /// Every (language, section) that has visible articles, sorted.
    pub fn placements(&self) -> impl Iterator<Item = &Placement> {
        self.by_section.keys()
    }

    /// Languages that have visible articles, sorted.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.by_lang.keys().map(String::as_str)
    }

    /// The visible versions of `article`'s story in every language
    /// (including itself), sorted by language code.
    pub fn translations(&self, article: &Article) -> Vec<&Arc<Article>> {
        self.by_translation
            .get(&article.translation_key)
            .into_iter()
            .flatten()
            .filter_map(|(_, source)| self.by_source.get(source))
            .collect()
    }

    /// Every article read from the store, visible or not, in no order.
    pub fn every_article(&self) -> impl Iterator<Item = &Arc<Article>> {
        self.by_source.values()
    }

    /// The article read from `source`, if any.
    pub fn by_source(&self, source: &Path) -> Option<&Arc<Article>> {
        self.by_source.get(source)
    }

    /// How many articles are in each state at the catalog's clock.
    pub fn counts(&self) -> StateCounts {
        let mut counts = StateCounts::default();
        for a in self.by_source.values() {
            if a.draft {
                counts.drafts += 1;
            } else if a.expiry_date.is_some_and(|e| e <= self.now) {
                counts.expired += 1;
            } else if a.visible_from() > self.now {
                counts.scheduled += 1;
            }
        }
        counts.visible = self.all.len();
        counts
    }
}

fn placement(article: &Article) -> Placement {
    Placement { lang: article.lang.clone(), section: article.section.clone() }
}

fn remove_from<K: Ord + Clone>(map: &mut BTreeMap<K, BTreeSet<Newest>>, key: &K, entry: &Newest) {
    if let Some(set) = map.get_mut(key) {
        set.remove(entry);
        if set.is_empty() {
            map.remove(key);
        }
    }
}
