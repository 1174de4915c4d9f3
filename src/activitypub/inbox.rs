//! The inboxes (each actor's and the shared one): signed activities from
//! other servers. `Follow` of one of herald's actors stores the follower
//! and queues a signed `Accept`; `Undo` of a `Follow` removes it; `Delete`
//! of an actor removes its follows; anything else is accepted and ignored.
//! Unsigned or badly signed requests get 401, bodies over the limit 413,
//! clients over the rate limit 429.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::Value;

use super::activities;
use super::verify::{SignedRequest, verify};
use super::{ActivityPub, text};
use crate::config::handle_host;
use crate::push::state::{DeliveryKind, EventDelivery, Follower};

impl ActivityPub {
    /// Answers a POST to an inbox (`username` `None`: the shared one) from
    /// `client`.
    pub async fn inbox<B>(
        &self,
        request: http::Request<B>,
        username: Option<&str>,
        client: IpAddr,
    ) -> Response<Full<Bytes>>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let config = self.config();
        if !self.rate.allow(client, config.activitypub.inbox_rate_per_minute) {
            let mut response = text(StatusCode::TOO_MANY_REQUESTS, "too many requests; try again in a minute\n");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            return response;
        }
        if let Some(name) = username
            && self.directory().get(name).is_none()
        {
            return text(StatusCode::NOT_FOUND, "no such actor here\n");
        }
        let limit = config.activitypub.max_inbox_body_bytes;
        let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "the activity is too large\n");
        }
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                return text(StatusCode::PAYLOAD_TOO_LARGE, "the activity is too large\n");
            }
            Err(_) => return text(StatusCode::BAD_REQUEST, "the request body could not be read\n"),
        };
        let path_and_query = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
        let base = &config.site.base_url;
        let target_uri = format!("{}://{}{path_and_query}", base.scheme(), handle_host(base));
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path_and_query,
            target_uri: &target_uri,
            headers: &parts.headers,
            body: &body,
        };
        let signer = match verify(&signed, &self.remote, config.websub.allow_private_callbacks, self.clock.now()).await
        {
            Ok(owner) => owner,
            Err(e) => {
                tracing::info!("inbox: refused a request from {client}: {e}");
                return text(StatusCode::UNAUTHORIZED, &format!("{e}\n"));
            }
        };
        let Ok(activity) = serde_json::from_slice::<Value>(&body) else {
            return text(StatusCode::BAD_REQUEST, "the body is not JSON\n");
        };
        let actor = id_of(activity.get("actor")).unwrap_or_default();
        if actor != signer {
            return text(StatusCode::UNAUTHORIZED, "the activity's actor is not the key's owner\n");
        }
        let response = match activity.get("type").and_then(Value::as_str) {
            Some("Follow") => self.follow(&activity, &actor).await,
            Some("Undo") => self.undo(&activity, &actor).await,
            Some("Delete") if id_of(activity.get("object")).as_deref() == Some(actor.as_str()) => {
                self.with_store(move |store| store.remove_follows_of(&actor).map(|_| ())).await
            }
            _ => return text(StatusCode::ACCEPTED, ""),
        };
        // The follower counts may have changed (the index page shows them).
        self.follower_changes.notify_one();
        response
    }

    /// Stores the follower and queues the `Accept`.
    async fn follow(&self, activity: &Value, follower: &str) -> Response<Full<Bytes>> {
        let config = self.config();
        let object = id_of(activity.get("object")).unwrap_or_default();
        let Some(target) = self.directory().iter().find(|a| a.id(&config) == object).cloned() else {
            return text(StatusCode::NOT_FOUND, "the Follow's object is not an actor here\n");
        };
        let remote = match self.remote.actor(follower, config.websub.allow_private_callbacks).await {
            Ok(remote) => remote,
            Err(e) => return text(StatusCode::BAD_REQUEST, &format!("cannot read the follower: {e}\n")),
        };
        let follow_id = id_of(activity.get("id")).unwrap_or_default();
        let accept = activities::accept(&target.username, activity, &config);
        let record = Follower {
            actor: target.username.clone(),
            follower: follower.to_string(),
            inbox: remote.inbox.clone(),
            shared_inbox: remote.shared_inbox.clone(),
            follow_id,
            created_at: self.clock.now(),
        };
        let job = EventDelivery {
            kind: DeliveryKind::Activity,
            target: remote.inbox,
            webhook: target.username.clone(),
            message_id: accept["id"].as_str().unwrap_or_default().to_string(),
            payload: accept.to_string(),
            due: self.clock.now(),
            key: format!("ap:accept:{}:{follower}", target.username),
            merge_into: None,
        };
        let response = self
            .with_store(move |store| {
                store.add_follower(&record)?;
                store.queue_events(&[job]).map(|_| ())
            })
            .await;
        self.wake.notify_one();
        tracing::info!("{follower} follows @{}", target.username);
        response
    }

    /// Removes a follow (`Undo` of a `Follow`, embedded or by id).
    async fn undo(&self, activity: &Value, follower: &str) -> Response<Full<Bytes>> {
        let config = self.config();
        let object = activity.get("object");
        let follower = follower.to_string();
        match object {
            Some(Value::Object(follow)) if follow.get("type").and_then(Value::as_str) == Some("Follow") => {
                let target = id_of(follow.get("object")).unwrap_or_default();
                let Some(actor) = self.directory().iter().find(|a| a.id(&config) == target).cloned() else {
                    return text(StatusCode::ACCEPTED, "");
                };
                self.with_store(move |store| store.remove_follower(&actor.username, &follower).map(|_| ())).await
            }
            Some(Value::String(follow_id)) => {
                let follow_id = follow_id.clone();
                self.with_store(move |store| {
                    for f in store.followers(None)?.into_iter().filter(|f| f.follower == follower) {
                        if f.follow_id == follow_id {
                            store.remove_follower(&f.actor, &f.follower)?;
                        }
                    }
                    Ok(())
                })
                .await
            }
            _ => text(StatusCode::ACCEPTED, ""),
        }
    }

    /// Runs `work` on the store off the async threads: 202 when it worked,
    /// 503 when the store failed (the sender retries).
    async fn with_store(
        &self,
        work: impl FnOnce(&dyn crate::push::state::PushStore) -> crate::push::state::Result<()> + Send + 'static,
    ) -> Response<Full<Bytes>> {
        let store = Arc::clone(&self.store);
        match tokio::task::spawn_blocking(move || work(store.as_ref())).await {
            Ok(Ok(())) => text(StatusCode::ACCEPTED, ""),
            Ok(Err(e)) => {
                tracing::error!("inbox: push store: {e}");
                text(StatusCode::SERVICE_UNAVAILABLE, "cannot record the activity now; try again later\n")
            }
            Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "cannot record the activity now\n"),
        }
    }
}

/// The id of `value`: itself when a string, its `id` when an object.
fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(id) => Some(id.clone()),
        Value::Object(object) => object.get("id")?.as_str().map(str::to_string),
        _ => None,
    }
}
