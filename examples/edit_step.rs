//! Times the live site's update for single article edits, without the
//! server, the watcher or compression: `LiveSite::apply` only.
//!
//! ```sh
//! cp -r target/bench-corpus/100000 /tmp/corpus   # never edit the cached corpus
//! cargo run --release --example edit_step -- /tmp/corpus 50 [newest|old|title-old]
//! ```
//!
//! Each edit rewrites one article file as the benchmark does (a new title
//! with a marker, `lastmod` now): `newest` picks among the newest articles
//! of `/vi/rss.xml` (in every live feed), `old` among articles years old
//! (in no live feed). Prints the start-up time, then p50 / p99 / max of the
//! steps and how many files a step changes. Edits a copy only: the store
//! given is modified.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use herald::config::{Config, Overrides};
use herald::site::{LiveSite, Stage, Start};
use herald::store::{ArticleStore, FolderStore};
use jiff::Timestamp;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store_dir = PathBuf::from(args.get(1).expect("usage: edit_step STORE [EDITS] [newest|old]"));
    let edits: usize = args.get(2).map_or(20, |n| n.parse().expect("EDITS is a number"));
    let kind = args.get(3).map_or("newest", String::as_str);
    let config_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bench.toml");
    let overrides = Overrides { store: Some(store_dir.clone()), ..Overrides::default() };
    let config = Arc::new(Config::load(&config_path, &overrides).expect("benches/bench.toml"));
    let store: Arc<dyn ArticleStore> = Arc::new(FolderStore::open(&store_dir).expect("store"));
    let now = Timestamp::now();

    let started = Instant::now();
    let mut site = LiveSite::start(Arc::clone(&config), Arc::clone(&store), now, Start::Whole);
    eprintln!("start: {:.2} s, {} files", started.elapsed().as_secs_f64(), site.snapshot().len());
    // As the daemon does once the start-up build is served.
    let warming = Instant::now();
    site.warm_up();
    site.complete_archives();
    eprintln!("warm-up: {:.2} s", warming.elapsed().as_secs_f64());

    // Vietnamese articles, newest first; `old` takes them from two years back.
    let vi: Vec<PathBuf> = site
        .catalog()
        .in_language("vi")
        .filter(|a| a.source.path.extension().is_some_and(|e| e == "md"))
        .map(|a| a.source.path.clone())
        .collect();
    let targets: Vec<PathBuf> = match kind {
        "old" => vi.iter().skip(vi.len() / 2).take(edits).cloned().collect(),
        _ => vi.iter().take(10).cloned().collect(),
    };
    if let Some(pause) = std::env::var("EDIT_STEP_PAUSE").ok().and_then(|s| s.parse().ok()) {
        // Time to attach a profiler to the edits only: `perf record -p PID`.
        eprintln!("pid {}: pausing {pause} s", std::process::id());
        std::thread::sleep(std::time::Duration::from_secs(pause));
    }
    let (mut live, mut archives, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let mut changed = Vec::new();
    for k in 0..edits {
        let relative = &targets[k % targets.len()];
        let file = store_dir.join(relative);
        let text = std::fs::read_to_string(&file).expect("article");
        let stamp = Timestamp::now().to_string();
        let edited = edit(&text, &format!("bench-edit-{k}"), &stamp);
        let hidden = file.with_file_name(format!(".edit-{k}.tmp"));
        std::fs::write(&hidden, edited).expect("write");
        std::fs::rename(&hidden, &file).expect("rename");
        // As the daemon does: the live files first, then the archives.
        let at = Instant::now();
        let update = site.apply(std::slice::from_ref(relative), Timestamp::now(), Stage::LiveFirst);
        let first = at.elapsed();
        let rest = site.complete_archives();
        live.push(first.as_secs_f64() * 1000.0);
        archives.push((at.elapsed() - first).as_secs_f64() * 1000.0);
        total.push(at.elapsed().as_secs_f64() * 1000.0);
        changed.push((update.changed_paths.len(), rest.changed_paths.len()));
        if k == 0 {
            eprintln!(
                "first edit ({}) changed: {:?} then {:?}",
                relative.display(),
                update.changed_paths,
                rest.changed_paths
            );
        }
    }
    changed.sort_unstable();
    println!(
        "{kind}, {edits} edits: live files {}; archives {}; whole step {}; files changed per step (live, archives) {:?}..{:?}",
        summary(&mut live),
        summary(&mut archives),
        summary(&mut total),
        changed[0],
        changed[changed.len() - 1]
    );
}

/// p50 / p99 / max of `times` (ms).
fn summary(times: &mut [f64]) -> String {
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    format!("p50 {:.1} / p99 {:.1} / max {:.1} ms", pick(0.5), pick(0.99), times[times.len() - 1])
}

/// `text` with its title replaced by one carrying `marker`, and `lastmod`
/// set to `stamp`.
fn edit(text: &str, marker: &str, stamp: &str) -> String {
    let mut out = String::new();
    let mut in_front = false;
    let mut fences = 0;
    for line in text.lines() {
        if line == "+++" {
            fences += 1;
            in_front = fences == 1;
        } else if in_front && line.starts_with("title = ") {
            // Before any table of the front matter, so a top-level key.
            out.push_str(&format!("title = \"Edited {marker}\"\nlastmod = {stamp}\n"));
            continue;
        } else if in_front && line.starts_with("lastmod = ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
