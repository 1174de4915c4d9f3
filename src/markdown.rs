//! Article bodies: Markdown (or HTML) to the sanitised HTML that feeds carry.
//!
//! Three steps, each done by a well-kept crate: pulldown-cmark renders
//! CommonMark with tables, footnotes and strikethrough; a small event rewrite
//! turns a captioned photo (`![alt](src "caption")` alone in a paragraph)
//! into `<figure>` + `<figcaption>`; ammonia removes scripts, event handlers
//! and `javascript:` URLs and makes every relative URL absolute.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
use url::Url;

use crate::text::clean;

/// The markup of an article body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BodyFormat {
    /// CommonMark with tables and footnotes.
    Markdown,
    /// HTML (JSON articles with `body_html`); sanitised like Markdown output.
    Html,
}

fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH
}

/// Renders an article body to sanitised HTML with absolute URLs.
///
/// `base` is the site's base URL (for `/path` links) and `permalink` the
/// article's own URL (for `photo.jpg` next to the article).
///
/// Normalising (NFC) must never merge text into markup: NFC composes `>`
/// followed by U+0338 COMBINING LONG SOLIDUS OVERLAY into `≯`, so
/// normalising sanitised HTML as it is would turn the end of a tag (`<p>` +
/// U+0338 + ` onmouseover=…`) into part of its name and the text after it
/// into live attributes. So a Markdown body, which is text, is normalised
/// before it is parsed; an HTML body is not (normalising markup changes its
/// structure); and in the sanitised HTML a combining character right after
/// markup is written as a reference (`keep_markup_apart`) before the
/// whole is normalised.
///
/// The result is a fixed point of the sanitiser: feed readers parse it
/// again, and sanitised HTML parsed again can make another tree (text and
/// list items inside a `<table>` are moved out of it, so an `</li>` ends
/// elsewhere), so the sanitiser runs again on its own output until nothing
/// changes (at most [`MAX_SANITISER_PASSES`] times).
pub fn render_body(body: &str, format: BodyFormat, base: &Url, permalink: &Url) -> String {
    let raw_html = match format {
        BodyFormat::Markdown => markdown_to_html(&clean(body)),
        BodyFormat::Html => body.to_string(),
    };
    // Relative links resolve against the article's path below the base URL.
    let same_site = permalink.origin() == base.origin();
    let article_path =
        if same_site { permalink.path().strip_prefix(base.path()).unwrap_or("").to_string() } else { String::new() };
    let mut sanitiser = ammonia::Builder::default();
    sanitiser
        .url_relative(ammonia::UrlRelative::RewriteWithRoot { root: base.clone(), path: article_path })
        .link_rel(Some("noopener noreferrer"));
    let pass = |html: &str| clean(&keep_markup_apart(sanitiser.clean(html).to_string().trim()));
    let mut html = pass(&raw_html);
    for _ in 1..MAX_SANITISER_PASSES {
        let again = pass(&html);
        if again == html {
            break;
        }
        html = again;
    }
    html
}

/// How many times [`render_body`] runs the sanitiser at most, looking for
/// HTML that reads back as itself (two passes are the usual case: one, and
/// one that changes nothing).
pub const MAX_SANITISER_PASSES: usize = 4;

/// Writes as a character reference any combining character that directly
/// follows `<`, `=` or `>` in sanitised HTML, so that normalising the HTML
/// (NFC) cannot compose it with the markup: `>` + U+0338 would become `≯`
/// (`<` + U+0338 `≮`, `=` + U+0338 `≠`), ending a tag no more. A reference
/// is ASCII, which NFC leaves alone, and HTML readers decode it to the same
/// character.
fn keep_markup_apart(html: &str) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write as _;
    use unicode_normalization::char::canonical_combining_class;

    let mut out = String::new();
    let mut previous = '\0';
    let mut copied = 0;
    for (at, c) in html.char_indices() {
        if matches!(previous, '<' | '=' | '>') && canonical_combining_class(c) != 0 {
            out.push_str(&html[copied..at]);
            let _ = write!(out, "&#x{:X};", u32::from(c));
            copied = at + c.len_utf8();
        }
        previous = c;
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    std::borrow::Cow::Owned(out)
}

