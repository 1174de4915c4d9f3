//! `herald init`: inspecting a store (plain, generated, Hugo, Zola) and
//! writing a commented feeds.toml with which `herald check` passes.

use crate::common::copy_dir;

use std::path::{Path, PathBuf};

use herald::config::{Config, Overrides};
use herald::init::{Generator, Inspection, init, inspect, render_config};
use herald::pipeline;
use herald::store::FolderStore;

/// Writes `contents` at `path`, creating folders.
fn write(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// What `herald check` does with the written file: load it, read the store,
/// and fail the test on any error (warnings are printed on failure only).
fn check_passes(config_path: &Path) -> Config {
    let config = Config::load(config_path, &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}\n---\n{}", std::fs::read_to_string(config_path).unwrap()));
    let store = FolderStore::open(&config.store_dir).unwrap();
    let loaded = pipeline::load(&store, &config, crate::common::now());
    let errors: Vec<String> = loaded.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "herald check finds errors:\n{}", errors.join("\n"));
    let undeclared: Vec<String> =
        loaded.diagnostics.iter().filter(|d| d.message.contains("not declared")).map(|d| d.to_string()).collect();
    assert!(undeclared.is_empty(), "{}", undeclared.join("\n"));
    config
}

fn examples_store() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/store")
}

/// A copy of the sample store as `<dir>/store`, and where its feeds.toml
/// goes (`<dir>/feeds.toml`).
fn example_store_copy(dir: &Path) -> (PathBuf, PathBuf) {
    let store = dir.join("store");
    copy_dir(&examples_store(), &store);
    (store, dir.join("feeds.toml"))
}

#[test]
fn example_store_gets_a_config_that_checks() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config_path) = example_store_copy(dir.path());

    let found = init(&store, &config_path, false).unwrap();
    assert_eq!(found.documents, 29);
    assert_eq!(found.default_language, "vi");
    assert_eq!(found.languages.keys().collect::<Vec<_>>(), ["en", "vi"]);
    assert_eq!(found.languages["vi"] + found.languages["en"], 29);
    let slugs: Vec<&str> = found.sections.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(slugs, ["du-lich", "kinh-te", "the-thao", "thoi-su", "van-hoa"]);
    assert_eq!(found.time_zone, "Asia/Ho_Chi_Minh");
    assert!(found.time_zone_reason.contains("+07:00"), "{}", found.time_zone_reason);
    assert!(found.site.is_none());

    let summary = found.summary();
    assert!(summary.starts_with("found 29 articles in 2 languages (vi "), "{summary}");
    assert!(summary.contains("and 5 sections"), "{summary}");
    assert!(summary.contains("time zone Asia/Ho_Chi_Minh (from the +07:00 offsets"), "{summary}");

    let config = check_passes(&config_path);
    assert_eq!(config.store_dir.canonicalize().unwrap(), store.canonicalize().unwrap());
    assert_eq!(config.site.default_language, "vi");
    assert_eq!(config.site.time_zone_name, "Asia/Ho_Chi_Minh");
    assert_eq!(config.language("vi").unwrap().name, "Tiếng Việt");
    assert_eq!(config.language("vi").unwrap().prefix, "");
    assert_eq!(config.language("en").unwrap().prefix, "/en");
    assert_eq!(config.sections.len(), 5);

    let text = std::fs::read_to_string(&config_path).unwrap();
    assert!(text.contains("store = \"store\""), "{text}");
    assert!(text.contains("# CHANGE THIS"), "{text}");
    assert!(text.contains("base_url = \"https://example.com/\""), "{text}");
    assert!(text.contains("# CHECK: from the +07:00 offsets"), "{text}");
}

