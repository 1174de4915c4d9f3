//! What the folder store refuses to read, and says so: files that are not
//! regular files (a named pipe would block the reader for ever), a folder
//! named like an article, symbolic links that lead outside the store (a
//! link to `/etc/…` or `/dev/zero` must not be published or read), and
//! articles larger than the size limit. Links that stay inside the store
//! (a section folder linked from elsewhere in it) are followed, and a link
//! back into its own folder does not make the walk endless. Every refusal
//! is a diagnostic naming the path, reported the same way by a full scan
//! (`herald build`) and by reading one document again (`herald serve`
//! after a file event); the rest of the store is published.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::*;
use herald::diagnostic::Diagnostic;
use herald::pipeline::Built;
use herald::store::{ArticleStore, FolderStore, Loaded};

/// Longest wait for a build or a read that must not block.
const PATIENCE: Duration = Duration::from_secs(20);

/// Runs `work` on its own thread and waits for it at most PATIENCE (a
/// read that blocks for ever cannot take the test with it).
fn bounded<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    rx.recv_timeout(PATIENCE).unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

fn build(store: &TempStore) -> Built {
    let config = store.config();
    bounded("the build", move || {
        let folder = FolderStore::for_config(&config).unwrap();
        herald::pipeline::build(&folder, &config, now())
    })
}

/// What reading `rel` again alone (as `herald serve` does after a file
/// event) gives: the diagnostic, when it is refused.
fn load(store: &TempStore, rel: &str) -> Option<Diagnostic> {
    let config = store.config();
    let rel = PathBuf::from(rel);
    bounded("reading one document", move || {
        let folder = FolderStore::for_config(&config).unwrap();
        match folder.load(&rel, &config) {
            Loaded::Invalid(d) => Some(d),
            Loaded::Article(a) => panic!("{} was read as an article: {}", rel.display(), a.title),
            Loaded::Gone => None,
        }
    })
}

/// The diagnostic the build reported for `path` (absolute).
fn reported(built: &Built, path: &Path) -> Diagnostic {
    let found: Vec<&Diagnostic> = built.loaded.diagnostics.iter().filter(|d| d.path == path).collect();
    match found[..] {
        [one] => one.clone(),
        _ => panic!("expected one diagnostic for {}, got {:#?}", path.display(), built.loaded.diagnostics),
    }
}

fn good_store() -> TempStore {
    let store = TempStore::new();
    store.article("thoi-su/tot.vi.md", "Bài tốt", "2026-11-20T08:00:00+07:00");
    store
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A named pipe called like an article: the build finishes, the pipe is
/// a diagnostic (an error naming it), the rest is published; reading it
/// alone after a file event does not block either.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_reported_and_never_read() {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    let store = good_store();
    let pipe = store.root().join("thoi-su/x.vi.md");
    mknodat(CWD, &pipe, FileType::Fifo, Mode::from_raw_mode(0o644), 0).unwrap();
    let built = build(&store);
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Bài tốt"]);
    let problem = reported(&built, &pipe);
    assert!(problem.is_error(), "{problem}");
    assert!(problem.message.contains("not a regular file") && problem.message.contains("named pipe"), "{problem}");
    assert_eq!(load(&store, "thoi-su/x.vi.md"), Some(problem));
}

/// A folder named like an article is the same diagnostic from the scan
/// and from reading it alone; what it holds is not published.
#[test]
fn a_folder_named_like_an_article_is_reported_by_scan_and_load_alike() {
    let store = good_store();
    store.article("thoi-su/x.vi.md/index.vi.md", "Bên trong", "2026-11-21T08:00:00+07:00");
    let built = build(&store);
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Bài tốt"]);
    let problem = reported(&built, &store.root().join("thoi-su/x.vi.md"));
    assert!(problem.message.contains("folder"), "{problem}");
    assert!(problem.hint.is_some(), "{problem}");
    assert_eq!(load(&store, "thoi-su/x.vi.md"), Some(problem));
}

/// Links to a file, a folder and a device outside the store: nothing of
/// theirs is read or published; each link is an error naming it and where
/// it leads, from the scan and from reading it alone.
#[cfg(unix)]
#[test]
fn links_leading_outside_the_store_are_refused() {
    let store = good_store();
    let outside = store.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.md"), "+++\ntitle = \"Bí mật\"\ndate = 2026-11-22T08:00:00+07:00\n+++\nX\n")
        .unwrap();
    std::fs::write(outside.join("bai.vi.md"), "+++\ntitle = \"Ngoài\"\ndate = 2026-11-22T08:00:00+07:00\n+++\nX\n")
        .unwrap();
    symlink(&outside.join("secret.md"), &store.root().join("thoi-su/lo.vi.md"));
    symlink(Path::new("/dev/zero"), &store.root().join("thoi-su/zero.vi.md"));
    symlink(&outside, &store.root().join("kinh-te"));
    let built = build(&store);
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Bài tốt"]);
    for link in ["thoi-su/lo.vi.md", "thoi-su/zero.vi.md", "kinh-te"] {
        let problem = reported(&built, &store.root().join(link));
        assert!(problem.is_error() && problem.message.contains("outside the store"), "{problem}");
        assert!(problem.hint.as_deref().is_some_and(|h| h.contains("follow_links_into")), "{problem}");
    }
    for link in ["thoi-su/lo.vi.md", "thoi-su/zero.vi.md"] {
        let problem = load(&store, link).unwrap_or_else(|| panic!("{link} not refused"));
        assert_eq!(problem, reported(&built, &store.root().join(link)));
    }
    // A document reached through the outside folder, read alone.
    let problem = load(&store, "kinh-te/bai.vi.md").expect("refused");
    assert!(problem.message.contains("outside the store"), "{problem}");
}

