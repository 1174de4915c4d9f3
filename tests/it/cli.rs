//! The `herald` binary: `build` writes the output folder atomically and
//! reports problems; `check` lists them; exit codes are 0 ok, 1 problems,
//! 2 usage or configuration error, 3 the work failed.

use crate::common::*;
use predicates::prelude::*;

#[test]
fn build_writes_every_feed() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let out = store.dir.path().join("public");
    herald()
        .args(["build", "--now", NOW, "--out"])
        .arg(&out)
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote 34 files"));
    assert!(out.join("rss.xml").is_file());
    // The OPML lists: the site's and each language's.
    assert!(out.join("feeds.opml").is_file() && out.join("en/feeds.opml").is_file());
    assert!(out.join("vi/thoi-su/feed.json").is_file());
    assert!(out.join("en/atom.xml").is_file());
}

/// A bad article is reported with its path and line, the rest is built,
/// and the exit status is still 0; `--strict` makes it 1 and writes nothing,
/// leaving the previous output intact.
#[test]
fn bad_articles_and_strict_mode() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let out = store.dir.path().join("public");
    let config = store.config_path();
    herald().args(["build", "--now", NOW]).arg("--out").arg(&out).arg("--config").arg(&config).assert().success();
    let before = std::fs::read(out.join("vi/rss.xml")).unwrap();

    store.write("thoi-su/b.vi.md", "+++\ntitle = \"B\"\n+++\n");
    store.article("thoi-su/c.vi.md", "C", "2026-11-21T08:00:00+07:00");
    herald()
        .args(["build", "--strict", "--now", NOW])
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(&config)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("b.vi.md:1: error: the article has no date"))
        .stderr(predicate::str::contains("nothing was written"));
    assert_eq!(std::fs::read(out.join("vi/rss.xml")).unwrap(), before, "strict failure must not touch the output");

    herald()
        .args(["build", "--now", NOW])
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(&config)
        .assert()
        .success()
        .stderr(predicate::str::contains("b.vi.md:1: error: the article has no date"));
    let after = std::fs::read_to_string(out.join("vi/rss.xml")).unwrap();
    assert!(after.contains("<title>C</title>"));
}

/// A bad config is refused with file:line:col, exit 2, and the previous
/// output stays.
#[test]
fn bad_config_exits_2_with_position() {
    let store = TempStore::new();
    let config = store.dir.path().join("bad.toml");
    std::fs::write(&config, "[site]\nbase_url = \"https://example.vn/\"\ndefault_language = \"vi\"\ntitle = \"T\"\ntime_zone = \"Mars/Olympus\"\n[languages.vi]\n").unwrap();
    herald()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml:5:13: error: unknown time zone `Mars/Olympus`"))
        .stderr(predicate::str::contains("hint: use an IANA time zone name"));
}

#[test]
fn missing_config_explains_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    herald()
        .current_dir(dir.path())
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("feeds.toml: error: cannot read the configuration"))
        .stderr(predicate::str::contains("hint: pass --config PATH, set HERALD_CONFIG"));
}

#[test]
fn wrong_store_path_is_a_usage_error() {
    let store = TempStore::new();
    herald()
        .args(["check", "--store", "/nonexistent/store"])
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/store: error: cannot open the article store"));
}

/// `check` lists errors and warnings and exits 1 when there are errors.
#[test]
fn check_lists_problems() {
    let store = TempStore::new();
    store.write("thoi-su/a.vi.md", "+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\nimages = [\"x.jpg\"]\ntranslationKey = \"lonely\"\n+++\n");
    store.write("thoi-su/b.vi.md", "+++\ndate = 2026-11-20T08:00:00+07:00\n+++\n");
    store.article("giao-duc/c.vi.md", "C", "2026-11-20T08:00:00+07:00");
    herald()
        .arg("check")
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("b.vi.md:1: error: the article has no title"))
        .stdout(predicate::str::contains("warning: image `https://example.vn/thoi-su/a/x.jpg` has no alt text"))
        .stdout(predicate::str::contains("warning: translation key `lonely` has no version in another language"))
        .stdout(predicate::str::contains("warning: section `giao-duc` is not declared"))
        .stdout(predicate::str::contains("3 documents: 1 error(s), 3 warning(s)"));
}