/// The written file holds `[taxonomies]` and a table per taxonomy (tags,
/// authors, categories) at herald's defaults: the same settings as a file
/// without them, every taxonomy on.
#[test]
fn the_written_config_holds_the_taxonomy_tables_at_their_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config_path) = example_store_copy(dir.path());
    init(&store, &config_path, false).unwrap();
    let text = std::fs::read_to_string(&config_path).unwrap();
    for table in ["[taxonomies]", "[taxonomies.tags]", "[taxonomies.authors]", "[taxonomies.categories]"] {
        assert!(text.lines().any(|l| l == table), "no {table} in:\n{text}");
    }
    let config = check_passes(&config_path);
    assert_eq!(config.taxonomies.enabled(), herald::config::Taxonomy::ALL);
    assert_eq!(config.taxonomies.categories.paths.rss, "/{lang}/categories/{term}/rss.xml");

    // Without the taxonomy tables, the same settings.
    let mut in_taxonomies = false;
    let without: Vec<&str> = text
        .lines()
        .filter(|l| {
            if l.starts_with('[') {
                in_taxonomies = l.starts_with("[taxonomies");
            }
            !in_taxonomies
        })
        .collect();
    let without = without.join("\n");
    assert!(!without.contains("[taxonomies"), "{without}");
    let defaults = Config::parse(&without, &config_path, &Overrides::default()).unwrap();
    assert_eq!(config.taxonomies, defaults.taxonomies);
}

#[test]
fn generated_corpus_gets_section_titles_from_index_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("corpus");
    herald::corpus::generate(&store, 300, 1).unwrap();
    // The config inside the store, as `herald init /tmp/corpus` would write it.
    let config_path = store.join("feeds.toml");

    let found = init(&store, &config_path, false).unwrap();
    assert_eq!(found.documents, 300);
    assert_eq!(found.default_language, "vi");
    assert_eq!(found.sections.len(), 12);
    assert_eq!(found.time_zone, "Asia/Ho_Chi_Minh");
    let kinh_te = found.sections.iter().find(|s| s.slug == "kinh-te").unwrap();
    assert_eq!(kinh_te.titles["vi"], "Kinh tế");
    assert_eq!(kinh_te.titles["en"], "Economy");

    let config = check_passes(&config_path);
    assert_eq!(config.section_title("kinh-te", "vi"), "Kinh tế");
    assert_eq!(config.section_title("kinh-te", "en"), "Economy");
    assert_eq!(config.section_title("doi-song", "vi"), "Đời sống");
    let text = std::fs::read_to_string(&config_path).unwrap();
    assert!(text.contains("store = \".\""), "{text}");
    assert!(text.contains("state_dir = \".herald-state\""), "the state must not look like a section: {text}");
}

#[test]
fn hugo_site_gives_store_base_url_title_and_language() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("blog");
    write(
        &site.join("hugo.toml"),
        r#"baseURL = "https://blog.example.org"
title = "Example Blog"
defaultContentLanguage = "en"
timeZone = "Europe/Berlin"

[params]
description = "Notes from the newsroom"

[languages.en]
languageName = "English"
weight = 1

[languages.de]
languageName = "Deutsch"
title = "Beispiel-Blog"
weight = 2
"#,
    );
    let post = |title: &str| format!("+++\ntitle = \"{title}\"\ndate = 2026-10-01T09:00:00+02:00\n+++\nText.\n");
    write(&site.join("content/_index.md"), "+++\ntitle = \"Home\"\n+++\n");
    write(&site.join("content/posts/_index.md"), "+++\ntitle = \"Posts\"\n+++\n");
    write(&site.join("content/posts/_index.de.md"), "---\ntitle: Beiträge\n---\n");
    write(&site.join("content/posts/first.md"), &post("First post"));
    write(&site.join("content/posts/first.de.md"), &post("Erster Beitrag"));
    write(&site.join("content/posts/second/index.md"), &post("Second post"));
    let config_path = site.join("feeds.toml");

    let found = init(&site, &config_path, false).unwrap();
    assert_eq!(found.store, site.join("content"));
    let hugo = found.site.as_ref().unwrap();
    assert_eq!(hugo.generator, Generator::Hugo);
    assert_eq!(hugo.base_url.as_deref(), Some("https://blog.example.org/"));
    assert_eq!(found.default_language, "en");
    assert!(!found.default_language_is_guess);
    assert_eq!(found.time_zone, "Europe/Berlin");
    assert!(found.time_zone_reason.contains("hugo.toml"), "{}", found.time_zone_reason);
    assert_eq!(found.languages["en"], 2);
    assert_eq!(found.languages["de"], 1);

    let config = check_passes(&config_path);
    assert_eq!(config.site.base_url.as_str(), "https://blog.example.org/");
    assert_eq!(config.site_title("en"), "Example Blog");
    assert_eq!(config.site_title("de"), "Beispiel-Blog");
    assert_eq!(config.site_description("en"), "Notes from the newsroom");
    assert_eq!(config.site.id_prefix, "tag:blog.example.org,2000:");
    assert_eq!(config.language("de").unwrap().name, "Deutsch");
    assert_eq!(config.section_title("posts", "en"), "Posts");
    assert_eq!(config.section_title("posts", "de"), "Beiträge");
    let text = std::fs::read_to_string(&config_path).unwrap();
    assert!(text.contains("store = \"content\""), "{text}");
    assert!(!text.contains("CHANGE THIS: no site configuration gave the site's address"), "{text}");
}

