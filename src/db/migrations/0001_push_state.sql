-- Push state shared by replicas: WebSub subscriptions, the versions of
-- feeds announced, the outbox of outgoing requests (claimed under a lease),
-- what was announced about each article and which webhook messages were
-- queued (each exactly once), and the replicas' heartbeats.
-- Times the daemon's clock gives are Unix seconds (BIGINT), as in SQLite;
-- lease and heartbeat times are the database's (timestamptz).

CREATE TABLE subscriptions (
    id BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    callback TEXT NOT NULL,
    host TEXT NOT NULL,
    secret BYTEA,
    lease_seconds BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL,
    UNIQUE (topic, callback)
);
CREATE INDEX subscriptions_by_topic ON subscriptions (topic, expires_at);

-- The version (ETag) each feed was last announced at.
CREATE TABLE topics (
    topic TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);

-- Every version of a feed announced (kept a while): the unique key makes
-- each version announced once, whichever replica sees it first, and a
-- replica that is a step behind never announces an older version again.
CREATE TABLE topic_versions (
    topic TEXT NOT NULL,
    version TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (topic, version)
);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    host TEXT NOT NULL,
    topic TEXT NOT NULL,
    subscription_id BIGINT,
    payload TEXT NOT NULL DEFAULT '',
    coalesce_key TEXT UNIQUE,
    generation BIGINT NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A claim: which replica holds the job, until when (database time).
    claimed_by TEXT,
    claimed_until TIMESTAMPTZ,
    created_at BIGINT NOT NULL,
    last_error TEXT,
    failed BOOLEAN NOT NULL DEFAULT FALSE,
    message_id TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE NOT failed;
CREATE INDEX outbox_by_subscription ON outbox (subscription_id);
CREATE INDEX outbox_by_kind_topic ON outbox (kind, topic);
CREATE INDEX outbox_failed ON outbox (failed, created_at);
CREATE INDEX outbox_by_claimer ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;

-- What was last announced about each article.
CREATE TABLE announced (
    id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    visible BOOLEAN NOT NULL,
    url TEXT NOT NULL,
    lang TEXT NOT NULL,
    section TEXT NOT NULL,
    sequence BIGINT NOT NULL DEFAULT 0
);

-- Every webhook message id queued (a digest of webhook, article, event,
-- version and sequence): two replicas that see the same change queue it once.
CREATE TABLE announced_messages (
    message_id TEXT PRIMARY KEY,
    queued_at BIGINT NOT NULL
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Replicas say they are alive every few seconds (`herald db status`).
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    hostname TEXT NOT NULL,
    pid INTEGER NOT NULL,
    version TEXT NOT NULL,
    listen TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- ActivityPub: each actor's private key (made once, never replaced) and
-- who follows which actor, with the inboxes activities go to.
CREATE TABLE ap_keys (
    actor TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE ap_followers (
    actor TEXT NOT NULL,
    follower TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    follow_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (actor, follower)
);
CREATE INDEX ap_followers_by_follower ON ap_followers (follower);
