//! The files being served now: one [`ServedFiles`] replaced whole after
//! every site update (an atomic pointer swap), read by requests and by push
//! deliveries without a lock. Push reads a topic's content through
//! [`TopicSource`], which both a snapshot of the files and the holder
//! implement.

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

use super::files::ServedFiles;
use crate::push::sources::TopicSource;
use crate::snapshot::Resource;

/// Holds the files being served now.
#[derive(Debug, Default)]
pub struct CurrentFiles {
    files: ArcSwap<ServedFiles>,
}

impl CurrentFiles {
    /// A holder serving `files`.
    pub fn new(files: ServedFiles) -> CurrentFiles {
        CurrentFiles { files: ArcSwap::from_pointee(files) }
    }

    /// The files being served now (they stay valid while held, even if
    /// newer ones are stored meanwhile).
    pub fn load(&self) -> Guard<Arc<ServedFiles>> {
        self.files.load()
    }

    /// Serves `files` from now on.
    pub fn store(&self, files: Arc<ServedFiles>) {
        self.files.store(files);
    }
}

impl TopicSource for ServedFiles {
    fn current(&self, path: &str) -> Option<Arc<Resource>> {
        self.get(path).map(|file| Arc::clone(&file.resource))
    }
}

impl TopicSource for CurrentFiles {
    fn current(&self, path: &str) -> Option<Arc<Resource>> {
        self.load().current(path)
    }
}
