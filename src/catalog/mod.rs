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
use crate::config::Taxonomy;
use crate::diagnostic::Diagnostic;

mod terms;

pub use terms::{Term, TermEntry, terms_in};

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

/// An article's state at the catalog's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Visible,
    Draft,
    Scheduled,
    Expired,
}

impl State {
    fn of(article: &Article, now: Timestamp) -> State {
        if article.draft {
            State::Draft
        } else if article.expiry_date.is_some_and(|e| e <= now) {
            State::Expired
        } else if article.visible_from() > now {
            State::Scheduled
        } else {
            State::Visible
        }
    }
}

impl StateCounts {
    fn add(&mut self, state: State, delta: isize) {
        let slot = match state {
            State::Visible => &mut self.visible,
            State::Draft => &mut self.drafts,
            State::Scheduled => &mut self.scheduled,
            State::Expired => &mut self.expired,
        };
        *slot = slot.saturating_add_signed(delta);
    }
}

/// Every known article, and the visible ones indexed for the renderers.
///
/// Ids are unique: when two documents claim one id, the one with the lower
/// path holds it (as a full build decides) and the other waits as a
/// *contender*, reported by [`Catalog::duplicate_problems`] and admitted
/// as soon as the id is free again.
#[derive(Debug, Default)]
pub struct Catalog {
    now: Timestamp,
    /// Every admitted article, by source path (sorted, for folder lookups).
    by_source: BTreeMap<PathBuf, Arc<Article>>,
    /// Which source holds each id.
    id_owner: HashMap<String, PathBuf>,
    /// Documents refused because another holds their id, by id.
    contenders: HashMap<String, BTreeMap<PathBuf, Arc<Article>>>,
    /// The id each contender claims, by source.
    contender_ids: BTreeMap<PathBuf, String>,
    /// Visible articles, newest first.
    all: BTreeSet<Newest>,
    /// Visible articles per language.
    by_lang: BTreeMap<String, BTreeSet<Newest>>,
    /// Visible articles per language and section.
    by_section: BTreeMap<Placement, BTreeSet<Newest>>,
    /// Visible articles per language and publication month.
    by_month: BTreeMap<(String, Month), BTreeSet<Newest>>,
    /// Months with visible articles per language and section, with how
    /// many articles each holds.
    section_months: BTreeMap<Placement, BTreeMap<Month, usize>>,
    /// Visible articles per translation key, sorted by (lang, source): a
    /// story has a version or two, so a list (a map would take a whole
    /// tree node per story).
    by_translation: HashMap<String, Vec<Arc<Article>>>,
    /// Visible articles per taxonomy term (tag, author, category) and
    /// language.
    terms: terms::TermIndex,
    /// Future instants at which an article's visibility flips.
    timeline: BTreeSet<(Timestamp, PathBuf)>,
    /// The timeline entries of each source, to remove them by key.
    timeline_of: HashMap<PathBuf, Vec<Timestamp>>,
    /// Each admitted article's state, as counted in `counts`.
    state_of: HashMap<PathBuf, State>,
    /// Admitted articles by state.
    counts: StateCounts,
}

impl Catalog {
    /// An empty catalog at `now`, indexing no taxonomy.
    pub fn new(now: Timestamp) -> Catalog {
        Catalog { now, ..Catalog::default() }
    }

    /// An empty catalog at `now` that indexes the terms of `taxonomies`
    /// (those whose feeds are published: `config.taxonomies.enabled()`).
    pub fn with_taxonomies(now: Timestamp, taxonomies: Vec<Taxonomy>) -> Catalog {
        Catalog { now, terms: terms::TermIndex::new(taxonomies), ..Catalog::default() }
    }

    /// A catalog of `articles` at `now` indexing the terms of `taxonomies`,
    /// and a problem for each article refused because a document with a
    /// lower path has its id.
    pub fn from_articles(
        mut articles: Vec<Article>,
        now: Timestamp,
        taxonomies: Vec<Taxonomy>,
    ) -> (Catalog, Vec<Diagnostic>) {
        let mut catalog = Catalog::with_taxonomies(now, taxonomies);
        // In the order given, taken from the back of the reversed list so
        // that the list's memory is given back as the catalog grows.
        articles.reverse();
        while let Some(article) = articles.pop() {
            catalog.upsert(article);
            if articles.capacity() > 1024 && articles.len() < articles.capacity() / 2 {
                articles.shrink_to_fit();
            }
        }
        let problems = catalog.duplicate_problems();
        (catalog, problems)
    }

