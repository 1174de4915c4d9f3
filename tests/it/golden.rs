//! Exact bytes of a few feeds of the basic fixture at a fixed instant.
//! Any change to the output shows up here as a reviewable diff
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test` to accept).

use crate::common::*;

#[test]
fn section_rss() {
    insta::assert_snapshot!(text(&build_fixture("basic"), "/vi/thoi-su/rss.xml"));
}

#[test]
fn language_atom() {
    insta::assert_snapshot!(text(&build_fixture("basic"), "/en/atom.xml"));
}

#[test]
fn site_json_feed() {
    insta::assert_snapshot!(text(&build_fixture("basic"), "/feed.json"));
}
