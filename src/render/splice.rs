//! Re-rendering a feed document by its items: a document is a header, its
//! items one after the other, and a closing tail, and an item's bytes
//! depend on nothing but the item. So when a few items of a document
//! change, the new document is the new header, the bytes of the unchanged
//! items copied from the old document, the changed items written afresh,
//! and the tail: work proportional to the change, not to the document (an
//! archive month of a large site holds a thousand items and weighs
//! megabytes).
//!
//! The writers give the pieces: [`format_bytes`] with no items is the
//! header and the tail; with one item, the header, that item and the tail.
//! Every piece is checked against the shape expected; anything unexpected
//! falls back to writing the whole document. Debug builds (the tests)
//! compare every assembled document with the whole document written at
//! once.

use std::collections::HashMap;
use std::sync::Arc;

use super::feed::{FeedDoc, FeedFormat, FeedItem};
use super::{ATOM_CONTENT_TYPE, JSON_FEED_CONTENT_TYPE, RSS_CONTENT_TYPE, atom, json_feed, rss};
use crate::article::Article;
use crate::config::Config;
use crate::snapshot::{Resource, ResourceKind};

/// The bytes of `doc` in `format` with `items` (some of its items, or all)
/// as its items: what the renderer's `render_doc` publishes when `items`
/// is all of them.
pub fn format_bytes(doc: &FeedDoc, items: &[FeedItem], format: FeedFormat, config: &Config) -> Vec<u8> {
    writer_bytes(doc, items, format, config)
}

/// What the format's writer gives for `doc` with `items`.
fn writer_bytes(doc: &FeedDoc, items: &[FeedItem], format: FeedFormat, config: &Config) -> Vec<u8> {
    match format {
        FeedFormat::Rss => rss::write_items(doc, items, config),
        FeedFormat::Atom => atom::write_items(doc, items, config),
        FeedFormat::Json => json_feed::write_items(doc, items, config),
    }
}

/// The `Content-Type` of `format`.
pub fn content_type(format: FeedFormat) -> &'static str {
    match format {
        FeedFormat::Rss => RSS_CONTENT_TYPE,
        FeedFormat::Atom => ATOM_CONTENT_TYPE,
        FeedFormat::Json => JSON_FEED_CONTENT_TYPE,
    }
}

/// How a format closes its document, and separates items.
struct Shape {
    /// What follows the header when there is no item.
    empty_tail: &'static [u8],
    /// What follows the last item.
    tail: &'static [u8],
    /// What goes between two items.
    separator: &'static [u8],
}

fn shape(format: FeedFormat) -> Shape {
    match format {
        // Items are the last children of <channel> and of <feed>.
        FeedFormat::Rss => {
            Shape { empty_tail: b"\n  </channel>\n</rss>\n", tail: b"\n  </channel>\n</rss>\n", separator: b"" }
        }
        FeedFormat::Atom => Shape { empty_tail: b"\n</feed>\n", tail: b"\n</feed>\n", separator: b"" },
        // "items" is the last member: `[]` when empty, else one item per
        // line, comma-separated.
        FeedFormat::Json => Shape { empty_tail: b"]\n}\n", tail: b"\n  ]\n}\n", separator: b"," },
    }
}

/// The header of `doc` in `format`: its bytes written with no items, less
/// the format's closing tail; `None` if they do not end with it.
pub fn head(doc: &FeedDoc, format: FeedFormat, config: &Config) -> Option<Vec<u8>> {
    let mut empty = format_bytes(doc, &[], format, config);
    strip_empty_tail(&mut empty, format).then_some(empty)
}

/// [`head`] of `stub` as the format's writer gives it: what
/// [`push_piece`] takes.
pub fn stub_head(stub: &FeedDoc, format: FeedFormat, config: &Config) -> Option<Vec<u8>> {
    let mut empty = writer_bytes(stub, &[], format, config);
    strip_empty_tail(&mut empty, format).then_some(empty)
}

/// Removes the closing tail of a document with no items; false if it does
/// not end with it.
fn strip_empty_tail(empty: &mut Vec<u8>, format: FeedFormat) -> bool {
    let tail = shape(format).empty_tail;
    let ends = empty.ends_with(tail);
    if ends {
        empty.truncate(empty.len() - tail.len());
    }
    ends
}