/// CommonMark (+ tables, footnotes, strikethrough) to unsanitised HTML, with
/// captioned photos as figures.
fn markdown_to_html(body: &str) -> String {
    let events: Vec<Event<'_>> = Parser::new_ext(body, markdown_options()).collect();
    let events = figures(events);
    let mut out = String::with_capacity(body.len() + body.len() / 2);
    html::push_html(&mut out, events.into_iter());
    out
}

/// Replaces a paragraph that holds only an image with a title by a
/// `<figure>` whose `<figcaption>` is the title.
fn figures(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        if let Some((figure, used)) = figure_at(&events[i..]) {
            out.push(Event::Html(figure.into()));
            i += used;
        } else {
            out.push(events[i].clone());
            i += 1;
        }
    }
    out
}

/// If `events` starts with `<p><img title=…>…</p>`, the figure HTML and the
/// number of events it replaces.
fn figure_at(events: &[Event<'_>]) -> Option<(String, usize)> {
    let [Event::Start(Tag::Paragraph), Event::Start(Tag::Image { dest_url, title, .. }), rest @ ..] = events else {
        return None;
    };
    if title.trim().is_empty() {
        return None;
    }
    let mut alt = String::new();
    let mut used = 2;
    for event in rest {
        used += 1;
        match event {
            Event::Text(t) | Event::Code(t) => alt.push_str(t),
            Event::End(TagEnd::Image) => break,
            Event::SoftBreak | Event::HardBreak => alt.push(' '),
            _ => {}
        }
    }
    if !matches!(events.get(used), Some(Event::End(TagEnd::Paragraph))) {
        return None;
    }
    let figure = format!(
        "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
        escape(dest_url),
        escape(alt.trim()),
        escape(title.trim())
    );
    Some((figure, used + 1))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The plain text of the body's first paragraph that has text (image alt
/// text and headings are skipped): the default summary, or lede.
pub fn first_paragraph_text(body: &str, format: BodyFormat) -> String {
    match format {
        BodyFormat::Markdown => markdown_first_paragraph(body),
        BodyFormat::Html => html_text(body),
    }
}

fn markdown_first_paragraph(body: &str) -> String {
    if let Some(text) = leading_paragraph(body) {
        return text;
    }
    first_paragraph_with_text(Parser::new_ext(body, markdown_options())).map(|p| p.text).unwrap_or_default()
}

/// How many blank-line-ended beginnings of a body [`leading_paragraph`]
/// tries before reading the whole body.
const LEADING_TRIES: usize = 4;

/// The first paragraph's text read from a beginning of `body` only (the
/// parser reads the whole text it is given, and a lede is usually the first
/// block of a long body), or `None` when that might differ from reading
/// the whole body.
///
/// The beginning ends with a blank line. CommonMark decides the blocks of a
/// line from that line and those before it, with three exceptions, each
/// excluded here, so the first paragraph with text found in the beginning
/// is the one the whole body gives, with the same events:
/// - a paragraph can become a setext heading or a table by the line right
///   after it: a blank line ends it, and the beginning holds that line;
/// - a list is loose (its items' text in paragraphs) if a blank line
///   separates items anywhere in it, later lines included: only a
///   paragraph at the top level, outside any list, block quote or footnote,
///   is taken (every container before it is closed, within the beginning);
/// - a reference (`[text][label]`, `[label]`) resolves against definitions
///   anywhere in the body, and a footnote reference against its definition:
///   a beginning with a `[^` is not used, and one with a reference whose
///   definition is not in the beginning either (the first definition of a
///   label wins, and those of the beginning come first).
fn leading_paragraph(body: &str) -> Option<String> {
    for (tried, end) in blank_line_ends(body).enumerate() {
        if end >= body.len() || tried == LEADING_TRIES {
            // The whole body, or too far in: read it all.
            return None;
        }
        let beginning = &body[..end];
        if beginning.contains("[^") {
            return None;
        }
        let broken = std::cell::Cell::new(false);
        let parser = Parser::new_with_broken_link_callback(
            beginning,
            markdown_options(),
            Some(|_: pulldown_cmark::BrokenLink<'_>| {
                broken.set(true);
                None
            }),
        );
        if let Some(found) = first_paragraph_with_text(parser) {
            return (found.top_level && !broken.get()).then_some(found.text);
        }
    }
    None
}

/// Where each line made of spaces and tabs only ends (after its newline),
/// in order.
fn blank_line_ends(body: &str) -> impl Iterator<Item = usize> + '_ {
    let mut at = 0;
    body.split_inclusive('\n').filter_map(move |line| {
        at += line.len();
        line.trim_end_matches(['\n', '\r']).bytes().all(|b| b == b' ' || b == b'\t').then_some(at)
    })
}

