//! herald's actors: one per language and one per section in each language,
//! their addresses, and their documents (JSON for servers, HTML for
//! people).
//!
//! The type is `Service`: Mastodon lists Person, Service, Group,
//! Organization and Application accounts alike and lets readers follow
//! each; `Service` is the honest one for an account that posts by itself
//! (Mastodon labels it "Automated"), and it has none of `Group`'s
//! semantics (Lemmy, Friendica and WordPress's multi-author blog actor
//! use `Group` for a forum others post into by mentioning it; herald's
//! actors take no posts).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::{Config, actor_path, handle_host};
use crate::render::feed::FeedScope;
use crate::text::escape_html;

/// The JSON-LD contexts of an actor document.
const ACTOR_CONTEXT: [&str; 2] = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"];

/// One of herald's actors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Actor {
    /// Its username (`preferredUsername`).
    pub username: String,
    /// Its language.
    pub lang: String,
    /// Its section, for a section's actor.
    pub section: Option<String>,
}

impl Actor {
    /// Its id (a URL).
    pub fn id(&self, config: &Config) -> String {
        actor_id(&self.username, config)
    }

    /// The feed scope it publishes.
    pub fn scope(&self) -> FeedScope {
        match &self.section {
            None => FeedScope::Language(self.lang.clone()),
            Some(section) => FeedScope::Section { lang: self.lang.clone(), section: section.clone() },
        }
    }

    /// Its display name: the feed's title.
    pub fn name(&self, config: &Config) -> String {
        let title = config.site_title(&self.lang);
        match &self.section {
            None => title.to_string(),
            Some(section) => format!("{} – {title}", config.section_title(section, &self.lang)),
        }
    }

    /// `@username@host`.
    pub fn handle(&self, config: &Config) -> String {
        format!("@{}@{}", self.username, handle_host(&config.site.base_url))
    }
}

/// The id of the actor named `username`.
pub fn actor_id(username: &str, config: &Config) -> String {
    config.url_for(&actor_path(username))
}

/// The URL of the shared inbox.
pub fn shared_inbox(config: &Config) -> String {
    config.url_for("/ap/inbox")
}

/// Every actor, by username.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    by_name: BTreeMap<String, Actor>,
}

impl Directory {
    /// The actors of `config`'s languages and of each `(lang, section)`
    /// with articles. When two would share a username, the first (a
    /// language before sections, then in order) keeps it and the other is
    /// reported and left out.
    pub fn build<'a>(config: &Config, placements: impl Iterator<Item = (&'a str, &'a str)>) -> Directory {
        let default = &config.site.default_language;
        let mut by_name = BTreeMap::new();
        let mut add = |actor: Actor| {
            if let Some(other) = by_name.get(&actor.username) {
                if other != &actor {
                    tracing::error!(
                        "ActivityPub: {actor:?} would be @{} like {other:?}; set one in [activitypub.usernames]",
                        actor.username
                    );
                }
                return;
            }
            by_name.insert(actor.username.clone(), actor);
        };
        for language in &config.languages {
            let username = config.activitypub.username(&language.code, None, default);
            add(Actor { username, lang: language.code.clone(), section: None });
        }
        for (lang, section) in placements {
            let username = config.activitypub.username(lang, Some(section), default);
            add(Actor { username, lang: lang.to_string(), section: Some(section.to_string()) });
        }
        Directory { by_name }
    }

    /// The actor named `username`.
    pub fn get(&self, username: &str) -> Option<&Actor> {
        self.by_name.get(username)
    }

    /// Every actor, by username.
    pub fn iter(&self) -> impl Iterator<Item = &Actor> {
        self.by_name.values()
    }

    /// The actors that announce an article of `section` in `lang`: the
    /// section's, then the language's.
    pub fn announcing(&self, lang: &str, section: &str) -> Vec<&Actor> {
        let section_actor = self.iter().find(|a| a.lang == lang && a.section.as_deref() == Some(section));
        let language_actor = self.iter().find(|a| a.lang == lang && a.section.is_none());
        section_actor.into_iter().chain(language_actor).collect()
    }

    /// How many actors there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The actor document of `actor`, with its public key.
pub fn document(actor: &Actor, config: &Config, public_pem: &str) -> Value {
    let id = actor.id(config);
    let lang = &actor.lang;
    let summary = match &actor.section {
        None => config.site_description(lang).to_string(),
        Some(section) => format!("{} – {}", config.section_title(section, lang), config.site_description(lang)),
    };
    let mut doc = json!({
        "@context": ACTOR_CONTEXT,
        "id": id,
        "type": "Service",
        "preferredUsername": actor.username,
        "name": actor.name(config),
        "summary": escape_html(&summary),
        "url": actor.scope().home_url(config),
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "followers": format!("{id}/followers"),
        "following": format!("{id}/following"),
        "endpoints": { "sharedInbox": shared_inbox(config) },
        "manuallyApprovesFollowers": false,
        "discoverable": config.activitypub.discoverable,
        "indexable": config.activitypub.indexable,
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_pem },
    });
    if let Some(logo) = &config.site.logo {
        doc["icon"] = json!({ "type": "Image", "url": logo.as_str() });
        doc["image"] = json!({ "type": "Image", "url": logo.as_str() });
    }
    doc
}

/// The HTML page of `actor` for people who open its address in a browser:
/// its handle, what it publishes and its feed, and how many follow it.
pub fn page(actor: &Actor, config: &Config, followers: u64) -> String {
    let name = escape_html(&actor.name(config));
    let handle = escape_html(&actor.handle(config));
    let home = escape_html(&actor.scope().home_url(config));
    let feed = escape_html(&config.url_for(&actor.scope().path(crate::render::feed::FeedFormat::Rss, config)));
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{name}</title>\n\
         <link rel=\"alternate\" type=\"application/activity+json\" href=\"{id}\">\n</head>\n<body>\n\
         <h1>{name}</h1>\n<p>Follow <strong>{handle}</strong> from Mastodon or any fediverse server.</p>\n\
         <p>{followers} followers · <a href=\"{home}\">{home}</a> · <a href=\"{feed}\">RSS</a></p>\n</body>\n</html>\n",
        lang = escape_html(&actor.lang),
        id = escape_html(&actor.id(config)),
    )
}
