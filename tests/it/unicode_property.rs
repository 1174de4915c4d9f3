//! Property: whatever Unicode a newsroom types into a title or body, every
//! feed is well-formed and parses back to the same (NFC, cleaned) text.

use crate::common::*;
use herald::config::{Config, Overrides};
use herald::pipeline;
use herald::store::MemoryStore;
use herald::text::{clean_line, is_xml_char};
use proptest::prelude::*;

fn config() -> Config {
    let text = format!("store = \"unused\"\n{TEST_CONFIG}");
    Config::parse(&text, std::path::Path::new("feeds.toml"), &Overrides::default()).unwrap()
}

/// Any string, weighted towards the characters that break feeds:
/// Vietnamese (composed and decomposed), markup, controls, noncharacters,
/// astral symbols.
fn nasty_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        Just("\u{0}".to_string()),
        Just("\u{b}".to_string()),
        Just("\u{fffe}".to_string()),
        Just("\u{ffff}".to_string()),
        Just("\r\n".to_string()),
        Just("]]>".to_string()),
        Just("<script>".to_string()),
        Just("&amp;".to_string()),
        Just("\"'<>&".to_string()),
        Just("Nga\u{300}nh".to_string()),
        Just("Đồn Biên phòng".to_string()),
        Just("😀👍🏽".to_string()),
        Just("*_`#[x](y)".to_string()),
        Just(" ".to_string()),
    ];
    proptest::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

fn check(title: &str, body: &str) -> Result<(), TestCaseError> {
    let expected_title = clean_line(title);
    prop_assume!(!expected_title.is_empty());
    let config = config();
    let store = MemoryStore::new();
    let document = serde_json::json!({ "title": title, "date": "2026-11-20T08:00:00+07:00", "body": body });
    store.insert("thoi-su/bai.vi.json", serde_json::to_vec(&document).unwrap());
    let built = pipeline::build(&store, &config, now());
    prop_assert!(built.loaded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", built.loaded.diagnostics);

    for (path, resource) in built.snapshot.iter() {
        let text = std::str::from_utf8(&resource.body).unwrap();
        prop_assert!(text.chars().all(is_xml_char), "{path} holds a character XML forbids");
        if resource.kind == herald::snapshot::ResourceKind::Feed {
            prop_assert!(feed_rs::parser::parse(resource.body.as_ref()).is_ok(), "{path} does not parse");
        } else if path.ends_with(".xml") {
            let mut reader = quick_xml::Reader::from_reader(resource.body.as_ref());
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => return Err(TestCaseError::fail(format!("{path} is not well-formed: {e}"))),
                }
            }
        }
    }

    let rss = rss::Channel::read_from(built.snapshot.get("/vi/rss.xml").unwrap().body.as_ref())
        .map_err(|e| TestCaseError::fail(format!("RSS: {e}")))?;
    let atom = atom_syndication::Feed::read_from(built.snapshot.get("/vi/atom.xml").unwrap().body.as_ref())
        .map_err(|e| TestCaseError::fail(format!("Atom: {e}")))?;
    let json: serde_json::Value = serde_json::from_slice(&built.snapshot.get("/vi/feed.json").unwrap().body).unwrap();

    let rss_item = &rss.items[0];
    prop_assert_eq!(rss_item.title.as_deref(), Some(expected_title.as_str()));
    prop_assert_eq!(&atom.entries[0].title.value, &expected_title);
    prop_assert_eq!(json["items"][0]["title"].as_str(), Some(expected_title.as_str()));

    // The body reads back identically from all three formats.
    let json_html = json["items"][0]["content_html"].as_str().unwrap_or_default();
    prop_assert_eq!(rss_item.content.as_deref().unwrap_or_default(), json_html);
    let atom_html = atom.entries[0].content.as_ref().and_then(|c| c.value.as_deref()).unwrap_or_default();
    prop_assert_eq!(atom_html, json_html);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_title_and_body_round_trip(title in nasty_text(), body in nasty_text()) {
        check(&title, &body)?;
    }
}

/// The cases that broke writers elsewhere, pinned.
#[test]
fn known_hard_cases() {
    for (title, body) in [
        ("Nga\u{300}nh \u{b}giáo\u{fffe}", "a]]>b"),
        ("Rice & coffee: \"record\" < 2025", "<script>x</script> & ]]]]><![CDATA[>"),
        ("\r\nTiêu đề\r\n", "line\r\nline\rline"),
        ("😀", "\u{0}\u{1}\u{1f}"),
    ] {
        check(title, body).unwrap();
    }
}