/// The first paragraph with text among a body's events.
struct FirstParagraph {
    /// Its text.
    text: String,
    /// Whether it is outside any list, block quote or footnote.
    top_level: bool,
}

fn first_paragraph_with_text<'a>(events: impl Iterator<Item = Event<'a>>) -> Option<FirstParagraph> {
    // Each paragraph is rendered and then reduced to text by the sanitiser,
    // so raw HTML in the Markdown (a `<script>`) never leaks into a summary.
    let mut paragraph: Vec<Event<'_>> = Vec::new();
    let mut in_paragraph = false;
    let mut image_depth = 0usize;
    let mut containers = 0usize;
    for event in events {
        match event {
            Event::Start(Tag::Paragraph) => in_paragraph = true,
            Event::End(TagEnd::Paragraph) => {
                let mut html = String::new();
                html::push_html(&mut html, paragraph.drain(..));
                let text = html_text(&html);
                if !text.trim().is_empty() {
                    return Some(FirstParagraph { text, top_level: containers == 0 });
                }
                in_paragraph = false;
            }
            Event::Start(Tag::Image { .. }) => image_depth += 1,
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            Event::Start(Tag::BlockQuote(_) | Tag::List(_) | Tag::Item | Tag::FootnoteDefinition(_)) => containers += 1,
            Event::End(TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item | TagEnd::FootnoteDefinition) => {
                containers = containers.saturating_sub(1)
            }
            Event::SoftBreak | Event::HardBreak if in_paragraph => paragraph.push(Event::Text(" ".into())),
            event if in_paragraph && image_depth == 0 => paragraph.push(event),
            _ => {}
        }
    }
    None
}

/// The first image of a body, as written: its address (not yet made
/// absolute), alternative text and caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyImage {
    /// `src` as written.
    pub src: String,
    /// Alternative text, if any.
    pub alt: Option<String>,
    /// Caption: a Markdown image's title, or the `<figcaption>` of the
    /// `<figure>` an HTML image is in.
    pub caption: Option<String>,
}

/// The first image of `body`, found without rendering it: Markdown is
/// parsed only up to the image, HTML is scanned for the first `<img>`
/// (raw HTML in Markdown included).
pub fn first_image(body: &str, format: BodyFormat) -> Option<BodyImage> {
    match format {
        BodyFormat::Html => first_html_image(body),
        BodyFormat::Markdown => first_markdown_image(body),
    }
}

fn first_markdown_image(body: &str) -> Option<BodyImage> {
    // Raw HTML comes in pieces (one per line of an HTML block): gathered
    // until the next Markdown event, then scanned as one fragment.
    let mut raw = String::new();
    let mut events = Parser::new_ext(body, markdown_options());
    while let Some(event) = events.next() {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                raw.push_str(&html);
                continue;
            }
            _ if !raw.is_empty() => {
                if let Some(image) = first_html_image(&raw) {
                    return Some(image);
                }
                raw.clear();
            }
            _ => {}
        }
        if let Event::Start(Tag::Image { dest_url, title, .. }) = event {
            let mut alt = String::new();
            for event in events.by_ref() {
                match event {
                    Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                    Event::SoftBreak | Event::HardBreak => alt.push(' '),
                    Event::End(TagEnd::Image) => break,
                    _ => {}
                }
            }
            return Some(BodyImage { src: dest_url.to_string(), alt: non_empty(&alt), caption: non_empty(&title) });
        }
    }
    first_html_image(&raw)
}