/// On a large store, warnings of one kind are counted past the first five
/// (`--all` lists them all); errors are always listed in full; the summary
/// line counts both.
#[test]
fn check_summarises_repeated_warnings() {
    let store = TempStore::new();
    for i in 0..12 {
        store.write(
            &format!("thoi-su/anh-{i:02}.vi.md"),
            format!("+++\ntitle = \"Ảnh {i}\"\ndate = 2026-11-20T08:00:00+07:00\nimages = [\"p{i}.jpg\"]\n+++\n"),
        );
    }
    for i in 0..8 {
        store.write(&format!("thoi-su/loi-{i}.vi.md"), "+++\ndate = 2026-11-20T08:00:00+07:00\n+++\n");
    }
    let check = |all: bool| {
        let mut command = herald();
        command.arg("check").arg("--config").arg(store.config_path());
        if all {
            command.arg("--all");
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8(output.stdout).unwrap()
    };
    let summary = check(false);
    assert_eq!(summary.matches("error: the article has no title").count(), 8, "{summary}");
    assert_eq!(summary.matches("has no alt text").count(), 6, "{summary}");
    assert!(
        summary.contains(
            "… and 7 more like this (12 in all: warning: image … has no alt text; `herald check --all` lists every one)"
        ),
        "{summary}"
    );
    assert!(summary.ends_with("20 documents: 8 error(s), 12 warning(s)\n"), "{summary}");
    let all = check(true);
    assert_eq!(all.matches("has no alt text").count(), 12, "{all}");
    assert!(!all.contains("more like this"), "{all}");
    assert!(all.ends_with("20 documents: 8 error(s), 12 warning(s)\n"), "{all}");
}

#[test]
fn check_passes_on_a_clean_store() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    herald().arg("check").arg("--config").arg(store.config_path()).assert().success();
}

/// `--base-url` and `--store` override the file.
#[test]
fn overrides_from_the_command_line() {
    let store = TempStore::new();
    let other = TempStore::new();
    other.article("thoi-su/khac.vi.md", "Khác", "2026-11-20T08:00:00+07:00");
    let out = store.dir.path().join("public");
    herald()
        .args(["build", "--now", NOW, "--base-url", "http://127.0.0.1:8080/"])
        .arg("--store")
        .arg(other.root())
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .success();
    let rss = std::fs::read_to_string(out.join("vi/rss.xml")).unwrap();
    assert!(rss.contains("<link>http://127.0.0.1:8080/thoi-su/khac/</link>"), "{rss}");
}