    /// The instant the catalog reflects.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Adds or replaces the article read from `article.source.path`.
    pub fn upsert(&mut self, article: Article) -> Change {
        let source = article.source.path.clone();
        let article = Arc::new(article);
        let mut change = Change::default();
        self.drop_contender(&source);
        let mut old = self.by_source.get(&source).cloned();
        if let Some(previous) = &old
            && previous.id != article.id
        {
            // The old id is released: its contenders may take it.
            change.merge(self.remove(&source));
            old = None;
        }
        match self.id_owner.get(&article.id).cloned() {
            Some(owner) if owner != source && owner < source => {
                self.contender_ids.insert(source.clone(), article.id.clone());
                self.contenders.entry(article.id.clone()).or_default().insert(source, article);
            }
            Some(owner) if owner != source => {
                // A lower path takes the id from its holder.
                change.merge(self.demote(&owner));
                change.merge(self.admit(article, None));
            }
            _ => change.merge(self.admit(article, old)),
        }
        change
    }

    /// Forgets the article read from `source` (its file was deleted).
    pub fn remove(&mut self, source: &Path) -> Change {
        if self.drop_contender(source) {
            return Change::default();
        }
        let Some(old) = self.by_source.remove(source) else { return Change::default() };
        self.id_owner.remove(&old.id);
        let mut change = self.reindex(Some(Arc::clone(&old)), None);
        change.merge(self.promote(&old.id));
        change
    }

    /// Problems for documents refused because another has their id.
    pub fn duplicate_problems(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (source, id) in &self.contender_ids {
            let owner = self.id_owner.get(id).map(|o| o.display().to_string()).unwrap_or_default();
            out.push(
                Diagnostic::error(source, format!("id `{id}` is already used by {owner}"))
                    .with_hint("every article needs its own id: change `id` or `slug` in one of them"),
            );
        }
        out
    }

    fn admit(&mut self, article: Arc<Article>, old: Option<Arc<Article>>) -> Change {
        let source = article.source.path.clone();
        self.id_owner.insert(article.id.clone(), source.clone());
        self.by_source.insert(source, Arc::clone(&article));
        self.reindex(old, Some(article))
    }

    /// Moves the holder of an id among the contenders.
    fn demote(&mut self, owner: &Path) -> Change {
        let Some(article) = self.by_source.remove(owner) else { return Change::default() };
        self.id_owner.remove(&article.id);
        let change = self.reindex(Some(Arc::clone(&article)), None);
        self.contender_ids.insert(owner.to_path_buf(), article.id.clone());
        self.contenders.entry(article.id.clone()).or_default().insert(owner.to_path_buf(), article);
        change
    }

    /// Admits the contender with the lowest path for a free `id`.
    fn promote(&mut self, id: &str) -> Change {
        let Some(waiting) = self.contenders.get_mut(id) else { return Change::default() };
        let Some((source, article)) = waiting.pop_first() else { return Change::default() };
        if waiting.is_empty() {
            self.contenders.remove(id);
        }
        self.contender_ids.remove(&source);
        self.admit(article, None)
    }

    /// Forgets `source` as a contender; whether it was one.
    fn drop_contender(&mut self, source: &Path) -> bool {
        let Some(id) = self.contender_ids.remove(source) else { return false };
        if let Some(waiting) = self.contenders.get_mut(&id) {
            waiting.remove(source);
            if waiting.is_empty() {
                self.contenders.remove(&id);
            }
        }
        true
    }

