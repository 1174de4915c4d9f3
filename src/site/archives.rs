//! The live site's feed archives (RFC 5005): the archive months published
//! for each archived feed scope, the documents each language's archive
//! index lists, and the archive work still to do.
//!
//! A step queues archive work for the scopes and months it touched; the
//! work is done at the end of a [`super::Stage::Whole`] step, or later, a
//! feed at a time, after a [`super::Stage::LiveFirst`] one. A
//! [`super::Start::LiveFirst`] start leaves every archive month as
//! *deferred* work, rendered whole from the catalog a few months at a time
//! on every core, after the edits' own archive work.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;

use super::step::{ItemLayouts, Step};
use super::touched::Touched;
use crate::article::{Article, Month};
use crate::config::{Config, fill_template};
use crate::render::feed::{archive_doc, archive_doc_partial};
use crate::render::{self, FeedFormat, FeedScope};
use crate::snapshot::{ResourceKind, Snapshot};

/// The archives as published, and the work left on them.
#[derive(Debug, Default)]
pub(super) struct Archives {
    /// The archive months published for each archived feed scope (or to be
    /// published, once the deferred work is done).
    months: HashMap<FeedScope, Vec<Month>>,
    /// Every archive document listed in each language's archive index,
    /// with its newest date.
    entries: HashMap<String, BTreeMap<String, Option<Timestamp>>>,
    /// Archive documents still to bring up to date.
    pending: PendingArchives,
}

/// How much pending archive work [`Archives::render_pending`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Portion {
    /// All of it.
    All,
    /// The archives of one feed scope, or else one batch of deferred
    /// months (one month per core); the archive indexes once nothing else
    /// is left.
    OneFeed,
}

/// Archive documents still to bring up to date.
#[derive(Debug, Default)]
struct PendingArchives {
    /// Feed scopes whose archive layout may have changed.
    scopes: BTreeSet<FeedScope>,
    /// Archive months holding an item that changed.
    months: BTreeSet<(FeedScope, Month)>,
    /// Articles whose items changed although they did not (see
    /// [`Touched::relinked`]).
    relinked: HashSet<PathBuf>,
    /// Languages whose archives changed, so whose archive index is due.
    langs: BTreeSet<String>,
    /// Archive months not rendered since a live-first start, newest first:
    /// each is rendered whole from the catalog as it is then.
    deferred: VecDeque<(FeedScope, Month)>,
}

/// The months before and after `month` in `months` (sorted).
fn neighbours(months: &[Month], month: Month) -> (Option<Month>, Option<Month>) {
    let before = months.iter().rev().find(|m| **m < month).copied();
    let after = months.iter().find(|m| **m > month).copied();
    (before, after)
}

impl Archives {
    /// Starts afresh after a full build that published `layout` (every
    /// archived scope's months) in `snapshot`; with `deferred`, the build
    /// left the archive documents out, and every month and archive index
    /// becomes pending work, newest month first (the likeliest to be asked
    /// for).
    pub(super) fn reset(
        &mut self,
        layout: HashMap<FeedScope, Vec<Month>>,
        deferred: bool,
        snapshot: &Snapshot,
        config: &Config,
    ) {
        self.pending = PendingArchives::default();
        if deferred {
            let mut months: Vec<(FeedScope, Month)> =
                layout.iter().flat_map(|(scope, months)| months.iter().map(|m| (scope.clone(), *m))).collect();
            months.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            self.pending.deferred = months.into();
            self.pending.langs = layout.keys().map(|scope| scope.lang(config).to_string()).collect();
        }
        self.months = layout;
        self.entries.clear();
        for (scope, months) in &self.months {
            let entries = self.entries.entry(scope.lang(config).to_string()).or_default();
            for month in months {
                for format in FeedFormat::ALL {
                    let path = render::archive::archive_path(scope, *month, format, config);
                    let modified = snapshot.get(&path).and_then(|r| r.last_modified);
                    entries.insert(path, modified);
                }
            }
        }
    }

    /// Whether archive documents are left to bring up to date.
    pub(super) fn is_pending(&self) -> bool {
        !self.pending.scopes.is_empty() || !self.pending.deferred.is_empty()
    }

    /// Queues the archive work of what a step `touched`.
    pub(super) fn queue(&mut self, touched: &Touched) {
        self.pending.scopes.extend(touched.scopes.iter().cloned());
        self.pending.months.extend(touched.archive_months.iter().cloned());
        self.pending.relinked.extend(touched.relinked.iter().cloned());
    }

    /// Queues every archive month of `scope` (its title changed, and every
    /// archive document carries it).
    pub(super) fn queue_every_month(&mut self, scope: &FeedScope) {
        self.pending.scopes.insert(scope.clone());
        for month in self.months.get(scope).into_iter().flatten() {
            self.pending.months.insert((scope.clone(), *month));
        }
    }

    /// Queues, for every archived scope whose newest archive month has no
    /// item layout, that month, so that the first edit there need not
    /// render it whole (its bytes do not change).
    pub(super) fn queue_newest_months(&mut self, layouts: &ItemLayouts, config: &Config) {
        for (scope, months) in &self.months {
            let Some(month) = months.last() else { continue };
            if !layouts.contains(&render::archive::archive_path(scope, *month, FeedFormat::Rss, config)) {
                self.pending.scopes.insert(scope.clone());
                self.pending.months.insert((scope.clone(), *month));
            }
        }
    }

