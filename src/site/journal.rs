//! The journal of the live site's files: the current files, and every path
//! a step wrote or removed since the last update with the file it held
//! before, so that an update names exactly the files whose bytes changed,
//! appeared or disappeared, without comparing whole snapshots.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::file_cache::FileCache;
use crate::render;
use crate::snapshot::{Resource, Snapshot};

/// The current files and what changed since the last update.
#[derive(Debug, Default)]
pub(super) struct Journal {
    /// The current files.
    snapshot: Snapshot,
    /// Every path written or removed since the last update, with the file
    /// it held before.
    written: BTreeMap<String, Option<Arc<Resource>>>,
    /// Where the files that belong on disk are kept
    /// ([`Resource::belongs_on_disk`]); without one, every file is kept in
    /// memory.
    cache: Option<FileCache>,
}

impl Journal {
    /// The current files.
    pub(super) fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The current file at `path`.
    pub(super) fn get(&self, path: &str) -> Option<&Arc<Resource>> {
        self.snapshot.get(path)
    }

    /// Remembers what `path` holds before this step first writes it.
    pub(super) fn note(&mut self, path: &str) {
        if !self.written.contains_key(path) {
            let before = self.snapshot.get(path).cloned();
            self.written.insert(path.to_string(), before);
        }
    }

    /// Writes `resource` at `path`; whether its bytes are new.
    pub(super) fn put(&mut self, path: String, resource: Resource) -> bool {
        self.note(&path);
        let changed = self.snapshot.get(&path).is_none_or(|old| old.etag != resource.etag);
        let resource = match &self.cache {
            Some(cache) if resource.belongs_on_disk() => match self.snapshot.get(&path) {
                // The same bytes already on disk: nothing to write.
                Some(old) if !changed && old.stored.is_some() && old.kind == resource.kind => {
                    Resource { body: bytes::Bytes::new(), stored: old.stored.clone(), ..resource }
                }
                _ => resource.store_in(cache),
            },
            _ => resource,
        };
        self.snapshot.insert(path, resource);
        changed
    }

    /// Removes the file at `path`; whether there was one.
    pub(super) fn remove(&mut self, path: &str) -> bool {
        self.note(path);
        self.snapshot.remove(path).is_some()
    }

    /// Brings the `.gz` twins of the sitemaps at `paths` in line with them
    /// ([`render::refresh_gzip_twins`]).
    pub(super) fn refresh_gzip_twins(&mut self, paths: &[String]) {
        for path in paths {
            self.note(&format!("{path}.gz"));
        }
        render::refresh_gzip_twins(&mut self.snapshot, paths);
    }

    /// The paths written since the last update whose bytes changed,
    /// appeared or disappeared, sorted; the journal starts afresh.
    pub(super) fn take_changes(&mut self) -> Vec<String> {
        let written = std::mem::take(&mut self.written);
        written
            .into_iter()
            .filter(|(path, before)| match (before, self.snapshot.get(path)) {
                (Some(before), Some(now)) => before.etag != now.etag,
                (None, None) => false,
                _ => true,
            })
            .map(|(path, _)| path)
            .collect()
    }

    /// From now on keeps the files that belong on disk in `cache`, those
    /// already written included.
    pub(super) fn keep_on_disk(&mut self, cache: FileCache) {
        self.snapshot.store_on_disk(&cache);
        self.cache = Some(cache);
    }

    /// Where the files that belong on disk are kept, if anywhere.
    pub(super) fn cache(&self) -> Option<&FileCache> {
        self.cache.as_ref()
    }

    /// Replaces every file at once (a full build): the paths whose bytes
    /// changed, appeared or disappeared, sorted; the journal starts afresh.
    pub(super) fn replace(&mut self, mut snapshot: Snapshot) -> Vec<String> {
        if let Some(cache) = &self.cache {
            snapshot.store_on_disk(cache);
        }
        self.written.clear();
        let changed = self.snapshot.changed_paths(&snapshot);
        self.snapshot = snapshot;
        changed
    }
}