#[test]
fn hugo_yaml_with_separate_content_dirs_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    write(
        &site.join("hugo.yaml"),
        "baseURL: https://multi.example.org/\ntitle: Multi\ndefaultContentLanguage: fr\nlanguages:\n  fr:\n    contentDir: content/fr\n  en:\n    contentDir: content/en\n",
    );
    write(
        &site.join("content/fr/actu/bonjour.md"),
        "+++\ntitle = \"Bonjour\"\ndate = 2026-10-01T09:00:00+01:00\n+++\n",
    );
    let found = inspect(&site).unwrap();
    assert_eq!(found.default_language, "fr");
    assert!(found.problems.iter().any(|p| p.message.contains("own content folder")), "{:?}", found.problems);
    let text = render_config(&found, &site);
    assert!(text.contains("gives each language its own content folder"), "{text}");
    Config::parse(&text, &site.join("feeds.toml"), &Overrides::default()).unwrap();
}

#[test]
fn zola_site_from_its_root_or_its_content_folder() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("zola");
    write(
        &site.join("config.toml"),
        r#"base_url = "https://zola.example.net"
title = "Le Site"
default_language = "fr"

[languages.en]
title = "The Site"
"#,
    );
    let post = |title: &str| format!("+++\ntitle = \"{title}\"\ndate = 2026-10-01\n+++\nText.\n");
    write(&site.join("content/blog/_index.md"), "+++\ntitle = \"Blog\"\n+++\n");
    write(&site.join("content/blog/premier.md"), &post("Premier"));
    write(&site.join("content/blog/premier.en.md"), &post("First"));
    write(&site.join("content/blog/deuxieme.md"), &post("Deuxième"));

    let found = init(&site, &site.join("feeds.toml"), false).unwrap();
    assert_eq!(found.site.as_ref().unwrap().generator, Generator::Zola);
    assert_eq!(found.store, site.join("content"));
    assert_eq!(found.default_language, "fr");
    assert_eq!(found.languages["fr"], 2);
    assert_eq!(found.languages["en"], 1);
    // No offsets in the dates: UTC, and the file says to check it.
    assert_eq!(found.time_zone, "UTC");
    assert!(found.time_zone_is_guess);
    let config = check_passes(&site.join("feeds.toml"));
    assert_eq!(config.site.base_url.as_str(), "https://zola.example.net/");
    assert_eq!(config.site_title("fr"), "Le Site");
    assert_eq!(config.site_title("en"), "The Site");
    assert_eq!(config.section_title("blog", "fr"), "Blog");

    // Given the content folder itself, the configuration above it is found.
    let elsewhere = dir.path().join("etc/feeds.toml");
    let found = init(&site.join("content"), &elsewhere, false).unwrap();
    assert_eq!(found.site.as_ref().unwrap().base_url.as_deref(), Some("https://zola.example.net/"));
    let text = std::fs::read_to_string(&elsewhere).unwrap();
    assert!(text.contains("store = \"../zola/content\""), "{text}");
    check_passes(&elsewhere);
}