/// Appends to `out` the bytes of `item` as it stands among the items of any
/// document in `format`: written into `stub` (whose header, from
/// [`stub_head`], is `stub_head`), less that header and the tail. False, with `out` left
/// as it was, if the bytes do not have that shape.
pub fn push_piece(
    stub: &FeedDoc,
    stub_head: &[u8],
    item: &FeedItem,
    format: FeedFormat,
    config: &Config,
    out: &mut Vec<u8>,
) -> bool {
    let one = writer_bytes(stub, std::slice::from_ref(item), format, config);
    match one.strip_prefix(stub_head).and_then(|rest| rest.strip_suffix(shape(format).tail)) {
        Some(piece) => {
            out.extend_from_slice(piece);
            true
        }
        None => false,
    }
}

/// `doc` in `format` assembled from its header and `pieces`, the bytes of
/// its items in order ([`push_piece`]); `None` if the header has not the
/// expected shape.
pub fn join<'a>(
    doc: &FeedDoc,
    format: FeedFormat,
    config: &Config,
    pieces: impl ExactSizeIterator<Item = &'a [u8]> + Clone,
) -> Option<Vec<u8>> {
    let shape = shape(format);
    let head = head(doc, format, config)?;
    if pieces.len() == 0 {
        let mut out = head;
        out.extend_from_slice(shape.empty_tail);
        return Some(out);
    }
    let total: usize = pieces.clone().map(<[u8]>::len).sum::<usize>() + pieces.len() * shape.separator.len();
    let mut out = Vec::with_capacity(head.len() + total + shape.tail.len());
    out.extend_from_slice(&head);
    for (i, piece) in pieces.enumerate() {
        if i > 0 {
            out.extend_from_slice(shape.separator);
        }
        out.extend_from_slice(piece);
    }
    out.extend_from_slice(shape.tail);
    Some(out)
}

/// Where the items of a rendered document lie in its bytes, in each
/// format, and what they were rendered from.
#[derive(Debug)]
pub struct Layout {
    /// Each item's article and body (as rendered), in order.
    items: Vec<(Arc<Article>, Option<Arc<str>>)>,
    /// Where each article is among the items, by its address (the
    /// articles are held above, so no address is reused meanwhile).
    index: HashMap<usize, usize>,
    /// Per format, in [`FeedFormat::ALL`] order.
    formats: Vec<FormatLayout>,
}

#[derive(Debug)]
struct FormatLayout {
    /// The ETag of the bytes this describes.
    etag: String,
    /// Length of the header.
    head: usize,
    /// Length of each item (without separators).
    lengths: Vec<usize>,
}

impl Layout {
    /// Whether the document holds an item for this very version of
    /// `article`.
    pub fn holds(&self, article: &Arc<Article>) -> bool {
        self.index.contains_key(&(Arc::as_ptr(article) as usize))
    }
}

/// The previous rendering of a document: its layout, and its files now
/// (in [`FeedFormat::ALL`] order).
pub struct Previous<'a> {
    /// How it was laid out.
    pub layout: &'a Layout,
    /// Its files, if still there.
    pub files: [Option<&'a Arc<Resource>>; 3],
}

