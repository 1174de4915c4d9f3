//! The push state from the command line: `herald subscriptions`,
//! `deliveries` and `followers` list and change what the state database
//! holds (WebSub subscriptions, the outbox, fediverse followers).

use crate::common::*;
use predicates::prelude::*;

/// `herald subscriptions list` and `remove` work on the state database.
#[test]
fn subscriptions_list_and_remove() {
    use herald::push::state::{PushStore, SqliteStore};
    let store = TempStore::new();
    let config = store.config_path();
    let state = store.dir.path().join("state");
    herald()
        .arg("subscriptions")
        .arg("list")
        .arg("--config")
        .arg(&config)
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing here yet"));
    herald()
        .args(["subscriptions", "remove", "1", "--config"])
        .arg(&config)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error: there is no subscription 1: the database does not exist yet"));
    std::fs::create_dir_all(&state).unwrap();
    {
        let db = SqliteStore::open(&SqliteStore::file_in(&state)).unwrap();
        let at = now();
        db.subscribe("https://example.vn/vi/rss.xml", "https://reader.example/cb/1", Some(b"s"), 3600, at).unwrap();
        db.subscribe("https://example.vn/en/rss.xml", "https://reader.example/cb/2", None, 3600, at).unwrap();
    }
    herald()
        .args(["subscriptions", "list", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stdout(predicate::str::contains("https://example.vn/vi/rss.xml  ->  https://reader.example/cb/1"))
        .stdout(predicate::str::contains("2026-11-26T13:00:00+07:00  yes"))
        .stderr(predicate::str::contains("2 subscription(s)"));
    herald()
        .args(["subscriptions", "list", "--topic", "https://example.vn/en/rss.xml", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stderr(predicate::str::contains("1 subscription(s)"));
    herald()
        .args(["subscriptions", "remove", "1", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stdout("removed subscription 1\n");
    herald()
        .args(["subscriptions", "remove", "1", "--config"])
        .arg(&config)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("there is no subscription 1"));
    let db = SqliteStore::open(&SqliteStore::file_in(&state)).unwrap();
    assert_eq!(db.subscriptions().unwrap().len(), 1);
}

/// `herald deliveries list [--failed]` and `retry` work on the outbox.
#[test]
fn deliveries_list_and_retry() {
    use herald::push::state::{EventDelivery, PushStore, Settled, SqliteStore};
    let store = TempStore::new();
    let config = store.config_path();
    let state = store.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let db = SqliteStore::open(&SqliteStore::file_in(&state)).unwrap();
    let event = |id: &str| EventDelivery {
        kind: herald::push::state::DeliveryKind::Webhook,
        target: "https://bot.example/hook".into(),
        webhook: "bot".into(),
        message_id: id.into(),
        payload: "{}".into(),
        due: now(),
        key: format!("bot:{id}:published"),
        merge_into: None,
    };
    db.record_announcements(&[], &[], &[event("msg_a"), event("msg_b")], &[], now()).unwrap();
    db.settle(&[Settled::Failed { id: 1, error: "webhook bot answered 500".into() }]).unwrap();
    herald()
        .args(["deliveries", "list", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stdout(predicate::str::contains("webhook          failed"))
        .stdout(predicate::str::contains("https://bot.example/hook  (webhook bot answered 500)"))
        .stderr(predicate::str::contains("2 deliveries"));
    herald()
        .args(["deliveries", "list", "--failed", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stderr(predicate::str::contains("1 deliveries"));
    herald()
        .args(["deliveries", "retry", "1", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stdout("delivery 1 is due now\n");
    herald()
        .args(["deliveries", "list", "--failed", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stderr(predicate::str::contains("0 deliveries"));
    herald().args(["deliveries", "retry", "99", "--config"]).arg(&config).assert().code(1);
}

/// `herald followers list [ACTOR]` and `remove ACTOR FOLLOWER` work on the
/// fediverse followers in the state database.
#[test]
fn followers_list_and_remove() {
    use herald::push::state::{Follower, PushStore, SqliteStore};
    let store = TempStore::new();
    let config = store.config_path();
    let state = store.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let db = SqliteStore::open(&SqliteStore::file_in(&state)).unwrap();
    for (actor, who) in [("thoi-su", "alice"), ("thoi-su", "bob"), ("vi", "alice")] {
        db.add_follower(&Follower {
            actor: actor.into(),
            follower: format!("https://m.example/users/{who}"),
            inbox: format!("https://m.example/users/{who}/inbox"),
            shared_inbox: Some("https://m.example/inbox".into()),
            follow_id: format!("https://m.example/follows/{who}"),
            created_at: now(),
        })
        .unwrap();
    }
    herald()
        .args(["followers", "list", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stdout(predicate::str::contains("https://m.example/users/bob  ->  https://m.example/inbox"))
        .stderr(predicate::str::contains("3 follower(s)"));
    herald()
        .args(["followers", "list", "vi", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stderr(predicate::str::contains("1 follower(s)"));
    herald()
        .args(["followers", "remove", "thoi-su", "https://m.example/users/bob", "--config"])
        .arg(&config)
        .assert()
        .success()
        .stdout("removed follower https://m.example/users/bob of thoi-su\n");
    herald()
        .args(["followers", "remove", "thoi-su", "https://m.example/users/bob", "--config"])
        .arg(&config)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("there is no follower"));
    assert_eq!(db.followers(Some("thoi-su")).unwrap().len(), 1);
}