/// The first `<img>` of an HTML fragment with an address (`src`, or the
/// `data-src` of a lazily loaded image), with its `alt` and, when it is in
/// a `<figure>`, that figure's `<figcaption>` text.
fn first_html_image(html: &str) -> Option<BodyImage> {
    // ASCII lower-casing keeps every byte offset.
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("<img") {
        let at = from + found;
        from = at + 4;
        if !lower[from..].starts_with(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>') {
            continue;
        }
        let end = tag_end(html, from);
        let attrs = attributes(&html[from..end]);
        let attr = |name: &str| attrs.iter().find(|(n, _)| n == name).map(|(_, v)| html_text(v));
        let src = attr("src").filter(|s| !s.trim().is_empty() && !s.trim_start().starts_with("data:"));
        let Some(src) = src.or_else(|| attr("data-src")).filter(|s| !s.trim().is_empty()) else { continue };
        let caption = figure_caption(html, &lower, at);
        return Some(BodyImage { src: src.trim().to_string(), alt: attr("alt").and_then(|a| non_empty(&a)), caption });
    }
    None
}

/// The text of the `<figcaption>` of the `<figure>` the tag at `at` is in.
fn figure_caption(html: &str, lower: &str, at: usize) -> Option<String> {
    let start = lower[..at].rfind("<figure")?;
    if lower[..at].rfind("</figure").is_some_and(|closed| closed > start) {
        return None;
    }
    let end = lower[at..].find("</figure").map_or(lower.len(), |e| at + e);
    let open = start + lower[start..end].find("<figcaption")?;
    let text_start = tag_end(html, open) + 1;
    let text_end = lower[text_start..end].find("</figcaption").map_or(end, |e| text_start + e);
    non_empty(&html_text(html.get(text_start..text_end)?))
}

/// The offset of the `>` closing the tag whose attributes start at `from`
/// (quoted values may hold `>`); the end of `html` when there is none.
fn tag_end(html: &str, from: usize) -> usize {
    let mut quote = None;
    for (i, c) in html[from..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return from + i,
            _ => {}
        }
    }
    html.len()
}

/// The attributes of a tag's inside (`src="a" alt='b' hidden`), names
/// lower-cased, values as written (entities not yet decoded).
fn attributes(inside: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = inside.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
    while !rest.is_empty() {
        let name_end = rest.find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/').unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (text, remaining) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                    Some(close) => (&after[1..1 + close], &after[close + 2..]),
                    None => (&after[1..], ""),
                },
                _ => {
                    let end = after.find(|c: char| c.is_ascii_whitespace()).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = text.to_string();
            rest = remaining;
        }
        if !name.is_empty() {
            out.push((name, value));
        }
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
    }
    out
}