/// Renders `doc` in the three formats (`(path, resource)` pairs as
/// `render_doc` gives them), copying from `previous` the bytes of
/// every item with the same article and body, unless `stale` says its
/// bytes may have changed anyway (another version of its story moved).
/// Also returns the new layout, if it could be established.
///
/// `doc` may hold placeholders ([`FeedItem::is_placeholder`]) for items
/// whose bytes can be copied; `complete` then gives the document with
/// every item, for when they cannot.
pub fn render(
    doc: &FeedDoc,
    complete: Option<&dyn Fn() -> FeedDoc>,
    config: &Config,
    kind: ResourceKind,
    path_of: impl Fn(FeedFormat) -> String,
    previous: Option<Previous<'_>>,
    stale: impl Fn(&Article) -> bool,
) -> (Vec<(String, Resource)>, Option<Layout>) {
    let last_modified = Some(doc.updated);
    let reusable: Vec<Option<usize>> = doc
        .items
        .iter()
        .map(|item| {
            let layout = previous.as_ref()?.layout;
            let at = *layout.index.get(&(Arc::as_ptr(&item.article) as usize))?;
            let (_, body) = &layout.items[at];
            let same_body = match (body, &item.content_html) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            (same_body && !stale(&item.article)).then_some(at)
        })
        .collect();
    let whole_doc = std::cell::OnceCell::new();
    let whole = || match complete {
        Some(complete) => whole_doc.get_or_init(complete),
        None => doc,
    };
    let mut files = Vec::with_capacity(3);
    let mut formats = Vec::with_capacity(3);
    for (n, format) in FeedFormat::ALL.into_iter().enumerate() {
        let old = previous.as_ref().and_then(|p| {
            let file = p.files[n]?;
            let layout = p.layout.formats.get(n)?;
            (layout.etag == file.etag).then_some((layout, file))
        });
        let (bytes, layout) = match assemble(doc, format, config, old, &reusable) {
            Some((bytes, layout)) => (bytes, Some(layout)),
            None => (format_bytes(whole(), &whole().items, format, config), None),
        };
        debug_assert!(
            bytes == format_bytes(whole(), &whole().items, format, config),
            "{}: the assembled document differs from the one written at once",
            path_of(format)
        );
        let resource = Resource::new(kind, bytes, content_type(format), last_modified);
        if let Some(mut layout) = layout {
            layout.etag = resource.etag.clone();
            formats.push(layout);
        }
        files.push((path_of(format), resource));
    }
    let layout = (formats.len() == 3).then(|| Layout {
        items: doc.items.iter().map(|i| (Arc::clone(&i.article), i.content_html.clone())).collect(),
        index: doc.items.iter().enumerate().map(|(n, i)| (Arc::as_ptr(&i.article) as usize, n)).collect(),
        formats,
    });
    (files, layout)
}

/// `doc` in `format` from its pieces, copying the items `reusable` names
/// from `old`; `None` if a piece does not have the expected shape.
fn assemble(
    doc: &FeedDoc,
    format: FeedFormat,
    config: &Config,
    old: Option<(&FormatLayout, &Arc<Resource>)>,
    reusable: &[Option<usize>],
) -> Option<(Vec<u8>, FormatLayout)> {
    let shape = shape(format);
    let empty = format_bytes(doc, &[], format, config);
    let head = empty.strip_suffix(shape.empty_tail)?;
    if doc.items.is_empty() {
        let layout = FormatLayout { etag: String::new(), head: head.len(), lengths: Vec::new() };
        return Some((empty, layout));
    }
    // Where each old item starts.
    let old_starts: Vec<usize> = match old {
        Some((layout, _)) => {
            let mut at = layout.head;
            layout
                .lengths
                .iter()
                .enumerate()
                .map(|(i, length)| {
                    if i > 0 {
                        at += shape.separator.len();
                    }
                    let start = at;
                    at += length;
                    start
                })
                .collect()
        }
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(old.map_or(empty.len() + doc.items.len() * 2048, |(_, r)| r.body.len() + 4096));
    out.extend_from_slice(head);
    let mut lengths = Vec::with_capacity(doc.items.len());
    for (i, item) in doc.items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(shape.separator);
        }
        let copied = match (old, reusable[i]) {
            (Some((layout, file)), Some(at)) => {
                let start = *old_starts.get(at)?;
                let length = *layout.lengths.get(at)?;
                out.extend_from_slice(file.body.get(start..start + length)?);
                Some(length)
            }
            _ => None,
        };
        let length = match copied {
            Some(length) => length,
            None if item.is_placeholder() => return None,
            None => {
                let one = format_bytes(doc, std::slice::from_ref(item), format, config);
                let piece = one.strip_prefix(head)?.strip_suffix(shape.tail)?;
                out.extend_from_slice(piece);
                piece.len()
            }
        };
        lengths.push(length);
    }
    out.extend_from_slice(shape.tail);
    Some((out, FormatLayout { etag: String::new(), head: head.len(), lengths }))
}