/// A section folder linked from a hidden folder of the store, a file
/// linked from another folder of it, and a link back to a folder holding
/// it: the linked articles are published once each, and the walk ends.
#[cfg(unix)]
#[test]
fn links_inside_the_store_are_followed() {
    let store = TempStore::new();
    store.article(".desks/thoi-su/bong-da.vi.md", "Bóng đá", "2026-11-20T08:00:00+07:00");
    store.article(".desks/ban-thao/tin-ngan.md", "Tin ngắn", "2026-11-21T08:00:00+07:00");
    symlink(Path::new(".desks/thoi-su"), &store.root().join("thoi-su"));
    symlink(Path::new("../ban-thao/tin-ngan.md"), &store.root().join(".desks/thoi-su/tin-ngan.vi.md"));
    symlink(Path::new(".."), &store.root().join(".desks/thoi-su/vong"));
    let built = build(&store);
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Tin ngắn", "Bóng đá"]);
    let errors: Vec<String> = built.loaded.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// An article over the size limit is an error naming the file, its size
/// and the key that raises the limit; the rest is published.
#[test]
fn an_article_over_the_size_limit_is_refused() {
    let store = good_store();
    let mut big = b"+++\ntitle = \"To\"\ndate = 2026-11-22T08:00:00+07:00\n+++\n".to_vec();
    big.resize(5 << 20, b'a');
    store.write("thoi-su/to.vi.md", &big);
    let built = build(&store);
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Bài tốt"]);
    let problem = reported(&built, &store.root().join("thoi-su/to.vi.md"));
    assert!(problem.is_error(), "{problem}");
    assert!(problem.message.contains(&(5u64 << 20).to_string()), "{problem}");
    assert!(problem.hint.as_deref().is_some_and(|h| h.contains("[articles] max_bytes")), "{problem}");
    assert_eq!(load(&store, "thoi-su/to.vi.md"), Some(problem));
}

/// `[articles] max_bytes` sets the limit.
#[test]
fn the_size_limit_is_configurable() {
    let mut store = good_store();
    store.extra_config = "[articles]\nmax_bytes = 2048\n".to_string();
    let mut big = b"+++\ntitle = \"To\"\ndate = 2026-11-22T08:00:00+07:00\n+++\n".to_vec();
    big.resize(3000, b'a');
    store.write("thoi-su/to.vi.md", &big);
    let built = build(&store);
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Bài tốt"]);
    let problem = reported(&built, &store.root().join("thoi-su/to.vi.md"));
    assert!(problem.message.contains("3000 bytes, more than the 2048"), "{problem}");
}

/// Links into a folder listed in `[articles] follow_links_into` are
/// followed (relative to feeds.toml); links elsewhere still are not.
#[cfg(unix)]
#[test]
fn links_into_a_listed_folder_are_followed() {
    let mut store = TempStore::new();
    store.extra_config = "[articles]\nfollow_links_into = [\"desks\"]\n".to_string();
    let desks = store.dir.path().join("desks");
    let elsewhere = store.dir.path().join("elsewhere");
    for (folder, title) in [(&desks, "Bàn"), (&elsewhere, "Nơi khác")] {
        std::fs::create_dir_all(folder.join("thoi-su")).unwrap();
        let text = format!("+++\ntitle = \"{title}\"\ndate = 2026-11-20T08:00:00+07:00\n+++\nX\n");
        std::fs::write(folder.join("thoi-su/bai.vi.md"), text).unwrap();
    }
    std::fs::create_dir_all(store.root()).unwrap();
    symlink(&desks.join("thoi-su"), &store.root().join("thoi-su"));
    symlink(&elsewhere.join("thoi-su/bai.vi.md"), &store.root().join("kinh-te/bai.vi.md"));
    let built = build(&store);
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Bàn"]);
    let problem = reported(&built, &store.root().join("kinh-te/bai.vi.md"));
    assert!(problem.message.contains("outside the store"), "{problem}");
    // Read alone, after a file event, too.
    let config = store.config();
    let folder = FolderStore::for_config(&config).unwrap();
    match folder.load(Path::new("thoi-su/bai.vi.md"), &config) {
        Loaded::Article(article) => assert_eq!(article.title, "Bàn"),
        other => panic!("not read: {other:?}"),
    }
}