#[test]
fn existing_file_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config_path) = example_store_copy(dir.path());
    std::fs::write(&config_path, "# mine\n").unwrap();

    let e = init(&store, &config_path, false).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}: error: the file exists\n  hint: pass --force to replace it, or --config to write elsewhere",
            config_path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&config_path).unwrap(), "# mine\n");

    init(&store, &config_path, true).unwrap();
    assert!(std::fs::read_to_string(&config_path).unwrap().starts_with("# herald configuration"));
    check_passes(&config_path);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn missing_or_wrong_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let config_path = dir.path().join("feeds.toml");
    let e = init(&missing, &config_path, false).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}: error: the folder does not exist", missing.display())), "{e}");
    assert!(e.contains("\n  hint: "), "{e}");
    assert!(!config_path.exists());

    let file = dir.path().join("article.md");
    std::fs::write(&file, "+++\n+++\n").unwrap();
    let e = inspect(&file).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}: error: not a folder", file.display())), "{e}");
}

#[test]
fn empty_store_still_gets_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("empty");
    std::fs::create_dir_all(&store).unwrap();
    let config_path = dir.path().join("feeds.toml");

    let found = init(&store, &config_path, false).unwrap();
    assert_eq!(found.documents, 0);
    assert!(found.summary().starts_with("found no articles in "), "{}", found.summary());
    assert_eq!(found.default_language, "en");
    assert_eq!(found.time_zone, "UTC");
    let config = check_passes(&config_path);
    assert_eq!(config.site_title("en"), "empty");
    assert!(std::fs::read_to_string(&config_path).unwrap().contains("# [sections.news]"));
}

#[test]
fn odd_folders_and_languages_are_reported_not_fatal() {
    let store = crate::common::TempStore::new();
    store.article("Tin Tức/bai-mot.vi.md", "Bài một", "2026-11-20T08:30:00+07:00");
    store.article("thoi-su/bai-hai.md", "Bài hai", "2026-11-20T09:30:00+07:00");
    store.article("thoi-su/bai-bon.vi.md", "Bài bốn", "2026-11-20T10:30:00+07:00");
    store.article("gioi-thieu.md", "Giới thiệu", "2026-11-20T09:30:00+07:00");
    store.write("thoi-su/bai-ba.md", "+++\ntitle = \"Bài ba\"\ndate = 2026-11-21T08:00:00+07:00\nlang = \"fr\"\n+++\n");
    store.write("thoi-su/hong.md", "+++\ntitle = \"Hỏng\"\n");

    let found = inspect(&store.root()).unwrap();
    let slugs: Vec<&str> = found.sections.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(slugs, ["thoi-su", "tin-tuc"]);
    assert_eq!(found.outside_sections, 1);
    assert_eq!(found.default_language, "vi");
    assert_eq!(found.languages.get("fr"), Some(&1), "the `lang` field counts: {:?}", found.languages);
    let messages: Vec<&str> = found.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("`Tin Tức` is published as section `tin-tuc`")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("gioi-thieu.md")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("cannot read")), "{messages:?}");
    let text = render_config(&found, store.dir.path());
    let config = Config::parse(&text, &store.dir.path().join("feeds.toml"), &Overrides::default()).unwrap();
    assert!(config.sections.contains_key("tin-tuc"));
    assert!(config.language("fr").is_some());
}

#[test]
fn big_stores_are_sampled_and_output_is_deterministic() {
    let store = crate::common::TempStore::new();
    for n in 0..2_500 {
        let lang = if n % 5 == 0 { "en" } else { "vi" };
        store.article(&format!("s{}/bai-{n}.{lang}.md", n % 3), "Tin", "2026-11-20T08:30:00+09:00");
    }
    let found: Inspection = inspect(&store.root()).unwrap();
    assert_eq!(found.documents, 2_500);
    assert_eq!(found.sampled, herald::init::SAMPLE_SIZE);
    assert_eq!(found.languages["en"], 500);
    assert_eq!(found.languages["vi"], 2_000);
    assert_eq!(found.time_zone, "Asia/Tokyo");
    let again = inspect(&store.root()).unwrap();
    assert_eq!(render_config(&found, store.dir.path()), render_config(&again, store.dir.path()));
}
