//! ActivityPub: actors are discoverable; inboxes take only what they can
//! verify (signature, digest, date, key reachable, body size); a Follow is
//! stored and answered with a signed Accept; an article goes out once per
//! distinct inbox (followers sharing a server's shared inbox get one
//! request), signed; 410 ends a follower; Undo stops deliveries; a rotated
//! key is fetched again. In-process daemon, loopback peers (with
//! `--allow-private-callbacks`, as the peers are on loopback).

use std::sync::Arc;
use std::time::Duration;

use crate::common::fediverse::{Peer, Tamper};
use crate::common::*;
use herald::activitypub::signatures::{digest_matches, verify_rsa_sha256};
use herald::clock::ManualClock;
use herald::config::Overrides;
use herald::daemon::{ConfigSource, Daemon};

const PATIENCE: Duration = Duration::from_secs(15);
const SECTION_ACTOR: &str = "https://example.vn/ap/thoi-su";
const LANGUAGE_ACTOR: &str = "https://example.vn/ap/vi";

fn store() -> TempStore {
    let mut store = TempStore::new();
    store.extra_config =
        "[websub]\nenabled = false\n\n[activitypub]\nenabled = true\nmax_inbox_body_bytes = 4096\n".into();
    store.write("thoi-su/mot.vi.md", "+++\ntitle = \"Một\"\ndate = 2026-11-20T08:00:00+07:00\n+++\nMột.\n");
    store
}

async fn start(store: &TempStore, allow_private: bool) -> Daemon {
    let overrides = Overrides { allow_private_callbacks: allow_private, ..Overrides::default() };
    let source = ConfigSource { path: store.config_path(), overrides };
    let config = source.load().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    Daemon::start(config, source, listener, clock).await.unwrap()
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn get_json(daemon: &Daemon, path: &str) -> (u16, String, serde_json::Value) {
    let response = http_client()
        .get(format!("http://{}{path}", daemon.addr))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = response.text().await.unwrap();
    (status, content_type, serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
}

fn follow(peer: &Peer, name: &str, object: &str) -> serde_json::Value {
    serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/{}", peer.actor(name), object.rsplit('/').next().unwrap()),
        "type": "Follow",
        "actor": peer.actor(name),
        "object": object,
    })
}

fn inbox(daemon: &Daemon) -> String {
    format!("http://{}/ap/inbox", daemon.addr)
}

