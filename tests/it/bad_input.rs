//! A broken article is reported as `path:line: message` with a hint and
//! skipped; every other article and feed is still built.

use crate::common::*;

/// Builds a store holding one good article and `bad` at `path`, and
/// returns the one error reported, as text.
fn error_for(path: &str, bad: &[u8]) -> String {
    let store = TempStore::new();
    store.article("thoi-su/tot.vi.md", "Bài tốt", "2026-11-20T08:00:00+07:00");
    store.write(path, bad);
    let built = store.build();
    // The good article is still published.
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Bài tốt"], "the good article must survive");
    let errors: Vec<String> = built.loaded.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let full = store.root().join(path);
    let message = errors[0].clone();
    assert!(message.starts_with(&full.display().to_string()), "{message}");
    assert!(message.contains("hint:"), "{message}");
    message[full.display().to_string().len()..].to_string()
}

#[test]
fn unparsable_toml_front_matter() {
    let e = error_for("thoi-su/hong.vi.md", b"+++\ntitle = \"A\"\ndate = = 2026\n+++\nBody\n");
    assert!(e.starts_with(":3:8: error: front matter is not valid TOML"), "{e}");
}

#[test]
fn unparsable_yaml_front_matter() {
    let e = error_for("thoi-su/hong.vi.md", b"---\ntitle: A\ntags: [a, b\ndate: 2026-01-01\n---\nBody\n");
    assert!(e.contains("error: front matter is not valid YAML"), "{e}");
    assert!(e.starts_with(":4:") || e.starts_with(":3:") || e.starts_with(":5:"), "{e}");
}

#[test]
fn unclosed_front_matter() {
    let e = error_for("thoi-su/hong.vi.md", b"+++\ntitle = \"A\"\nBody without a closing fence\n");
    assert!(e.starts_with(":1: error: the front matter opened with `+++` is never closed"), "{e}");
}

#[test]
fn missing_title() {
    let e = error_for("thoi-su/hong.vi.md", b"+++\ndate = 2026-11-20T08:00:00+07:00\n+++\nBody\n");
    assert!(e.starts_with(":1: error: the article has no title"), "{e}");
}

#[test]
fn date_that_is_not_a_date() {
    let e = error_for("thoi-su/hong.vi.md", b"+++\ntitle = \"A\"\ndate = \"next tuesday\"\n+++\nBody\n");
    assert!(e.starts_with(":3: error: `date` is not a date: `next tuesday`"), "{e}");
}

#[test]
fn missing_date() {
    let e = error_for("thoi-su/hong.vi.md", b"+++\ntitle = \"A\"\n+++\nBody\n");
    assert!(e.starts_with(":1: error: the article has no date"), "{e}");
}

#[test]
fn invalid_utf8() {
    let e = error_for(
        "thoi-su/hong.vi.md",
        b"+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\n+++\nLatin-1 caf\xe9\n",
    );
    assert!(e.starts_with(":5: error: the file is not valid UTF-8"), "{e}");
}

#[test]
fn broken_json_article() {
    let e = error_for("thoi-su/hong.en.json", b"{\"title\": \"A\",\n \"date\": }");
    assert!(e.starts_with(":2:10: error: not valid JSON"), "{e}");
}

#[test]
fn wrongly_typed_field() {
    let e = error_for(
        "thoi-su/hong.vi.md",
        b"+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\ndraft = \"maybe\"\n+++\n",
    );
    assert!(e.starts_with(":4: error: `draft` must be true or false, found text"), "{e}");
}

#[test]
fn undeclared_language() {
    let e = error_for("thoi-su/hong.fr.md", b"+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\n+++\n");
    assert!(e.contains("error: language `fr` is not declared"), "{e}");
}

#[test]
fn no_front_matter_at_all() {
    let e = error_for("thoi-su/hong.vi.md", b"Just a note someone saved here.\n");
    assert!(e.starts_with(":1: error: the file does not start with front matter"), "{e}");
}

/// Two documents claiming one id: the first by path keeps it.
#[test]
fn duplicate_ids_keep_the_first() {
    let store = TempStore::new();
    store.write("thoi-su/a.vi.md", "+++\ntitle = \"A\"\nid = \"same\"\ndate = 2026-11-20T08:00:00+07:00\n+++\n");
    store.write("thoi-su/b.vi.md", "+++\ntitle = \"B\"\nid = \"same\"\ndate = 2026-11-21T08:00:00+07:00\n+++\n");
    let built = store.build();
    assert_eq!(titles(&built, "/vi/rss.xml"), ["A"]);
    let errors: Vec<String> = built.loaded.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("id `same` is already used by thoi-su/a.vi.md"), "{errors:?}");
}

/// Dates in far-off years are refused (typos; and arithmetic near year
/// 9999 would overflow). (Review finding.)
#[test]
fn date_out_of_range() {
    let e = error_for(
        "thoi-su/hong.vi.md",
        b"+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\nlastmod = 9999-12-30T22:00:00Z\n+++\n",
    );
    assert!(e.starts_with(":4: error: `lastmod` is out of range: `9999-12-30T22:00:00Z` is in the year 9999"), "{e}");
}

/// Well-formed dates out of range (even past what a timestamp can hold:
/// the last second of 9999, years with six digits or a sign) name the file,
/// the line, the year and the supported range, never the parser's words;
/// the edges of the range are taken.
#[test]
fn dates_at_and_beyond_the_edges_of_the_range() {
    for (written, year) in [
        ("9999-12-31T23:59:59Z", "9999"),
        ("0000-01-01T00:00:00Z", "0"),
        ("-000001-01-01T00:00:00Z", "-1"),
        ("-0001-01-01T00:00:00Z", "-1"),
        ("+099999-01-01", "99999"),
        ("99999-01-01", "99999"),
        ("1899-12-31T23:59:59+07:00", "1899"),
    ] {
        let text = format!("+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\nlastmod = \"{written}\"\n+++\n");
        let e = error_for("thoi-su/hong.vi.md", text.as_bytes());
        let expected = format!(":4: error: `lastmod` is out of range: `{written}` is in the year {year}");
        assert!(e.starts_with(&expected), "{e}");
        assert!(e.contains("herald reads dates from the years 1900 to 9000"), "{e}");
    }
    let store = TempStore::new();
    for (i, edge) in ["1900-01-01T00:00:00Z", "9000-12-31T23:59:59Z", "9000-12-31"].iter().enumerate() {
        store.write(
            &format!("thoi-su/edge-{i}.vi.md"),
            format!("+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\nlastmod = \"{edge}\"\n+++\n"),
        );
    }
    let errors: Vec<String> =
        store.build().loaded.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// A section with nothing to make a slug from is refused, so no feed path
/// gets an empty segment. (Review finding.)
#[test]
fn section_without_letters() {
    let e = error_for(
        "thoi-su/hong.vi.md",
        b"+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\nsection = \"!!!\"\n+++\n",
    );
    assert!(e.starts_with(":4: error: section `!!!` has no letters or digits"), "{e}");
}
