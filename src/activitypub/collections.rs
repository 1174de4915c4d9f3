//! The collections of each actor: its outbox (a paged `OrderedCollection`
//! of the `Create` of every visible article, newest first, so a new
//! follower's server can backfill the whole history), its followers (the
//! count; the members are not shown) and its following (empty); and each
//! note at its id.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::activities::{self, CONTEXT};
use super::actors::{Actor, Directory};
use crate::article::Article;
use crate::catalog::Catalog;
use crate::config::Config;

/// The actors and the articles each publishes, newest first: what the
/// collections are served from, replaced whole after each site update.
#[derive(Debug, Default)]
pub struct ArticleIndex {
    directory: Directory,
    articles: BTreeMap<String, Vec<Arc<Article>>>,
    local_posts: usize,
}

impl ArticleIndex {
    /// The index of `catalog`'s visible articles under `config`.
    pub fn build(catalog: &Catalog, config: &Config) -> ArticleIndex {
        let directory = Directory::build(config, catalog.placements().map(|p| (p.lang.as_str(), p.section.as_str())));
        let articles = directory
            .iter()
            .map(|actor| {
                let list: Vec<Arc<Article>> = match &actor.section {
                    None => catalog.in_language(&actor.lang).cloned().collect(),
                    Some(section) => catalog.in_section(&actor.lang, section).cloned().collect(),
                };
                (actor.username.clone(), list)
            })
            .collect();
        ArticleIndex { directory, articles, local_posts: catalog.count_all() }
    }

    /// The actors.
    pub fn actors(&self) -> &Directory {
        &self.directory
    }

    /// Every actor.
    pub fn iter(&self) -> impl Iterator<Item = &Actor> {
        self.directory.iter()
    }

    /// The actor named `username`.
    pub fn get(&self, username: &str) -> Option<&Actor> {
        self.directory.get(username)
    }

    /// Visible articles in all.
    pub fn local_posts(&self) -> usize {
        self.local_posts
    }

    /// The articles `username` publishes, newest first.
    pub fn articles_of(&self, username: &str) -> &[Arc<Article>] {
        self.articles.get(username).map_or(&[], Vec::as_slice)
    }
}

/// The outbox of `actor`: the collection (`page` `None`) or one page.
pub fn outbox(actor: &Actor, index: &ArticleIndex, config: &Config, page: Option<usize>) -> Value {
    let id = format!("{}/outbox", actor.id(config));
    let articles = index.articles_of(&actor.username);
    let size = config.activitypub.outbox_page_size.max(1);
    let pages = articles.len().div_ceil(size).max(1);
    let Some(page) = page else {
        return json!({
            "@context": CONTEXT,
            "id": id,
            "type": "OrderedCollection",
            "totalItems": articles.len(),
            "first": format!("{id}?page=1"),
            "last": format!("{id}?page={pages}"),
        });
    };
    let items: Vec<Value> = articles
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|article| {
            let mut create = activities::create_or_update("Create", actor, article, 1, config);
            if let Some(map) = create.as_object_mut() {
                map.remove("@context");
            }
            create
        })
        .collect();
    let mut doc = json!({
        "@context": CONTEXT,
        "id": format!("{id}?page={page}"),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "orderedItems": items,
    });
    if page < pages {
        doc["next"] = format!("{id}?page={}", page + 1).into();
    }
    if page > 1 {
        doc["prev"] = format!("{id}?page={}", page - 1).into();
    }
    doc
}

/// The followers collection: how many, not who.
pub fn followers(actor: &Actor, config: &Config, count: u64) -> Value {
    json!({
        "@context": CONTEXT,
        "id": format!("{}/followers", actor.id(config)),
        "type": "OrderedCollection",
        "totalItems": count,
    })
}

/// The following collection: herald's actors follow nobody.
pub fn following(actor: &Actor, config: &Config) -> Value {
    json!({
        "@context": CONTEXT,
        "id": format!("{}/following", actor.id(config)),
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    })
}

/// The note `object` (the last part of its id) of `actor`, if it is one of
/// its visible articles.
pub fn note(actor: &Actor, index: &ArticleIndex, config: &Config, object: &str) -> Option<Value> {
    let wanted = format!("{}/notes/{object}", actor.id(config));
    let article = index
        .articles_of(&actor.username)
        .iter()
        .find(|article| activities::object_id(actor, &article.id, config) == wanted)?;
    let mut note = activities::note(actor, article, config);
    note["@context"] = CONTEXT.into();
    Some(note)
}