fn non_empty(text: &str) -> Option<String> {
    let text = crate::text::clean_line(text);
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The text of an HTML fragment: tags removed, entities decoded.
fn html_text(fragment: &str) -> String {
    let escaped = ammonia::Builder::empty().clean(fragment).to_string();
    escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_body_image_is_found_with_alt_and_caption() {
        let md = "Lede.\n\n![Xuồng cứu hộ](/a.jpg \"Cứu hộ ở Kim Long\")\n\n![b](/b.jpg)\n";
        assert_eq!(
            first_image(md, BodyFormat::Markdown),
            Some(BodyImage {
                src: "/a.jpg".into(),
                alt: Some("Xuồng cứu hộ".into()),
                caption: Some("Cứu hộ ở Kim Long".into())
            })
        );
        assert_eq!(first_image("![](/c.jpg)", BodyFormat::Markdown).unwrap().alt, None);
        assert_eq!(first_image("No image.\n", BodyFormat::Markdown), None);
        // Raw HTML figures in Markdown, before a Markdown image.
        let mixed = "Lede.\n\n<figure>\n<img src=\"/f.jpg\" alt=\"F &amp; G\">\n<figcaption>Chú <em>thích</em></figcaption>\n</figure>\n\n![m](/m.jpg)\n";
        let found = first_image(mixed, BodyFormat::Markdown).unwrap();
        assert_eq!(
            (found.src.as_str(), found.alt.as_deref(), found.caption.as_deref()),
            ("/f.jpg", Some("F & G"), Some("Chú thích"))
        );
    }

    #[test]
    fn html_bodies_give_their_first_image_and_its_figure_caption() {
        let html = r#"<p>Lede</p><IMG data-src="/lazy.jpg" src="data:image/gif;base64,R0lG" alt='Ảnh "một"'>
<figure class="photo"><img src="/two.jpg" alt="Hai"><figcaption>Ảnh: <b>TTXVN</b></figcaption></figure>"#;
        let found = first_image(html, BodyFormat::Html).unwrap();
        assert_eq!(found, BodyImage { src: "/lazy.jpg".into(), alt: Some("Ảnh \"một\"".into()), caption: None });
        let figure = first_image(&html[html.find("<figure").unwrap()..], BodyFormat::Html).unwrap();
        assert_eq!(figure.caption.as_deref(), Some("Ảnh: TTXVN"));
        // An image after a closed figure is not captioned by it.
        let after = "<figure><figcaption>x</figcaption></figure><img src=\"/z.jpg\">";
        assert_eq!(first_image(after, BodyFormat::Html).unwrap().caption, None);
        assert_eq!(first_image("<imgx src=a><p>none</p>", BodyFormat::Html), None);
    }

    fn urls() -> (Url, Url) {
        (
            Url::parse("https://news.example.vn/").unwrap(),
            Url::parse("https://news.example.vn/vi/thoi-su/bai/").unwrap(),
        )
    }

    fn render(md: &str) -> String {
        let (base, permalink) = urls();
        render_body(md, BodyFormat::Markdown, &base, &permalink)
    }

    #[test]
    fn scripts_handlers_and_javascript_urls_are_removed() {
        let html = render(
            "Hi <script>alert(1)</script><a href=\"javascript:alert(1)\" onclick=\"x()\">x</a> <img src=x onerror=alert(1)>",
        );
        assert!(!html.contains("script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn relative_links_and_images_become_absolute() {
        let html = render("[a](/vi/khac/) [b](anh.jpg) ![c](/img/c.png)");
        assert!(html.contains("href=\"https://news.example.vn/vi/khac/\""), "{html}");
        assert!(html.contains("href=\"https://news.example.vn/vi/thoi-su/bai/anh.jpg\""), "{html}");
        assert!(html.contains("src=\"https://news.example.vn/img/c.png\""), "{html}");
    }

    #[test]
    fn captioned_photo_becomes_figure() {
        let html = render("Đoạn một.\n\n![Cầu Rồng](/img/cau.jpg \"Cầu Rồng lúc hoàng hôn\")\n\nĐoạn hai.");
        assert!(
            html.contains("<figure><img src=\"https://news.example.vn/img/cau.jpg\" alt=\"Cầu Rồng\"><figcaption>Cầu Rồng lúc hoàng hôn</figcaption></figure>"),
            "{html}"
        );
    }

    #[test]
    fn tables_footnotes_and_headings_render() {
        let html = render("## Tiêu đề phụ\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nVăn bản[^1].\n\n[^1]: Chú thích.");
        assert!(html.contains("<h2>Tiêu đề phụ</h2>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("Chú thích."), "{html}");
    }

    /// A fuzzing finding: NFC after sanitising composed the `>` ending a tag
    /// with U+0338 into `≯`, so the text after it became live attributes.
    #[test]
    fn a_combining_overlay_after_a_tag_never_joins_the_markup() {
        let (base, permalink) = urls();
        for (body, format) in [
            ("\u{338} onmouseover=alert(1) x", BodyFormat::Markdown),
            ("*x*\u{338} onclick=alert(1)", BodyFormat::Markdown),
            ("<p>&#x338; onmouseover=alert(1)</p>", BodyFormat::Html),
            ("<p>&#x301;&#x338; onmouseover=alert(1)</p>", BodyFormat::Html),
            ("<p title=\"&#x3e;&#x338;\">&lt;&#x338; onmouseover=alert(1)</p>", BodyFormat::Html),
        ] {
            let html = render_body(body, format, &base, &permalink);
            // The attribute is still text once every tag is stripped.
            assert!(
                html_text(&html).contains("onmouseover=alert(1)") || html_text(&html).contains("onclick=alert(1)"),
                "{body:?} → {html:?}"
            );
            assert!(!html.contains('\u{226F}') && !html.contains('\u{226E}'), "{body:?} → {html:?}");
            assert!(html.starts_with("<p>") || html.starts_with("<p title="), "{body:?} → {html:?}");
        }
        // The overlay itself survives, as a reference.
        let html = render_body("\u{338}x", BodyFormat::Markdown, &base, &permalink);
        assert_eq!(html, "<p>&#x338;x</p>");
        let html = render_body("<p>\u{338} onmouseover=alert(1)</p>", BodyFormat::Html, &base, &permalink);
        assert_eq!(html, "<p>&#x338; onmouseover=alert(1)</p>");
        // Text composed by the writer stays composed: `a` + U+0338 is NFC's own business.
        assert_eq!(render_body("=\u{338} e\u{301}", BodyFormat::Markdown, &base, &permalink), "<p>\u{2260} \u{E9}</p>");
    }

    #[test]
    fn first_paragraph_skips_headings_and_images() {
        let md = "## Heading\n\n![photo](a.jpg)\n\nThe *lede* of the\nstory.\n\nSecond.";
        assert_eq!(first_paragraph_text(md, BodyFormat::Markdown), "The lede of the story.");
        assert_eq!(first_paragraph_text("<p>A &amp; <b>B</b></p>", BodyFormat::Html), "A & B");
        let with_script = "<script>alert(1)</script>\n\nExports <script>alert(2)</script>rose.";
        assert_eq!(first_paragraph_text(with_script, BodyFormat::Markdown), "Exports rose.");
    }

    /// The first paragraph read from the whole body, never from a beginning.
    fn whole_body_first_paragraph(body: &str) -> String {
        first_paragraph_with_text(Parser::new_ext(body, markdown_options())).map(|p| p.text).unwrap_or_default()
    }

    #[test]
    fn a_lede_is_read_from_the_beginning_of_the_body() {
        let body = "\nThe *lede* of the\nstory.\n\n![photo](a.jpg \"A caption\")\n\n## More\n\nSecond [x][later].\n\n[later]: /x\n";
        assert_eq!(leading_paragraph(body).as_deref(), Some("The lede of the story."));
        // A reference defined later, or a list that may turn loose later:
        // the whole body is read.
        assert_eq!(leading_paragraph("See [x][later].\n\nMore.\n\n[later]: /x\n"), None);
        assert_eq!(first_paragraph_text("See [x][later].\n\nMore.\n\n[later]: /x\n", BodyFormat::Markdown), "See x.");
        assert_eq!(leading_paragraph("- a\n- b\n\n- c\n\nText.\n"), None);
        assert_eq!(first_paragraph_text("- a\n- b\n\n- c\n\nText.\n", BodyFormat::Markdown), "a");
        // A paragraph inside a list that a later blank line turns loose.
        assert_eq!(leading_paragraph("- a\n- > quote\n\n- c\n"), None);
        assert_eq!(first_paragraph_text("- a\n- > quote\n\n- c\n", BodyFormat::Markdown), "a");
    }

    /// Lines that make every kind of block, and the references, lists and
    /// footnotes that reach across blank lines.
    const LINES: &[&str] = &[
        "",
        "",
        "",
        "  ",
        "\t",
        "Plain text.",
        "Text with *em*, `code` & <b>bold</b>.",
        "Lazy line",
        "## Heading",
        "===",
        "---",
        "***",
        "| a | b |",
        "|---|---|",
        "- item",
        "- other item",
        "  continued",
        "1. first",
        "    - nested",
        "> quote",
        ">",
        "- > quoted item",
        "> - listed quote",
        "  > quote in an item",
        "![alt](img.jpg)",
        "![alt](img.jpg \"caption\")",
        "![alt][ref]",
        "[link][ref]",
        "[ref]",
        "[ref]: /url",
        "[other]: /x \"t\"",
        "Note[^1] here",
        "[^1]: A footnote.",
        "```",
        "~~~",
        "    indented code",
        "<div>",
        "</div>",
        "<!--",
        "-->",
        "<script>alert(1)</script>",
        "Tail text.",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn the_beginning_gives_the_whole_bodys_first_paragraph(lines in proptest::collection::vec(0..LINES.len(), 0..24)) {
            let body: String = lines.iter().map(|&i| format!("{}\n", LINES[i])).collect();
            if let Some(fast) = leading_paragraph(&body) {
                proptest::prop_assert_eq!(fast, whole_body_first_paragraph(&body), "body: {:?}", body);
            }
            proptest::prop_assert_eq!(
                first_paragraph_text(&body, BodyFormat::Markdown),
                whole_body_first_paragraph(&body)
            );
        }
    }
}
