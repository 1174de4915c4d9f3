//! Text hygiene shared by every input path: Unicode NFC, characters XML 1.0
//! forbids, whitespace in one-line fields, and URL-safe slugs; and the one
//! HTML escaper ([`escape_html`]) of the pages and fediverse documents.
//!
//! Every string that can reach an output file passes through [`clean`] (or
//! [`clean_line`] for titles and names) when an article is read, so the
//! renderers can trust their input: the XML writers escape markup but do not
//! drop control characters, and Vietnamese text often arrives decomposed (NFD).

use unicode_normalization::UnicodeNormalization;

/// Whether `c` may appear in an XML 1.0 document
/// (`#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Normalises multi-line text: NFC, line breaks as `\n`, characters that XML
/// 1.0 forbids dropped.
///
/// Carriage returns are folded because XML parsers turn `\r\n` and a lone `\r`
/// into `\n` anyway; doing it here keeps what we write equal to what readers
/// parse back.
pub fn clean(input: &str) -> String {
    if is_clean(input) {
        return input.to_string();
    }
    clean_slowly(input)
}

/// [`clean`] without its shortcut: normalise, fold carriage returns, drop
/// characters XML forbids.
fn clean_slowly(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut previous_was_cr = false;
    for c in input.nfc() {
        match c {
            '\r' => {
                out.push('\n');
                previous_was_cr = true;
                continue;
            }
            '\n' if previous_was_cr => {}
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
        previous_was_cr = false;
    }
    out
}

/// Whether [`clean`] would return `input` as it is: NFC already (most text
/// is: checking is much cheaper than normalising), with no carriage return
/// and no character XML forbids.
fn is_clean(input: &str) -> bool {
    let plain_ascii = input.bytes().all(|b| matches!(b, b'\t' | b'\n' | b' '..=b'~'));
    plain_ascii
        || (input.chars().all(|c| c != '\r' && is_xml_char(c))
            && unicode_normalization::is_nfc_quick(input.chars()) == unicode_normalization::IsNormalized::Yes)
}

/// Normalises one-line text (titles, names, tags): [`clean`], then every run
/// of whitespace becomes one space and the ends are trimmed.
pub fn clean_line(input: &str) -> String {
    let cleaned = clean(input);
    // Already one line with single spaces: nothing to collapse.
    let mut previous_space = true;
    let collapsed = cleaned.chars().all(|c| {
        let space = c == ' ';
        let fine = !(space && previous_space) && (space || !c.is_whitespace());
        previous_space = space;
        fine
    });
    if collapsed && !previous_space {
        return cleaned;
    }
    let mut out = String::with_capacity(cleaned.len());
    for word in cleaned.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `s` is already a slug: lowercase ASCII letters and digits in runs
/// joined by single hyphens.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Folds any text to a slug: Vietnamese letters lose their marks (`đ` → `d`),
/// everything is lowercased, and runs of other characters become one hyphen.
///
/// "Đồn Biên phòng" → `don-bien-phong`. Text that is already a slug is
/// returned unchanged.
pub fn slugify(input: &str) -> String {
    if is_slug(input) {
        return input.to_string();
    }
    slug::slugify(input.nfc().collect::<String>())
}

/// `text` safe inside HTML text and quoted attribute values: `&`, `<`,
/// `>`, `"` and `'` become character references.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Truncates `text` to at most `max_chars` characters at a word boundary,
/// adding an ellipsis when something was cut.
pub fn truncate_words(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut cut = String::new();
    for word in text.split_whitespace() {
        let needed = cut.chars().count() + usize::from(!cut.is_empty()) + word.chars().count();
        if needed > max_chars {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    if cut.is_empty() {
        // One very long word: cut inside it.
        cut = text.chars().take(max_chars).collect();
    }
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_text_and_both_quotes() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
        assert_eq!(escape_html("Lễ hội"), "Lễ hội");
    }

    #[test]
    fn decomposed_vietnamese_becomes_composed() {
        let nfd = "Nga\u{300}nh";
        assert_eq!(nfd.len(), 7);
        let nfc = clean(nfd);
        assert_eq!(nfc, "Ngành");
        assert_eq!(nfc.len(), 6);
    }

    #[test]
    fn forbidden_characters_are_dropped() {
        assert_eq!(clean("a\u{0}b\u{b}c\u{1f}d\u{fffe}e\u{ffff}f"), "abcdef");
        assert_eq!(clean("tab\tok"), "tab\tok");
    }

    #[test]
    fn carriage_returns_become_newlines() {
        assert_eq!(clean("a\r\nb\rc\n"), "a\nb\nc\n");
    }

    #[test]
    fn one_line_fields_collapse_whitespace() {
        assert_eq!(clean_line("  Tin \n  mới\t nhất "), "Tin mới nhất");
    }

    #[test]
    fn slugs_fold_vietnamese() {
        assert_eq!(
            slugify("Ngành Tuyên giáo tỉnh đạt nhiều kết quả nổi bật"),
            "nganh-tuyen-giao-tinh-dat-nhieu-ket-qua-noi-bat"
        );
        assert_eq!(slugify("Đồn Biên phòng"), "don-bien-phong");
        assert_eq!(slugify("Đồn Biên phòng".nfd().collect::<String>().as_str()), "don-bien-phong");
        assert_eq!(slugify("Lễ hội Đua Ghe Ngo 2024"), "le-hoi-dua-ghe-ngo-2024");
        assert_eq!(slugify("already-a-slug-2"), "already-a-slug-2");
        assert_eq!(slugify("My_Article Name"), "my-article-name");
    }

    #[test]
    fn slug_detection() {
        assert!(is_slug("a-b-1"));
        assert!(!is_slug("A-b"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-a"));
        assert!(!is_slug(""));
        assert!(!is_slug("đồn"));
    }

    fn clean_line_slowly(input: &str) -> String {
        clean_slowly(input).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn shortcuts_change_nothing() {
        let samples = [
            "",
            " ",
            "plain words",
            " leading",
            "trailing ",
            "two  spaces",
            "tab\there",
            "line\nbreak",
            "cr\r\nlf",
            "nbsp\u{a0}here",
            "Ngành Tuyên giáo",
            "Nga\u{300}nh",
            "a\u{0}b\u{fffe}",
            "emoji 🎉 & <tag>",
            "\u{7f}del",
            "e\u{301}\u{327}",
        ];
        for sample in samples {
            assert_eq!(clean(sample), clean_slowly(sample), "{sample:?}");
            assert_eq!(clean_line(sample), clean_line_slowly(sample), "{sample:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn shortcuts_change_nothing_anywhere(sample in "(\\PC|[ \t\r\n\u{a0}\u{300}\u{301}\u{0}]){0,24}") {
            proptest::prop_assert_eq!(clean(&sample), clean_slowly(&sample));
            proptest::prop_assert_eq!(clean_line(&sample), clean_line_slowly(&sample));
        }
    }

    #[test]
    fn truncation_respects_words() {
        assert_eq!(truncate_words("một hai ba", 100), "một hai ba");
        assert_eq!(truncate_words("một hai ba bốn", 8), "một hai…");
        assert_eq!(truncate_words("abcdefghij", 4), "abcd…");
    }
}
