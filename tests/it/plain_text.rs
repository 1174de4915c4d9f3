//! Plain text stays text in every format. A summary (from front matter, or
//! the first paragraph's text) may hold `<`, `>` and `&` as characters: a
//! code span, an escaped `&lt;script&gt;`, or someone typing markup into
//! `summary`. RSS readers take `description` as HTML, so there it is
//! escaped and reads back as the characters written, never as live markup;
//! Atom (`type="text"`) and JSON Feed (`summary`) carry it as text. Read
//! back with feed-rs and serde_json; the HTML entities of RSS are undone
//! here by hand.

use crate::common::*;

/// The summaries of the two test articles, as their authors wrote them.
const EXPECTED: [(&str, &str); 2] =
    [("Một", "a <img src=x onerror=alert(1)> & b"), ("Hai", "Mã <script>alert(1)</script> và <b>đậm</b>.")];

fn store() -> TempStore {
    let store = TempStore::new();
    store.write(
        "thoi-su/mot.vi.md",
        "+++\ntitle = \"Một\"\ndate = 2026-11-20T08:00:00+07:00\nsummary = \"a <img src=x onerror=alert(1)> & b\"\n+++\nThân bài.\n",
    );
    store.write(
        "thoi-su/hai.vi.md",
        "+++\ntitle = \"Hai\"\ndate = 2026-11-21T08:00:00+07:00\n+++\nMã `<script>alert(1)</script>` và &lt;b&gt;đậm&lt;/b&gt;.\n",
    );
    store
}

/// The text an HTML fragment without elements stands for.
fn html_text(html: &str) -> String {
    assert!(!html.contains('<'), "markup in what must be text: {html}");
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').unwrap_or_else(|| panic!("a bare & in {html}")) + at;
        out.push(match &rest[at + 1..end] {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "#39" | "apos" => '\'',
            other => panic!("unexpected entity &{other}; in {html}"),
        });
        rest = &rest[end + 1..];
    }
    out + rest
}

fn summaries(built: &herald::pipeline::Built, path: &str) -> Vec<(String, String)> {
    parse_feed(built, path)
        .entries
        .into_iter()
        .map(|e| (e.title.unwrap().content, e.summary.map(|s| s.content).unwrap_or_default()))
        .collect()
}

fn expected() -> Vec<(String, String)> {
    let mut expected: Vec<(String, String)> = EXPECTED.iter().map(|(t, s)| (t.to_string(), s.to_string())).collect();
    expected.reverse(); // newest first
    expected
}

#[test]
fn rss_descriptions_are_escaped_html() {
    let built = store().build();
    let read: Vec<(String, String)> =
        summaries(&built, "/vi/rss.xml").into_iter().map(|(title, html)| (title, html_text(&html))).collect();
    assert_eq!(read, expected());
}

#[test]
fn atom_and_json_feed_summaries_are_text() {
    let built = store().build();
    assert_eq!(summaries(&built, "/vi/atom.xml"), expected());
    let json: serde_json::Value = serde_json::from_str(&text(&built, "/vi/feed.json")).unwrap();
    let read: Vec<(String, String)> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["title"].as_str().unwrap().to_string(), i["summary"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(read, expected());
    // The body is HTML: the code span's markup is escaped there too.
    for item in json["items"].as_array().unwrap() {
        let html = item["content_html"].as_str().unwrap_or("");
        assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
    }
}