/// Checks that `delivered` carries a draft-cavage signature by `actor`'s
/// key (read from herald's actor document) over its digest, date and host.
async fn assert_signed_by(daemon: &Daemon, delivered: &crate::common::fediverse::Delivered, actor: &str) {
    let (_, _, doc) = get_json(daemon, actor.trim_start_matches("https://example.vn")).await;
    let pem = doc["publicKey"]["publicKeyPem"].as_str().unwrap();
    let header = herald::activitypub::signatures::parse_signature_header(&delivered.headers["signature"]).unwrap();
    assert_eq!(header.key_id, format!("{actor}#main-key"));
    assert_eq!(header.headers, ["(request-target)", "host", "date", "digest"]);
    let body = serde_json::to_vec(&delivered.body).unwrap();
    assert!(digest_matches(&delivered.headers["digest"], &body), "the Digest matches the body");
    let message = format!(
        "(request-target): post {}\nhost: {}\ndate: {}\ndigest: {}",
        delivered.path, delivered.headers["host"], delivered.headers["date"], delivered.headers["digest"]
    );
    verify_rsa_sha256(pem, message.as_bytes(), &header.signature).expect("herald's signature verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_are_discoverable() {
    let store = store();
    let daemon = start(&store, true).await;
    let webfinger = |resource: &str| format!("/.well-known/webfinger?resource={}", urlencode(resource));
    let (status, content_type, jrd) = get_json(&daemon, &webfinger("acct:thoi-su@example.vn")).await;
    assert_eq!((status, content_type.as_str()), (200, "application/jrd+json"));
    assert_eq!(jrd["subject"], "acct:thoi-su@example.vn");
    assert_eq!(jrd["links"][0]["href"], SECTION_ACTOR);
    let (_, _, by_url) = get_json(&daemon, &webfinger(SECTION_ACTOR)).await;
    assert_eq!(by_url["subject"], "acct:thoi-su@example.vn");
    assert_eq!(get_json(&daemon, &webfinger("acct:thoi-su@elsewhere.example")).await.0, 404);
    assert_eq!(get_json(&daemon, &webfinger("acct:nobody@example.vn")).await.0, 404);

    let (status, content_type, actor) = get_json(&daemon, "/ap/thoi-su").await;
    assert_eq!((status, content_type.as_str()), (200, "application/activity+json"));
    assert_eq!(actor["type"], "Service");
    assert_eq!(actor["preferredUsername"], "thoi-su");
    assert_eq!(actor["inbox"], format!("{SECTION_ACTOR}/inbox"));
    assert_eq!(actor["endpoints"]["sharedInbox"], "https://example.vn/ap/inbox");
    assert_eq!(actor["manuallyApprovesFollowers"], false);
    assert!(actor["publicKey"]["publicKeyPem"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(get_json(&daemon, "/ap/thoi-su.en").await.0, 404, "no English article in thoi-su yet");
    assert_eq!(get_json(&daemon, "/ap/en").await.1, "application/activity+json", "every language has an actor");

    let page = http_client()
        .get(format!("http://{}/ap/thoi-su", daemon.addr))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("@thoi-su@example.vn"), "{page}");
    let index = http_client().get(format!("http://{}/", daemon.addr)).send().await.unwrap().text().await.unwrap();
    assert!(index.contains("@thoi-su@example.vn") && index.contains("@vi@example.vn"), "{index}");

    let (_, _, nodeinfo_index) = get_json(&daemon, "/.well-known/nodeinfo").await;
    assert_eq!(nodeinfo_index["links"][0]["href"], "https://example.vn/nodeinfo/2.1");
    let (_, _, nodeinfo) = get_json(&daemon, "/nodeinfo/2.1").await;
    assert_eq!(nodeinfo["protocols"][0], "activitypub");
    assert_eq!(nodeinfo["usage"]["localPosts"], 1);
    let (_, _, outbox) = get_json(&daemon, "/ap/thoi-su/outbox").await;
    assert_eq!(outbox["totalItems"], 1);
    let (_, _, first) = get_json(&daemon, "/ap/thoi-su/outbox?page=1").await;
    assert_eq!(first["orderedItems"][0]["type"], "Create");
    assert_eq!(first["orderedItems"][0]["object"]["type"], "Note");
    let note_id = first["orderedItems"][0]["object"]["id"].as_str().unwrap().to_string();
    let (status, _, note) = get_json(&daemon, note_id.trim_start_matches("https://example.vn")).await;
    assert_eq!((status, note["id"].as_str()), (200, Some(note_id.as_str())));
    daemon.shutdown().await;
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inboxes_refuse_what_they_cannot_verify() {
    let store = store();
    let daemon = start(&store, true).await;
    let peer = Peer::start(false).await;
    let like = serde_json::json!({
        "id": format!("{}/likes/1", peer.actor("a")), "type": "Like", "actor": peer.actor("a"), "object": "https://example.vn/x",
    });
    for (tamper, why) in [
        (Tamper::Unsigned, "not signed"),
        (Tamper::OtherKey, "does not verify"),
        (Tamper::WrongDigest, "Digest does not match"),
        (Tamper::StaleDate, "12 hours"),
    ] {
        let (status, body) = peer.post("a", &inbox(&daemon), &like, tamper).await;
        assert_eq!(status, 401, "{tamper:?}: {body}");
        assert!(body.contains(why), "{tamper:?}: {body}");
    }
    let (status, _) = peer.post("a", &inbox(&daemon), &like, Tamper::None).await;
    assert_eq!(status, 202, "an unknown activity, properly signed, is accepted and ignored");
    // RFC 9421 is accepted too; with its Content-Digest checked.
    let signed_uri = "https://example.vn/ap/inbox";
    assert_eq!(peer.post_rfc9421("a", &inbox(&daemon), signed_uri, &like, false).await, 202);
    assert_eq!(peer.post_rfc9421("a", &inbox(&daemon), signed_uri, &like, true).await, 401);
    assert_eq!(peer.post_rfc9421("a", &inbox(&daemon), "https://elsewhere.example/ap/inbox", &like, false).await, 401);
    let claimed = serde_json::json!({ "type": "Like", "actor": "http://127.0.0.1:9/users/someone-else" });
    let (status, body) = peer.post("a", &inbox(&daemon), &claimed, Tamper::None).await;
    assert_eq!(status, 401, "{body}");
    let big = serde_json::json!({ "type": "Like", "actor": peer.actor("a"), "content": "x".repeat(5000) });
    assert_eq!(peer.post("a", &inbox(&daemon), &big, Tamper::None).await.0, 413);
    let (status, _) = peer.post("a", &format!("http://{}/ap/nobody/inbox", daemon.addr), &like, Tamper::None).await;
    assert_eq!(status, 404);
    daemon.shutdown().await;
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inboxes_limit_requests_per_client() {
    let mut store = store();
    store.extra_config.push_str("inbox_rate_per_minute = 2\n");
    let daemon = start(&store, true).await;
    let peer = Peer::start(false).await;
    let like = serde_json::json!({ "type": "Like", "actor": peer.actor("a"), "object": "https://example.vn/x" });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(peer.post("a", &inbox(&daemon), &like, Tamper::None).await.0);
    }
    assert_eq!(statuses, [202, 202, 429]);
    daemon.shutdown().await;
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_on_a_private_address_needs_the_flag() {
    let store = store();
    let daemon = start(&store, false).await;
    let peer = Peer::start(false).await;
    let (status, body) = peer.post("a", &inbox(&daemon), &follow(&peer, "a", SECTION_ACTOR), Tamper::None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("127.0.0.1"), "{body}");
    assert_eq!(peer.actor_fetches("a"), 0, "the key was never fetched");
    daemon.shutdown().await;
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_again() {
    let store = store();
    let daemon = start(&store, true).await;
    let peer = Peer::start(false).await;
    let like = serde_json::json!({ "type": "Like", "actor": peer.actor("a"), "object": "https://example.vn/x" });
    assert_eq!(peer.post("a", &inbox(&daemon), &like, Tamper::None).await.0, 202);
    assert_eq!(peer.post("a", &inbox(&daemon), &like, Tamper::None).await.0, 202);
    assert_eq!(peer.actor_fetches("a"), 1, "the key is cached");
    peer.rotate("a");
    assert_eq!(peer.post("a", &inbox(&daemon), &like, Tamper::None).await.0, 202, "verified with the new key");
    assert_eq!(peer.actor_fetches("a"), 2, "fetched once more");
    assert_eq!(peer.post("a", &inbox(&daemon), &like, Tamper::OtherKey).await.0, 401);
    assert_eq!(peer.actor_fetches("a"), 3, "one refetch per failure, no more");
    daemon.shutdown().await;
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_accept_publish_once_per_inbox_undo() {
    let store = store();
    let daemon = start(&store, true).await;
    let shared = Peer::start(true).await;
    let personal = Peer::start(false).await;
    let push = daemon.push.clone().unwrap();
    for name in ["a", "b", "c"] {
        let (status, body) =
            shared.post(name, &inbox(&daemon), &follow(&shared, name, SECTION_ACTOR), Tamper::None).await;
        assert_eq!(status, 202, "{body}");
    }
    let url = format!("http://{}/ap/thoi-su/inbox", daemon.addr);
    assert_eq!(personal.post("d", &url, &follow(&personal, "d", SECTION_ACTOR), Tamper::None).await.0, 202);
    assert_eq!(shared.post("a", &inbox(&daemon), &follow(&shared, "a", LANGUAGE_ACTOR), Tamper::None).await.0, 202);
    eventually("five Accepts", || shared.received().len() == 4 && personal.received().len() == 1).await;
    for delivered in shared.received().iter().chain(personal.received().iter()) {
        assert_eq!(delivered.body["type"], "Accept");
        assert!(delivered.path.starts_with("/users/"), "an Accept goes to the follower's own inbox");
        let actor = delivered.body["actor"].as_str().unwrap().to_string();
        assert_signed_by(&daemon, delivered, &actor).await;
    }
    let counts = push.store.follower_counts().unwrap();
    assert_eq!(counts, [("thoi-su".to_string(), 4), ("vi".to_string(), 1)]);
    let (_, _, followers) = get_json(&daemon, "/ap/thoi-su/followers").await;
    assert_eq!(followers["totalItems"], 4);
    let metrics =
        http_client().get(format!("http://{}/metrics", daemon.addr)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("herald_activitypub_followers{actor=\"thoi-su\"} 4"), "{metrics}");
    // The index page shows each handle with its follower count.
    let shows = |handle: &str, count: &str| {
        let index = futures_lite_get(&daemon, "/");
        index.contains(&format!("{handle}</a> · <span class=\"followers\">{count}</span>"))
    };
    eventually("the counts on the index page", || {
        shows("@thoi-su@example.vn", "4 người theo dõi") && shows("@vi@example.vn", "1 người theo dõi")
    })
    .await;

    // A new article: one request per distinct inbox and actor.
    store.write(
        "thoi-su/hai.vi.md",
        "+++\ntitle = \"Hai\"\ndate = 2026-11-21T08:00:00+07:00\nsummary = \"Tóm tắt\"\ntags = [\"Thừa Thiên Huế\"]\n\
         images = [{ src = \"/img/a.jpg\", alt = \"Cầu\" }]\n+++\nHai.\n",
    );
    let creates = |peer: &Peer| -> Vec<crate::common::fediverse::Delivered> {
        peer.received().into_iter().filter(|d| d.body["type"] == "Create").collect()
    };
    eventually("the Creates", || creates(&shared).len() >= 2 && !creates(&personal).is_empty()).await;
    // Count once everything queued was sent: the followers sharing an
    // inbox got one Create per actor there, not one each.
    let drained = || push.store.deliveries(false, 100).unwrap().is_empty();
    eventually("the outbox to empty", drained).await;
    let shared_creates = creates(&shared);
    assert_eq!(shared_creates.len(), 2, "{shared_creates:?}");
    assert_eq!(creates(&personal).len(), 1);
    assert!(shared_creates.iter().all(|d| d.path == "/inbox"), "the shared inbox, once per actor");
    let mut actors: Vec<&str> = shared_creates.iter().map(|d| d.body["actor"].as_str().unwrap()).collect();
    actors.sort();
    assert_eq!(actors, [SECTION_ACTOR, LANGUAGE_ACTOR]);
    let create = &creates(&personal)[0];
    assert_eq!(create.path, "/users/d/inbox");
    assert_signed_by(&daemon, create, SECTION_ACTOR).await;
    let note = &create.body["object"];
    assert_eq!(note["type"], "Note");
    assert_eq!(note["attributedTo"], SECTION_ACTOR);
    assert!(note["contentMap"]["vi"].as_str().unwrap().contains("Hai"));
    assert_eq!(note["to"][0], "https://www.w3.org/ns/activitystreams#Public");
    assert_eq!(note["tag"][0]["name"], "#ThừaThiênHuế");
    assert_eq!(note["attachment"][0]["name"], "Cầu");

    // 410 from the personal inbox ends that follower.
    personal.set_statuses(&[410]);
    store.write("thoi-su/hai.vi.md", "+++\ntitle = \"Hai (sửa)\"\ndate = 2026-11-21T08:00:00+07:00\n+++\nHai.\n");
    let updates = |peer: &Peer| peer.received().iter().filter(|d| d.body["type"] == "Update").count();
    eventually("the Updates", || updates(&shared) >= 2 && updates(&personal) >= 1).await;
    eventually("the follower gone", || push.store.followers(Some("thoi-su")).unwrap().len() == 3).await;
    eventually("the outbox to empty", drained).await;
    assert_eq!((updates(&shared), updates(&personal)), (2, 1));
    eventually("the count without the gone follower", || shows("@thoi-su@example.vn", "3 người theo dõi")).await;

    // Undo: nothing more for them.
    for name in ["a", "b", "c"] {
        let undo = serde_json::json!({
            "type": "Undo", "actor": shared.actor(name), "object": follow(&shared, name, SECTION_ACTOR),
        });
        assert_eq!(shared.post(name, &inbox(&daemon), &undo, Tamper::None).await.0, 202);
    }
    let delete = serde_json::json!({ "type": "Delete", "actor": shared.actor("a"), "object": shared.actor("a") });
    assert_eq!(shared.post("a", &inbox(&daemon), &delete, Tamper::None).await.0, 202);
    assert!(push.store.followers(None).unwrap().is_empty());
    eventually("the counts back to 0", || {
        shows("@thoi-su@example.vn", "0 người theo dõi") && shows("@vi@example.vn", "0 người theo dõi")
    })
    .await;
    let before = shared.received().len() + personal.received().len();
    store.remove("thoi-su/hai.vi.md");
    store.write("thoi-su/ba.vi.md", "+++\ntitle = \"Ba\"\ndate = 2026-11-22T08:00:00+07:00\n+++\nBa.\n");
    eventually("the new article in the outbox", || {
        let page = futures_lite_get(&daemon, "/ap/thoi-su/outbox?page=1");
        page.contains("Ba")
    })
    .await;
    assert!(push.store.deliveries(false, 100).unwrap().is_empty(), "nothing queued for anyone");
    assert_eq!(shared.received().len() + personal.received().len(), before);
    daemon.shutdown().await;
    shared.stop().await;
    personal.stop().await;
}

/// A blocking GET (inside `eventually`'s synchronous condition).
fn futures_lite_get(daemon: &Daemon, path: &str) -> String {
    let url = format!("http://{}{path}", daemon.addr);
    std::thread::spawn(move || {
        let mut stream =
            std::net::TcpStream::connect(url.trim_start_matches("http://").split('/').next().unwrap()).unwrap();
        use std::io::{Read, Write};
        let path = format!("/{}", url.trim_start_matches("http://").split_once('/').unwrap().1);
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/activity+json\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    })
    .join()
    .unwrap()
}

/// The README's first command (`herald serve --config feeds.toml`, the
/// sample configuration and store): ActivityPub is on, and the index page
/// shows the handles with their follower counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_configuration_shows_the_handles() {
    let state = tempfile::tempdir().unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml");
    let overrides = Overrides { state_dir: Some(state.path().to_path_buf()), ..Overrides::default() };
    let source = ConfigSource { path, overrides };
    let config = source.load().unwrap();
    assert!(config.activitypub.enabled, "the sample feeds.toml enables ActivityPub");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let daemon =
        Daemon::start(config, source, listener, Arc::new(ManualClock::new(jiff::Timestamp::now()))).await.unwrap();
    let index = http_client().get(format!("http://{}/", daemon.addr)).send().await.unwrap().text().await.unwrap();
    for handle in ["@vi@baosonghuong.example.vn", "@thoi-su@baosonghuong.example.vn", "@en@baosonghuong.example.vn"] {
        let row = format!("{handle}</a> · <span class=\"followers\">");
        assert!(index.contains(&row), "no {row} in {index}");
    }
    daemon.shutdown().await;
}
