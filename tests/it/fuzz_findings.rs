//! What fuzzing found (tests/fuzz), kept as regression tests: each input
//! here once made herald write something unsound.

use crate::common::*;

/// The text an HTML fragment shows once every element is stripped (as a
/// browser would parse it), entities decoded.
fn shown_text(html: &str) -> String {
    ammonia::Builder::empty()
        .clean(html)
        .to_string()
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// `feed_render`: U+0338 COMBINING LONG SOLIDUS OVERLAY right after a tag.
/// Normalising (NFC) the sanitised HTML composed the tag's `>` with it into
/// `≯`, so `<p>` + U+0338 + ` onmouseover=alert(1)` became an element whose
/// `onmouseover` attribute was live in every feed's HTML.
#[test]
fn a_combining_overlay_after_a_tag_stays_text_in_every_feed() {
    let store = TempStore::new();
    store.write(
        "thoi-su/gach.vi.md",
        "+++\ntitle = \"Gạch\"\ndate = 2026-11-20T08:00:00+07:00\n+++\n\u{338} onmouseover=alert(1) x\n\n*nghiêng*\u{338} onclick=alert(2)\n",
    );
    store.write(
        "thoi-su/html.vi.json",
        r#"{"title": "HTML", "date": "2026-11-21T08:00:00+07:00", "body_html": "<p>&#x338; onfocus=alert(3)</p>"}"#,
    );
    let built = store.build();
    assert!(!built.loaded.has_errors(), "{:?}", built.loaded.diagnostics);
    let json: serde_json::Value = serde_json::from_str(&text(&built, "/vi/feed.json")).unwrap();
    let rss = rss::Channel::read_from(text(&built, "/vi/rss.xml").as_bytes()).unwrap();
    let atom = atom_syndication::Feed::read_from(text(&built, "/vi/atom.xml").as_bytes()).unwrap();
    let bodies: Vec<String> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["content_html"].as_str().unwrap().to_string())
        .chain(rss.items.iter().map(|i| i.content.clone().unwrap()))
        .chain(atom.entries.iter().map(|e| e.content.as_ref().unwrap().value.clone().unwrap()))
        .collect();
    assert_eq!(bodies.len(), 6);
    for html in &bodies {
        assert!(!html.contains(['\u{226E}', '\u{226F}']), "the overlay joined the markup: {html}");
        let shown = shown_text(html);
        let handlers = ["onmouseover=alert(1)", "onclick=alert(2)", "onfocus=alert(3)"];
        assert!(handlers.iter().any(|h| shown.contains(h)), "an attribute, not text: {html}");
    }
    // The character itself is kept (as a reference, which no normalisation touches).
    assert!(bodies.iter().all(|html| html.contains("&#x338;")), "{bodies:?}");
}