    /// Brings the archives of the pending scopes up to date: months whose
    /// items changed, months whose neighbours (and so links) changed,
    /// months that emptied, and whole scopes that became archived or
    /// complete; then the deferred months; then the archive indexes of the
    /// languages concerned. Does as much as `portion` says (the archive
    /// indexes come with the last of the rest).
    pub(super) fn render_pending(&mut self, portion: Portion, step: &mut Step<'_>) {
        let config = step.config;
        let limit = match portion {
            Portion::All => usize::MAX,
            Portion::OneFeed => 1,
        };
        // Shared by every pending scope, kept until the last is done.
        let months = std::mem::take(&mut self.pending.months);
        let relinked = std::mem::take(&mut self.pending.relinked);
        for _ in 0..limit {
            let Some(scope) = self.pending.scopes.pop_first() else { break };
            if self.render_scope(&scope, &months, &relinked, step) {
                self.pending.langs.insert(scope.lang(config).to_string());
            }
        }
        if !self.pending.scopes.is_empty() {
            self.pending.months.extend(months);
            self.pending.relinked.extend(relinked);
            return;
        }
        // Then the months a deferred start left, a batch (one month per
        // core) per step unless everything is asked for.
        loop {
            self.render_deferred_months(step);
            if self.pending.deferred.is_empty() {
                break;
            }
            if portion == Portion::OneFeed {
                return;
            }
        }
        // The archive index of each language whose archives changed (a
        // full build writes those of the declared languages).
        let langs = std::mem::take(&mut self.pending.langs);
        for lang in langs.into_iter().filter(|l| config.language(l).is_some()) {
            match self.entries.get(&lang).filter(|e| !e.is_empty()) {
                Some(entries) => {
                    let entries = entries.iter().map(|(path, at)| (path.as_str(), *at));
                    let (path, index) = render::archive::index_file_of(&lang, entries, config);
                    step.put(path, index);
                }
                None => {
                    step.remove(&fill_template(&config.archives.index_path, &[("lang", &lang)]));
                }
            }
        }
    }

    /// Renders the next few archive months a deferred start left (one per
    /// core, in parallel: each depends on the catalog alone), skipping
    /// those an edit's archive work already rendered or removed since.
    fn render_deferred_months(&mut self, step: &mut Step<'_>) {
        let cores = crate::parallel::threads();
        let mut batch = Vec::new();
        while batch.len() < cores {
            let Some((scope, month)) = self.pending.deferred.pop_front() else { break };
            let rss = render::archive::archive_path(&scope, month, FeedFormat::Rss, step.config);
            let listed = self.months.get(&scope).is_some_and(|months| months.contains(&month));
            if listed && !step.layouts.contains(&rss) {
                batch.push((scope, month));
            }
        }
        let jobs: Vec<render::ArchiveMonthJob<'_>> = batch
            .iter()
            .map(|(scope, month)| (scope, *month, self.months.get(scope).map_or(&[][..], Vec::as_slice)))
            .collect();
        let rendered = render::render_archive_months(&jobs, step.catalog, step.config);
        let langs: Vec<String> = batch.iter().map(|(scope, _)| scope.lang(step.config).to_string()).collect();
        for (lang, files) in langs.into_iter().zip(rendered) {
            for (path, resource) in files {
                self.entries.entry(lang.clone()).or_default().insert(path.clone(), resource.last_modified);
                step.put(path, resource);
            }
        }
    }

    /// Brings `scope`'s archive documents up to date, re-rendering the
    /// months in `months` and those whose neighbours changed; whether any
    /// file changed.
    fn render_scope(
        &mut self,
        scope: &FeedScope,
        months: &BTreeSet<(FeedScope, Month)>,
        relinked: &HashSet<PathBuf>,
        step: &mut Step<'_>,
    ) -> bool {
        let config = step.config;
        let catalog = step.catalog;
        let old = self.months.remove(scope).unwrap_or_default();
        let new = if render::archive::is_archived(scope, catalog, config) {
            render::archive::months(scope, catalog, config)
        } else {
            Vec::new()
        };
        let mut changed = false;
        let path_of = |month: Month| move |format| render::archive::archive_path(scope, month, format, config);
        let lang = scope.lang(config).to_string();
        for month in old.iter().filter(|m| !new.contains(m)) {
            for format in FeedFormat::ALL {
                let path = path_of(*month)(format);
                changed |= step.remove(&path);
                if let Some(entries) = self.entries.get_mut(&lang) {
                    entries.remove(&path);
                }
            }
            step.layouts.forget(&path_of(*month)(FeedFormat::Rss));
        }
        let this_month = Month::of(catalog.now(), &config.site.time_zone);
        for month in &new {
            let (prev, next) = neighbours(&new, *month);
            if !old.contains(month)
                || neighbours(&old, *month) != (prev, next)
                || months.contains(&(scope.clone(), *month))
            {
                // Items whose bytes will be copied need not be built.
                let layout = step.layouts.get(&path_of(*month)(FeedFormat::Rss));
                let copied =
                    |a: &Arc<Article>| layout.is_some_and(|l| l.holds(a)) && !relinked.contains(&a.source.path);
                let doc = archive_doc_partial(scope, *month, prev, next, catalog, config, |a| !copied(a));
                let complete = || archive_doc(scope, *month, prev, next, catalog, config);
                let kind = ResourceKind::Archive { past: *month < this_month };
                let mut rendered = step.splice_doc(&doc, Some(&complete), kind, path_of(*month), relinked);
                rendered.0.iter_mut().for_each(|(_, resource)| resource.cold = scope.is_cold());
                let entries = self.entries.entry(lang.clone()).or_default();
                for (path, resource) in &rendered.0 {
                    entries.insert(path.clone(), resource.last_modified);
                }
                changed |= step.keep_doc(path_of(*month)(FeedFormat::Rss), rendered);
            }
        }
        if !new.is_empty() {
            self.months.insert(scope.clone(), new);
        }
        changed
    }
}
