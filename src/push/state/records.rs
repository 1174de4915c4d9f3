//! The rows of the push state, as every implementation of
//! [`PushStore`](super::PushStore) reads and writes them: subscriptions,
//! queued deliveries and their kinds, what was last announced about an
//! article, and how an attempt settled.

use jiff::Timestamp;

/// An active (verified) WebSub subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Row id, for `herald subscriptions remove`.
    pub id: i64,
    /// The topic URL.
    pub topic: String,
    /// The subscriber's callback URL.
    pub callback: String,
    /// The HMAC secret, if the subscriber gave one.
    pub secret: Option<Vec<u8>>,
    /// Granted lease, in seconds.
    pub lease_seconds: u64,
    /// When the lease ends.
    pub expires_at: Timestamp,
    /// When the subscription was first verified.
    pub created_at: Timestamp,
}

/// The kinds of outgoing request the outbox holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// POST a topic's current content to a subscriber.
    Deliver,
    /// GET the callback to verify a subscribe or unsubscribe request.
    Verify,
    /// GET the callback to tell it a subscription was denied.
    Deny,
    /// POST `hub.mode=publish` to an external hub.
    Ping,
    /// POST an article event to a bot's webhook.
    Webhook,
    /// POST changed URLs to an IndexNow endpoint.
    IndexNow,
    /// POST a signed ActivityPub activity to a follower's inbox.
    Activity,
}

impl DeliveryKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Deliver => "websub.deliver",
            DeliveryKind::Verify => "websub.verify",
            DeliveryKind::Deny => "websub.deny",
            DeliveryKind::Ping => "websub.ping",
            DeliveryKind::Webhook => "webhook",
            DeliveryKind::IndexNow => "indexnow",
            DeliveryKind::Activity => "activitypub",
        }
    }

    /// The kind as stored and shown (`websub.deliver`, `webhook` …).
    pub fn name(self) -> &'static str {
        self.as_str()
    }

    pub(super) fn parse(text: &str) -> Option<DeliveryKind> {
        Some(match text {
            "websub.deliver" => DeliveryKind::Deliver,
            "websub.verify" => DeliveryKind::Verify,
            "websub.deny" => DeliveryKind::Deny,
            "websub.ping" => DeliveryKind::Ping,
            "webhook" => DeliveryKind::Webhook,
            "indexnow" => DeliveryKind::IndexNow,
            "activitypub" => DeliveryKind::Activity,
            _ => return None,
        })
    }
}

/// One queued outgoing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// What to do.
    pub kind: DeliveryKind,
    /// The URL to call (callback, hub, webhook, endpoint).
    pub target: String,
    /// What the job is about: the topic URL (WebSub), the webhook's name,
    /// the host (IndexNow).
    pub topic: String,
    /// The stable message id (webhooks: the same on every retry).
    pub message_id: Option<String>,
    /// For deliveries: the subscription.
    pub subscription_id: Option<i64>,
    /// Kind-specific data (JSON): verification parameters, denial reason.
    pub payload: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Bumped each time the topic changes again while the job waits, so a
    /// delivery that was in flight does not complete the newer change.
    pub generation: i64,
    /// When the job was queued.
    pub created_at: Timestamp,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// Whether the job was given up.
    pub failed: bool,
    /// For deliveries: the subscription as the store read it with the
    /// claim, when it does (PostgreSQL: one join instead of one lookup per
    /// delivery); `None`: the engine looks it up before sending.
    pub subscription: Option<Subscription>,
}

/// A verification or denial to queue (for one topic and callback: a newer
/// request replaces one still waiting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// What to do.
    pub kind: DeliveryKind,
    /// The URL to call.
    pub target: String,
    /// The topic concerned.
    pub topic: String,
    /// Kind-specific data (JSON).
    pub payload: String,
}

/// How many verifications and denials may wait in the outbox at once: a
/// bound on what strangers can make the hub queue, whatever their
/// addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLimits {
    /// For one topic.
    pub per_topic: usize,
    /// For the whole hub.
    pub overall: usize,
}

/// Whether a verification or denial was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued (or it replaced the one waiting for the same topic and
    /// callback).
    Yes,
    /// Not queued: [`PendingLimits::per_topic`] wait for this topic.
    TopicFull,
    /// Not queued: [`PendingLimits::overall`] wait for the hub.
    HubFull,
}

/// What was last announced about one article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// The article's stable id.
    pub id: String,
    /// Digest of what the events report (title, summary, body, images, URL).
    pub version: String,
    /// Whether it was visible.
    pub visible: bool,
    /// Its URL then (for the unpublished event and IndexNow).
    pub url: String,
    /// Its language then.
    pub lang: String,
    /// Its section then.
    pub section: String,
    /// How many events were announced about it: part of each message id,
    /// so no two events ever share one.
    pub sequence: i64,
}

/// An event for a webhook, or an activity for a fediverse inbox, to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDelivery {
    /// [`DeliveryKind::Webhook`] or [`DeliveryKind::Activity`].
    pub kind: DeliveryKind,
    /// The webhook's URL, or the inbox.
    pub target: String,
    /// The webhook's name, or the sending actor's username.
    pub webhook: String,
    /// The message id (the same for every retry of this event).
    pub message_id: String,
    /// The JSON body.
    pub payload: String,
    /// When to send it.
    pub due: Timestamp,
    /// The event's slot: one waiting event per webhook, article and type. A
    /// newer event of the slot replaces the waiting one's content (keeping
    /// its due time), and revives it if it was given up.
    pub key: String,
    /// A slot to merge into instead, if an event waits there (an update to
    /// an article whose publication is not delivered yet becomes that
    /// publication, with the newest content).
    pub merge_into: Option<String>,
}

/// How one attempt ended, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Acknowledged: remove the job, unless its content changed since it
    /// was claimed (its generation moved on): then it goes again at once.
    Done {
        /// The job.
        id: i64,
        /// The generation that was sent.
        generation: i64,
    },
    /// Try again at `next`.
    Retry {
        /// The job.
        id: i64,
        /// When.
        next: Timestamp,
        /// Why the attempt failed.
        error: String,
    },
    /// Give up, keeping the job for inspection.
    Failed {
        /// The job.
        id: i64,
        /// Why.
        error: String,
    },
    /// The subscriber answered 410 Gone: end its subscription (and its jobs).
    Gone {
        /// The subscription.
        subscription: i64,
    },
}

/// A fediverse account following one of herald's actors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follower {
    /// The username of herald's actor that is followed.
    pub actor: String,
    /// The follower's actor id (a URL).
    pub follower: String,
    /// The follower's own inbox.
    pub inbox: String,
    /// Its server's shared inbox, if it has one: deliveries go there, once
    /// per server.
    pub shared_inbox: Option<String>,
    /// The id of the `Follow` activity (the `Accept` names it).
    pub follow_id: String,
    /// When the follow was accepted.
    pub created_at: Timestamp,
}

impl Follower {
    /// Where activities for this follower are delivered: the shared inbox
    /// when there is one.
    pub fn delivery_inbox(&self) -> &str {
        self.shared_inbox.as_deref().unwrap_or(&self.inbox)
    }
}