    /// Moves the clock to `now`, publishing and expiring what falls due.
    pub fn advance(&mut self, now: Timestamp) -> Change {
        self.now = now;
        let mut change = Change::default();
        while let Some((at, source)) = self.timeline.first().cloned() {
            if at > now {
                break;
            }
            if let Some(article) = self.by_source.get(&source).cloned() {
                // Re-evaluate with the new clock: remove, then insert.
                change.merge(self.reindex(Some(Arc::clone(&article)), Some(article)));
            }
            self.clear_timeline(&source);
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
            self.clear_timeline(&old.source.path);
            if let Some(state) = self.state_of.remove(&old.source.path) {
                self.counts.add(state, -1);
            }
        }
        let now_visible = new.as_ref().is_some_and(|a| a.is_visible_at(self.now));
        if let Some(new) = &new {
            let state = State::of(new, self.now);
            self.state_of.insert(new.source.path.clone(), state);
            self.counts.add(state, 1);
            for at in [Some(new.visible_from()), new.expiry_date].into_iter().flatten() {
                if at > self.now && !new.draft {
                    self.timeline.insert((at, new.source.path.clone()));
                    self.timeline_of.entry(new.source.path.clone()).or_default().push(at);
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

    fn clear_timeline(&mut self, source: &Path) {
        for at in self.timeline_of.remove(source).unwrap_or_default() {
            self.timeline.remove(&(at, source.to_path_buf()));
        }
    }

    fn is_indexed(&self, article: &Arc<Article>) -> bool {
        self.all.get(&Newest(Arc::clone(article))).is_some_and(|found| Arc::ptr_eq(&found.0, article))
    }

    fn index(&mut self, article: &Arc<Article>) {
        let entry = Newest(Arc::clone(article));
        self.all.insert(entry.clone());
        self.by_lang.entry(article.lang.clone()).or_default().insert(entry.clone());
        self.by_section.entry(placement(article)).or_default().insert(entry.clone());
        *self.section_months.entry(placement(article)).or_default().entry(article.month).or_default() += 1;
        self.by_month.entry((article.lang.clone(), article.month)).or_default().insert(entry);
        self.terms.index(article);
        let versions = self.by_translation.entry(article.translation_key.clone()).or_default();
        match versions.binary_search_by(|v| version_order(v, article)) {
            Ok(at) => versions[at] = Arc::clone(article),
            Err(at) => versions.insert(at, Arc::clone(article)),
        }
    }

    fn unindex(&mut self, article: &Arc<Article>) {
        if !self.is_indexed(article) {
            return;
        }
        let entry = Newest(Arc::clone(article));
        self.all.remove(&entry);
        remove_from(&mut self.by_lang, &article.lang, &entry);
        remove_from(&mut self.by_section, &placement(article), &entry);
        remove_from(&mut self.by_month, &(article.lang.clone(), article.month), &entry);
        self.terms.unindex(article);
        let place = placement(article);
        if let Some(months) = self.section_months.get_mut(&place) {
            if let Some(count) = months.get_mut(&article.month) {
                *count -= 1;
                if *count == 0 {
                    months.remove(&article.month);
                }
            }
            if months.is_empty() {
                self.section_months.remove(&place);
            }
        }
        if let Some(set) = self.by_translation.get_mut(&article.translation_key) {
            if let Ok(at) = set.binary_search_by(|v| version_order(v, article)) {
                set.remove(at);
            }
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

    /// How many articles are visible in `lang` (O(1)).
    pub fn count_in_language(&self, lang: &str) -> usize {
        self.by_lang.get(lang).map_or(0, BTreeSet::len)
    }

    /// Visible articles in `section` of `lang`, newest first.
    pub fn in_section(&self, lang: &str, section: &str) -> impl Iterator<Item = &Arc<Article>> {
        let key = Placement { lang: lang.to_string(), section: section.to_string() };
        self.by_section.get(&key).into_iter().flatten().map(|n| &n.0)
    }

    /// How many articles are visible in `section` of `lang` (O(1)).
    pub fn count_in_section(&self, lang: &str, section: &str) -> usize {
        let key = Placement { lang: lang.to_string(), section: section.to_string() };
        self.by_section.get(&key).map_or(0, BTreeSet::len)
    }

    /// Visible articles of `lang` published in `month`, newest first.
    pub fn in_month(&self, lang: &str, month: Month) -> impl Iterator<Item = &Arc<Article>> {
        self.by_month.get(&(lang.to_string(), month)).into_iter().flatten().map(|n| &n.0)
    }

    /// The months in which `section` of `lang` has visible articles, oldest
    /// first. O(log n + months).
    pub fn section_months(&self, lang: &str, section: &str) -> impl Iterator<Item = Month> {
        let key = Placement { lang: lang.to_string(), section: section.to_string() };
        self.section_months.get(&key).into_iter().flat_map(|months| months.keys().copied())
    }

    /// Every (language, month) that has visible articles, sorted.
    pub fn months(&self) -> impl Iterator<Item = (&str, Month)> {
        self.by_month.keys().map(|(lang, month)| (lang.as_str(), *month))
    }

    /// Every (language, section) that has visible articles, sorted.
    pub fn placements(&self) -> impl Iterator<Item = &Placement> {
        self.by_section.keys()
    }

    /// Every taxonomy term with visible articles, sorted (by language,
    /// taxonomy, slug).
    pub fn terms(&self) -> impl Iterator<Item = (&Term, &TermEntry)> {
        self.terms.all()
    }

    /// `term`'s visible articles and spellings, if it has any.
    pub fn term(&self, term: &Term) -> Option<&TermEntry> {
        self.terms.get(term)
    }

    /// The terms of the indexed taxonomies that `article` lists (whether
    /// or not it is visible).
    pub fn terms_of(&self, article: &Article) -> Vec<Term> {
        self.terms.terms(article)
    }

    /// Languages that have visible articles, sorted.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.by_lang.keys().map(String::as_str)
    }

    /// The visible versions of `article`'s story in every language
    /// (including itself), sorted by language code.
    pub fn translations(&self, article: &Article) -> Vec<&Arc<Article>> {
        self.by_translation.get(&article.translation_key).into_iter().flatten().collect()
    }

    /// How many documents the catalog knows: admitted articles and refused
    /// duplicates (O(1)).
    pub fn document_count(&self) -> usize {
        self.by_source.len() + self.contender_ids.len()
    }

    /// How many articles are visible in any language (O(1)).
    pub fn count_all(&self) -> usize {
        self.all.len()
    }

    /// Every admitted article, visible or not, by source path.
    pub fn every_article(&self) -> impl Iterator<Item = &Arc<Article>> {
        self.by_source.values()
    }

    /// The visible article with id `id`, if any.
    pub fn visible_by_id(&self, id: &str) -> Option<&Arc<Article>> {
        let article = self.by_source.get(self.id_owner.get(id)?)?;
        self.is_indexed(article).then_some(article)
    }

    /// The admitted article read from `source`, if any.
    pub fn by_source(&self, source: &Path) -> Option<&Arc<Article>> {
        self.by_source.get(source)
    }

    /// The refused duplicate read from `source`, if it is one.
    pub fn contender(&self, source: &Path) -> Option<&Arc<Article>> {
        let id = self.contender_ids.get(source)?;
        self.contenders.get(id)?.get(source)
    }

    /// Sources of every refused duplicate.
    pub fn contender_sources(&self) -> Vec<PathBuf> {
        self.contender_ids.keys().cloned().collect()
    }

    /// Sources of every known document (admitted or contender) under
    /// folder `prefix`, sorted. O(log n + matches).
    pub fn sources_under(&self, prefix: &Path) -> Vec<PathBuf> {
        let under = |map: &BTreeMap<PathBuf, _>| -> Vec<PathBuf> {
            map.range(prefix.to_path_buf()..).map(|(p, _)| p).take_while(|p| p.starts_with(prefix)).cloned().collect()
        };
        let mut out = under(&self.by_source);
        out.extend(
            self.contender_ids
                .range(prefix.to_path_buf()..)
                .map(|(p, _)| p)
                .take_while(|p| p.starts_with(prefix))
                .cloned(),
        );
        out.sort();
        out
    }

    /// How many articles are in each state at the catalog's clock (O(1)).
    pub fn counts(&self) -> StateCounts {
        self.counts
    }

    /// What changed in the visible set from `old` to `new`, by source.
    pub fn diff(old: &Catalog, new: &Catalog) -> Change {
        let old_visible: BTreeMap<&Path, &Arc<Article>> = old.all().map(|a| (a.source.path.as_path(), a)).collect();
        let new_visible: BTreeMap<&Path, &Arc<Article>> = new.all().map(|a| (a.source.path.as_path(), a)).collect();
        let mut change = Change::default();
        for (source, article) in &new_visible {
            match old_visible.get(source) {
                None => change.published.push(Arc::clone(article)),
                Some(previous) if ***previous != ***article => {
                    change.updated.push((Arc::clone(previous), Arc::clone(article)))
                }
                Some(_) => {}
            }
        }
        for (source, article) in &old_visible {
            if !new_visible.contains_key(source) {
                change.unpublished.push(Arc::clone(article));
            }
        }
        change
    }
}

/// The order of the versions of a story: by language, then source.
fn version_order(a: &Article, b: &Article) -> Ordering {
    a.lang.cmp(&b.lang).then_with(|| a.source.path.cmp(&b.source.path))
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
