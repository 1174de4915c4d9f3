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

/// `ap_signature`: a draft-cavage `headers` parameter naming a "header"
/// with a non-ASCII capital (`Кxpires`, Cyrillic К). Header names were
/// lowercased the ASCII way only, so the name stayed capitalised and could
/// never match a header of the request. A name that is not an HTTP token
/// (or a `(pseudo-header)`) now makes the signature malformed, naming it;
/// real names still read back lowercase.
#[test]
fn a_signed_header_name_that_is_not_a_token_is_refused() {
    use herald::activitypub::signatures::{SignatureError, parse_signature_header};
    let found = "keyId=\"k\",algorithm=\"hs2019\",created=1700000000,headers=\"(request-target) (created) \u{41a}xpires\",signature=\"AAEC\"";
    match parse_signature_header(found) {
        Err(SignatureError::Malformed(why)) => assert!(why.contains("`\u{41a}xpires`"), "{why}"),
        other => panic!("accepted: {other:?}"),
    }
    for bad in ["(request-target", "()", "a\"b", "x,y:"] {
        let header = format!("keyId=\"k\",headers=\"date {bad}\",signature=\"AAEC\"");
        assert!(parse_signature_header(&header).is_err(), "{bad} accepted");
    }
    let fine = "keyId=\"k\",headers=\"(Request-Target) Host DATE x-Custom_1\",signature=\"AAEC\"";
    let parsed = parse_signature_header(fine).unwrap();
    assert_eq!(parsed.headers, ["(request-target)", "host", "date", "x-custom_1"]);
}

/// `feed_render`: a raw `<table>` in the middle of a Markdown list item.
/// The sanitised HTML held the table (with the text after it moved out, as
/// HTML parsers do) at the list's end, and that HTML, parsed again as a
/// feed reader does, made another tree: an `</li>` ended elsewhere. Every
/// item's HTML is now a fixed point of herald's sanitiser, and the text is
/// all there.
#[test]
fn a_table_opened_inside_a_list_item_reads_back_as_itself() {
    use herald::markdown::{BodyFormat, render_body};
    let store = TempStore::new();
    store.write(
        "thoi-su/lich.vi.md",
        "+++\ntitle = \"Lịch\"\ndate = 2026-11-20T08:00:00+07:00\n+++\nMở đầu.\n\n## Nội thành\n\n- Thứ Ba: Phú Hội, <table>Bến Nghé, Chu Văn An.\n- Thứ Năm: An Đông.\n\n## Ven đô\n\n- Thứ Tư: Thủ Lễ.\n\nKết thúc.\n",
    );
    let built = store.build();
    let json: serde_json::Value = serde_json::from_str(&text(&built, "/vi/feed.json")).unwrap();
    let item = &json["items"][0];
    let html = item["content_html"].as_str().unwrap();
    let base = url::Url::parse("https://example.vn/").unwrap();
    let permalink = url::Url::parse(item["url"].as_str().unwrap()).unwrap();
    assert_eq!(render_body(html, BodyFormat::Html, &base, &permalink), html, "not a fixed point");
    let shown = shown_text(html);
    for words in ["Mở đầu.", "Phú Hội", "Bến Nghé, Chu Văn An.", "An Đông.", "Ven đô", "Thủ Lễ.", "Kết thúc."]
    {
        assert!(shown.contains(words), "{words} lost: {html}");
    }
}
