//! How one step of the live site writes: what its parts render from (the
//! catalog and the configuration) and write to (the [`Journal`]), and the
//! feed and archive documents written by their items
//! ([`crate::render::splice`]): where the items lie in each document
//! rendered since the last full build, so that the next rendering copies
//! the bytes of the unchanged ones.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::journal::Journal;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::render::splice::{self, Layout, Previous};
use crate::render::view;
use crate::render::{FeedDoc, FeedFormat};
use crate::snapshot::{Resource, ResourceKind};

/// Where the items lie in the feed and archive documents rendered since
/// the last full build, by the document's RSS path.
#[derive(Debug, Default)]
pub(super) struct ItemLayouts(HashMap<String, Layout>);

impl ItemLayouts {
    /// The layout of the document whose RSS path is `rss`.
    pub(super) fn get(&self, rss: &str) -> Option<&Layout> {
        self.0.get(rss)
    }

    /// Whether the document whose RSS path is `rss` has a layout.
    pub(super) fn contains(&self, rss: &str) -> bool {
        self.0.contains_key(rss)
    }

    /// Forgets the layout of the document whose RSS path is `rss` (it was
    /// removed).
    pub(super) fn forget(&mut self, rss: &str) {
        self.0.remove(rss);
    }

    /// Forgets every layout (after a full build).
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

/// A document in the three formats as [`Step::splice_doc`] renders it: its
/// `(path, resource)` pairs, and where its items lie when that could be
/// established.
pub(super) type SplicedDoc = (Vec<(String, Resource)>, Option<Layout>);

/// What one step renders from and writes to.
pub(super) struct Step<'a> {
    /// The catalog as of this step.
    pub catalog: &'a Catalog,
    /// The configuration in force.
    pub config: &'a Config,
    /// The files, and what this step changed in them.
    pub journal: &'a mut Journal,
    /// Where the items lie in the feed and archive documents.
    pub layouts: &'a mut ItemLayouts,
}

impl Step<'_> {
    /// Writes `resource` at `path`, and its HTML view when it has one
    /// ([`view`]); whether its bytes are new.
    pub(super) fn put(&mut self, path: String, resource: Resource) -> bool {
        let twin = view::twin_path(&path);
        let stale =
            self.journal.get(&path).is_none_or(|old| old.etag != resource.etag) || self.journal.get(&twin).is_none();
        let view = if stale { view::view(&path, &resource, self.config) } else { None };
        let changed = self.journal.put(path, resource);
        if let Some((twin, page)) = view {
            self.journal.put(twin, page);
        }
        changed
    }

    /// Removes the file at `path` and its view; whether there was one.
    pub(super) fn remove(&mut self, path: &str) -> bool {
        let twin = view::twin_path(path);
        if self.journal.get(&twin).is_some() {
            self.journal.remove(&twin);
        }
        self.journal.remove(path)
    }

    /// Writes `doc` in the three formats, copying from its previous
    /// rendering the items whose article and body are the same and that
    /// are not `relinked`. `complete` builds the document with every item
    /// when `doc` holds placeholders ([`splice::render`]).
    pub(super) fn splice_doc(
        &self,
        doc: &FeedDoc,
        complete: Option<&dyn Fn() -> FeedDoc>,
        kind: ResourceKind,
        path_of: impl Fn(FeedFormat) -> String,
        relinked: &HashSet<PathBuf>,
    ) -> SplicedDoc {
        let paths = FeedFormat::ALL.map(&path_of);
        let layout = self.layouts.get(&paths[0]);
        // Files kept on disk are read back for their items' bytes; one that
        // cannot be read is rendered whole.
        let files = [0, 1, 2].map(|n| {
            layout.and(self.journal.get(&paths[n])).and_then(|file| match file.loaded() {
                Ok(file) => Some(file),
                Err(e) => {
                    tracing::warn!("cannot read the file of {} back: {e}; rendering it whole", paths[n]);
                    None
                }
            })
        });
        let previous = layout.map(|layout| Previous { layout, files: [0, 1, 2].map(|n| files[n].as_ref()) });
        splice::render(doc, complete, self.config, kind, &path_of, previous, |a| relinked.contains(&a.source.path))
    }

    /// Publishes a document [`Step::splice_doc`] rendered, whose RSS path
    /// is `rss`; whether any of its files' bytes are new.
    pub(super) fn keep_doc(&mut self, rss: String, (files, layout): SplicedDoc) -> bool {
        match layout {
            Some(layout) => self.layouts.0.insert(rss, layout),
            None => self.layouts.0.remove(&rss),
        };
        let mut changed = false;
        for (path, resource) in files {
            changed |= self.put(path, resource);
        }
        changed
    }
}