/// A malformed `--base-url` or `--listen` is a usage error (exit 2) that
/// names the flag and says what it wants, before anything is read or
/// started.
#[test]
fn malformed_flags_are_usage_errors() {
    let store = TempStore::new();
    herald()
        .args(["check", "--base-url", "news.example.vn", "--config"])
        .arg(store.config_path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'news.example.vn' for '--base-url <URL>'"))
        .stderr(predicate::str::contains("give an absolute http(s) URL such as https://news.example.vn/"));
    herald()
        .args(["serve", "--listen", "localhost", "--config"])
        .arg(store.config_path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'localhost' for '--listen <ADDR:PORT>'"))
        .stderr(predicate::str::contains("not an address and port; write host:port"));
}

/// An unknown flag or command is a usage error (exit 2) before anything is
/// read, with clap's suggestion.
#[test]
fn unknown_flags_are_usage_errors() {
    herald()
        .args(["build", "--outt", "public"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unexpected argument '--outt'"))
        .stderr(predicate::str::contains("--out"));
    herald().arg("bulid").assert().code(2).stderr(predicate::str::contains("unrecognized subcommand 'bulid'"));
}

/// A build whose output cannot be written is the work failing, exit 3, not
/// a usage error: the output's parent is a file, a path no one can create
/// (permissions would not stop a test running as root). The error names
/// the folder and the system's reason, shows under `--quiet`, and nothing
/// is left beside the output.
#[test]
fn build_that_cannot_write_exits_3() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let blocker = store.dir.path().join("not-a-folder");
    std::fs::write(&blocker, "a file").unwrap();
    let out = blocker.join("public");
    herald()
        .args(["build", "--quiet", "--now", NOW, "--out"])
        .arg(&out)
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!("{}: error: cannot write the output: ", out.display())))
        .stderr(predicate::str::contains("wrote").not());
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "a file");
    let mut left: Vec<_> = std::fs::read_dir(store.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert!(left.iter().all(|name| !name.to_string_lossy().contains("herald-new")), "{left:?}");
}

/// The other commands that write exit 3 too when the write fails, and 2
/// when they refuse before writing.
#[test]
fn failed_writes_exit_3_refusals_exit_2() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let blocker = store.dir.path().join("not-a-folder");
    std::fs::write(&blocker, "a file").unwrap();
    herald()
        .arg("gen-corpus")
        .arg(blocker.join("corpus"))
        .arg("3")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("error: cannot write the corpus"));
    herald()
        .args(["man", "--out-dir"])
        .arg(blocker.join("man"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("error: cannot write the manual pages"));
    herald()
        .arg("init")
        .arg(store.root())
        .arg("--config")
        .arg(blocker.join("feeds.toml"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("error: cannot create the folder for the configuration"));
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "a file");
    herald()
        .arg("init")
        .arg(store.dir.path().join("no-such-store"))
        .arg("--config")
        .arg(store.dir.path().join("new.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error: the folder does not exist"));
}

/// With `--log-format json` a failure is printed as JSON log lines, one
/// object per problem with its place and hint as fields.
#[test]
fn failures_follow_the_log_format() {
    let store = TempStore::new();
    let config = store.dir.path().join("bad.toml");
    std::fs::write(&config, "[site]\nbase_url = \"https://example.vn/\"\ndefault_language = \"vi\"\ntitle = \"T\"\ntime_zone = \"Mars/Olympus\"\n[languages.vi]\n").unwrap();
    let output = herald()
        .args(["check", "--log-format", "json", "--config"])
        .arg(&config)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(output).unwrap();
    let lines: Vec<serde_json::Value> =
        stderr.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect();
    let zone = lines
        .iter()
        .find(|l| l["fields"]["message"] == "unknown time zone `Mars/Olympus`")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(zone["level"], "ERROR");
    assert_eq!(zone["fields"]["path"], config.display().to_string());
    assert_eq!((zone["fields"]["line"].as_u64(), zone["fields"]["column"].as_u64()), (Some(5), Some(13)));
    assert!(zone["fields"]["hint"].as_str().unwrap().contains("IANA time zone name"), "{zone}");
}

/// The output folder is never a folder herald did not write: a usage error
/// (exit 2) that says what to do.
#[test]
fn refuses_to_replace_a_foreign_folder() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let out = store.dir.path().join("home");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    herald()
        .args(["build", "--out"])
        .arg(&out)
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("home: error: the folder is not empty and was not written by herald"))
        .stderr(predicate::str::contains("hint: herald replaces its output folder as a whole"));
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
}

