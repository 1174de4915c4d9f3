//! Finding herald's actors: WebFinger (RFC 7033) for `acct:user@host` and
//! for an actor's URL, NodeInfo 2.1 and its `/.well-known/nodeinfo` index,
//! and `/.well-known/host-meta` (RFC 6415) for servers that look there
//! first.

use serde_json::{Value, json};

use super::actors::{Actor, Directory};
use crate::config::{Config, handle_host};

/// Why a WebFinger query has no answer: the status and the reason.
pub type Refusal = (http::StatusCode, &'static str);

/// The JRD answering WebFinger's `resource`, or why not.
pub fn webfinger(resource: &str, directory: &Directory, config: &Config) -> Result<Value, Refusal> {
    let actor = resolve(resource, directory, config)?;
    let id = actor.id(config);
    Ok(json!({
        "subject": format!("acct:{}@{}", actor.username, handle_host(&config.site.base_url)),
        "aliases": [id],
        "links": [
            { "rel": "self", "type": "application/activity+json", "href": id },
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.scope().home_url(config) },
        ],
    }))
}

/// The actor `resource` names: `acct:user@host` (or `user@host`) with this
/// site's host and port, or the actor's URL.
fn resolve<'a>(resource: &str, directory: &'a Directory, config: &Config) -> Result<&'a Actor, Refusal> {
    use http::StatusCode;
    let not_found = (StatusCode::NOT_FOUND, "no such actor here\n");
    if resource.starts_with("http://") || resource.starts_with("https://") {
        return directory.iter().find(|a| a.id(config) == resource).ok_or(not_found);
    }
    let acct = resource.strip_prefix("acct:").unwrap_or(resource);
    let acct = acct.strip_prefix('@').unwrap_or(acct);
    let (user, host) = acct.rsplit_once('@').ok_or((StatusCode::BAD_REQUEST, "resource is not acct:user@host\n"))?;
    if !host.eq_ignore_ascii_case(&handle_host(&config.site.base_url)) {
        return Err(not_found);
    }
    directory.get(&user.to_ascii_lowercase()).ok_or(not_found)
}

/// The `/.well-known/nodeinfo` index.
pub fn nodeinfo_index(config: &Config) -> Value {
    json!({
        "links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
            "href": config.url_for("/nodeinfo/2.1"),
        }]
    })
}

/// NodeInfo 2.1: software, protocols, and the actors as users;
/// `local_posts` is the number of visible articles.
pub fn nodeinfo(config: &Config, actors: usize, local_posts: usize) -> Value {
    json!({
        "version": "2.1",
        "software": {
            "name": "herald",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": ["atom1.0", "rss2.0"] },
        "openRegistrations": false,
        "usage": {
            "users": { "total": actors, "activeMonth": actors, "activeHalfyear": actors },
            "localPosts": local_posts,
        },
        "metadata": { "nodeName": config.site_title(&config.site.default_language) },
    })
}

/// The host-meta XRD pointing at WebFinger.
pub fn host_meta(config: &Config) -> String {
    let template = format!("{}?resource={{uri}}", config.url_for("/.well-known/webfinger"));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"{}\"/>\n</XRD>\n",
        crate::text::escape_html(&template)
    )
}
