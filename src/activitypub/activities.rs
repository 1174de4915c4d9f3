//! The activities herald's actors send: an article as a `Note` in a
//! `Create` (published), an `Update` (changed) or a `Delete` with a
//! `Tombstone` (unpublished), and the `Accept` of a `Follow`.
//!
//! An article is a `Note`, not an `Article`: Mastodon shows a `Note`'s
//! content, hashtags and image attachments (with their alt text) as a post,
//! while it turns an `Article` into its title and a link and drops the
//! rest. So the note's content is the title (bold), the summary and the
//! link; the image is an attachment; tags are `Hashtag`s. The article's
//! summary is not put in `summary`, which Mastodon shows as a content
//! warning.

use serde_json::{Value, json};

use super::actors::{Actor, actor_id};
use crate::article::Article;
use crate::config::Config;
use crate::text::escape_html;

/// The audience every article is addressed to.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
/// The ActivityStreams context.
pub const CONTEXT: &str = "https://www.w3.org/ns/activitystreams";

/// The id of the note of article `article_id` by `actor` (one object per
/// actor: the section's and the language's actor each post their own).
pub fn object_id(actor: &Actor, article_id: &str, config: &Config) -> String {
    format!("{}/notes/{:032x}", actor.id(config), crate::article::digest(article_id.as_bytes()))
}

/// `article` as a `Note` by `actor`.
pub fn note(actor: &Actor, article: &Article, config: &Config) -> Value {
    let id = actor.id(config);
    let mut content = format!("<p><strong>{}</strong></p>", escape_html(&article.title));
    if !article.summary.is_empty() {
        content.push_str(&format!("<p>{}</p>", escape_html(&article.summary)));
    }
    let url = escape_html(&article.url);
    content.push_str(&format!("<p><a href=\"{url}\">{url}</a></p>"));
    let tags: Vec<Value> = article
        .tags
        .iter()
        .filter_map(|tag| hashtag(tag))
        .map(|name| json!({ "type": "Hashtag", "name": name }))
        .collect();
    let attachments: Vec<Value> = article
        .images
        .iter()
        .take(4)
        .map(|image| {
            let mut attachment = json!({ "type": "Image", "url": image.src });
            if let Some(media_type) = image.media_type() {
                attachment["mediaType"] = media_type.into();
            }
            if let Some(alt) = image.alt.as_ref().or(image.caption.as_ref()) {
                attachment["name"] = alt.clone().into();
            }
            attachment
        })
        .collect();
    let mut note = json!({
        "id": object_id(actor, &article.id, config),
        "type": "Note",
        "attributedTo": id,
        "content": content,
        "contentMap": { article.lang.clone(): content },
        "url": article.url,
        "published": rfc3339(article.visible_from()),
        "to": [PUBLIC],
        "cc": [format!("{id}/followers")],
        "sensitive": false,
        "tag": tags,
        "attachment": attachments,
    });
    if let Some(updated) = article.lastmod.filter(|l| *l > article.visible_from()) {
        note["updated"] = rfc3339(updated).into();
    }
    note
}

/// The `Create` (`kind` "Create") or `Update` of `article`'s note; the
/// activity id carries the article's event number, so each is distinct.
pub fn create_or_update(kind: &str, actor: &Actor, article: &Article, sequence: i64, config: &Config) -> Value {
    let object = note(actor, article, config);
    let id = actor.id(config);
    json!({
        "@context": CONTEXT,
        "id": format!("{}#{}-{sequence}", object["id"].as_str().unwrap_or_default(), kind.to_ascii_lowercase()),
        "type": kind,
        "actor": id,
        "published": object["published"],
        "to": [PUBLIC],
        "cc": [format!("{id}/followers")],
        "object": object,
    })
}

/// The `Delete` of the note of article `article_id`.
pub fn delete(actor: &Actor, article_id: &str, sequence: i64, config: &Config) -> Value {
    let object = object_id(actor, article_id, config);
    let id = actor.id(config);
    json!({
        "@context": CONTEXT,
        "id": format!("{object}#delete-{sequence}"),
        "type": "Delete",
        "actor": id,
        "to": [PUBLIC],
        "cc": [format!("{id}/followers")],
        "object": { "id": object, "type": "Tombstone" },
    })
}

/// The `Accept` of `follow` (the activity as received) by `username`.
pub fn accept(username: &str, follow: &Value, config: &Config) -> Value {
    let id = actor_id(username, config);
    let follow_id = follow.get("id").and_then(Value::as_str).unwrap_or_default();
    json!({
        "@context": CONTEXT,
        "id": format!("{id}#accepts/{:032x}", crate::article::digest(follow_id.as_bytes())),
        "type": "Accept",
        "actor": id,
        "object": follow,
    })
}

/// `tag` as a hashtag name: `#` and its words run together, each
/// capitalised (`Thừa Thiên Huế` → `#ThừaThiênHuế`); letters, digits and
/// `_` only. `None` when nothing is left.
pub fn hashtag(tag: &str) -> Option<String> {
    let mut name = String::from("#");
    for word in tag.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    (name.len() > 1).then_some(name)
}

/// A time as ActivityStreams writes it (`2026-12-07T10:00:00Z`).
pub fn rfc3339(at: jiff::Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_hashtags() {
        assert_eq!(hashtag("Thừa Thiên Huế").as_deref(), Some("#ThừaThiênHuế"));
        assert_eq!(hashtag("covid-19").as_deref(), Some("#Covid19"));
        assert_eq!(hashtag(" - ").as_deref(), None);
    }
}