/// Staging folders a killed `herald build` left beside the output (named
/// `.<out>.herald-new-<pid>` or `.herald-old-<pid>`, holding herald's
/// marker) are removed by the next build when their process is gone; one
/// whose process still runs (another build) is left alone, and so is
/// anything not named and marked by herald.
#[cfg(unix)]
#[test]
fn a_build_removes_staging_folders_killed_builds_left() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let parent = store.dir.path();
    let out = parent.join("public");
    // Two processes that ended, and one still running (started before its
    // folder was made).
    let dead: Vec<u32> = (0..2)
        .map(|_| {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            child.wait().unwrap();
            child.id()
        })
        .collect();
    let mut running = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    let folder = |name: String, marked: bool| {
        let dir = parent.join(name);
        std::fs::create_dir_all(dir.join("vi")).unwrap();
        std::fs::write(dir.join("vi/rss.xml"), "half written").unwrap();
        if marked {
            std::fs::write(dir.join(herald::snapshot::OUTPUT_MARKER), "").unwrap();
        }
        dir
    };
    let stale_new = folder(format!(".public.herald-new-{}", dead[0]), true);
    let stale_old = folder(format!(".public.herald-old-{}", dead[1]), true);
    let in_use = folder(format!(".public.herald-new-{}", running.id()), true);
    let unmarked = folder(format!(".public.herald-new-{}", dead[1]), false);
    let not_a_pid = folder(".public.herald-new-12ab".to_string(), true);
    let other_output = folder(format!(".site.herald-new-{}", dead[0]), true);
    herald()
        .args(["build", "--now", NOW, "--out"])
        .arg(&out)
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .success();
    running.kill().unwrap();
    running.wait().unwrap();
    assert!(out.join("vi/rss.xml").is_file());
    assert!(!stale_new.exists(), "{} was left", stale_new.display());
    assert!(!stale_old.exists(), "{} was left", stale_old.display());
    for kept in [&in_use, &unmarked, &not_a_pid, &other_output] {
        assert!(kept.join("vi/rss.xml").is_file(), "{} was touched", kept.display());
    }
}

/// A misspelt key names the place and suggests the key that was meant.
#[test]
fn misspelt_key_suggests_the_right_one() {
    let store = TempStore::new();
    let config = store.dir.path().join("typo.toml");
    let text = std::fs::read_to_string(store.config_path()).unwrap().replace("base_url", "base_ulr");
    std::fs::write(&config, &text).unwrap();
    let line = text.lines().position(|l| l.starts_with("base_ulr")).unwrap() + 1;
    herald()
        .arg("check")
        .arg("--config")
        .arg(&config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("typo.toml:{line}:1: error: unknown field `base_ulr`")))
        .stderr(predicate::str::contains("hint: did you mean `base_url`?"));
}

/// A store with no articles is a warning in `check` and `build`, and a
/// Hugo site folder given instead of its content folder is recognised.
#[test]
fn store_with_no_articles_is_explained() {
    let store = TempStore::new();
    let site = store.dir.path().join("site");
    std::fs::create_dir_all(site.join("content/thoi-su")).unwrap();
    herald()
        .args(["check", "--store"])
        .arg(&site)
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning: the store holds no articles"))
        .stdout(predicate::str::contains(format!(
            "hint: this looks like a site folder: set `store` to {}",
            site.join("content").display()
        )))
        .stdout(predicate::str::contains("0 documents: 0 error(s), 1 warning(s)"));
    let out = store.dir.path().join("public");
    herald()
        .args(["build", "--now", NOW, "--store"])
        .arg(&site)
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: the store holds no articles"))
        .stderr(predicate::str::contains("from 0 visible articles"));
    // An empty site still has valid, empty feeds.
    let rss = std::fs::read_to_string(out.join("rss.xml")).unwrap();
    assert!(rss.contains("<channel>") && !rss.contains("<item>"), "{rss}");
}

/// Shell completions and the manual page come from the same definition as
/// `--help`, so every command appears in them.
#[test]
fn completions_and_manual_pages_cover_every_command() {
    let commands = ["build", "check", "serve", "subscriptions", "deliveries", "gen-corpus", "completions", "man"];
    for shell in ["bash", "zsh", "fish"] {
        let out = herald().args(["completions", shell]).assert().success().get_output().stdout.clone();
        let script = String::from_utf8(out).unwrap();
        for command in commands {
            assert!(script.contains(command), "{shell} completions lack {command}");
        }
    }
    let page = herald().arg("man").assert().success().get_output().stdout.clone();
    let page = String::from_utf8(page).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH herald 1"), "{page}");
    assert!(page.contains(
        "Exit status: 0 ok, 1 problems found, 2 usage or configuration error (nothing was done), 3 the work failed"
    ));
    let dir = tempfile::tempdir().unwrap();
    herald().args(["man", "--out-dir"]).arg(dir.path()).assert().success();
    for command in commands {
        let page = std::fs::read_to_string(dir.path().join(format!("herald-{command}.1"))).unwrap();
        assert!(page.contains(".TH"), "herald-{command}.1 is not a manual page");
    }
}

/// `gen-corpus` writes the same store for the same seed, and refuses a
/// folder that already holds files.
#[test]
fn gen_corpus_is_deterministic_and_careful() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for target in [&a, &b] {
        herald()
            .args(["gen-corpus", "--seed", "5"])
            .arg(target)
            .arg("120")
            .assert()
            .success()
            .stderr(predicate::str::contains("wrote 120 documents"));
    }
    let list = |root: &std::path::Path| {
        let mut files = Vec::new();
        for section in std::fs::read_dir(root).unwrap() {
            for file in std::fs::read_dir(section.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                files.push((path.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&path).unwrap()));
            }
        }
        files.sort();
        files
    };
    assert_eq!(list(&a), list(&b));
    herald()
        .arg("gen-corpus")
        .arg(&a)
        .arg("10")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error: the folder is not empty"));
}

/// Piped stderr gets no progress bar: only the summary line.
#[test]
fn no_progress_bar_when_not_on_a_terminal() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let out = store.dir.path().join("public");
    let output = herald()
        .args(["build", "--now", NOW, "--out"])
        .arg(&out)
        .arg("--config")
        .arg(store.config_path())
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(output).unwrap();
    assert!(!stderr.contains("reading articles") && !stderr.contains('\u{1b}'), "{stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
}

/// `herald init` on the sample store and on a generated corpus writes a
/// configuration with which `herald check` passes; a second `init` keeps the
/// file unless `--force` is given.
#[test]
fn init_writes_a_config_that_checks() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample");
    copy_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/store"), &sample);
    let corpus = dir.path().join("corpus");
    herald().arg("gen-corpus").arg(&corpus).arg("400").assert().success();
    for (store, config, languages) in [
        (&sample, dir.path().join("sample.toml"), "2 languages (vi 20, en 9)"),
        (&corpus, dir.path().join("corpus.toml"), "2 languages"),
    ] {
        herald()
            .arg("init")
            .arg(store)
            .arg("--config")
            .arg(&config)
            .assert()
            .success()
            .stderr(predicate::str::contains(languages))
            .stderr(predicate::str::contains("time zone Asia/Ho_Chi_Minh"))
            .stderr(predicate::str::contains(format!("wrote {}", config.display())));
        herald()
            .args(["check", "--now", NOW, "--config"])
            .arg(&config)
            .assert()
            .success()
            .stdout(predicate::str::contains(" 0 error(s)"));
    }
    let written = std::fs::read_to_string(dir.path().join("corpus.toml")).unwrap();
    assert!(written.contains("title = { vi = \"Kinh tế\", en = \"Economy\" }"), "{written}");

    herald()
        .arg("init")
        .arg(&sample)
        .arg("--config")
        .arg(dir.path().join("sample.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sample.toml: error: the file exists"))
        .stderr(predicate::str::contains("hint: pass --force"));
    herald()
        .args(["init", "--force"])
        .arg(&sample)
        .arg("--config")
        .arg(dir.path().join("sample.toml"))
        .assert()
        .success();
}
