//! The `/healthz` document: the state of the site after its last update,
//! as plain values the daemon fills in ([`HealthReport`]). It is rendered
//! to JSON once per update, and per request only while something is
//! failing (`status` is then `degraded`, with the `problems`): a failing
//! push store, or a condition another part of the daemon reports between
//! updates ([`ServerState::set_problem`]: the articles table's follower
//! when its LISTEN connection is lost). `/metrics` exports the same
//! report's counters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::ServerState;

/// How often `/healthz` checks whether a failing push store works again.
pub const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(1);

impl ServerState {
    /// Records (`Some`) or clears (`None`) the problem `source` reports:
    /// `/healthz` says `degraded`, with it among the `problems`, until it
    /// is cleared.
    pub fn set_problem(&self, source: &'static str, problem: Option<String>) {
        let mut conditions = crate::parallel::lock(&self.conditions);
        match problem {
            Some(problem) => conditions.insert(source, problem),
            None => conditions.remove(source),
        };
    }

    /// The `/healthz` body now: the published one, or, while the push
    /// store is failing or a problem is set ([`ServerState::set_problem`]),
    /// the same report `degraded` with the reasons. A failing store is
    /// checked again (one write) at most once per [`HEALTH_CHECK_INTERVAL`],
    /// so the status recovers when it does.
    pub async fn current_health(&self) -> Bytes {
        let mut problems: Vec<String> = crate::parallel::lock(&self.conditions).values().cloned().collect();
        if let Some(failure) = self.push_store_failure().await {
            problems.insert(0, format!("the push store is failing: {failure}"));
        }
        if problems.is_empty() {
            return self.health.load().as_ref().clone();
        }
        let mut report = HealthReport::clone(&self.report.load());
        report.problems.extend(problems);
        report.to_json()
    }

    /// Why the push store fails, if it does (checked again at most once
    /// per [`HEALTH_CHECK_INTERVAL`]).
    async fn push_store_failure(&self) -> Option<String> {
        let store = self.push_store.as_ref().filter(|store| store.failure().is_some())?;
        let check_now = {
            let mut last = crate::parallel::lock(&self.last_check);
            let due = last.is_none_or(|at| at.elapsed() >= HEALTH_CHECK_INTERVAL);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if check_now {
            let store = Arc::clone(store);
            tokio::task::spawn_blocking(move || store.check()).await.unwrap_or_else(|e| Some(e.to_string()))
        } else {
            store.failure()
        }
    }
}

/// The state of the site after an update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthReport {
    /// The site's clock, RFC 3339 in the site's time zone.
    pub now: String,
    /// When the last update finished (same format), if there was one.
    pub last_build: Option<String>,
    /// How long the last update took, in seconds.
    pub last_build_seconds: f64,
    /// Seconds spent in updates so far (in `/metrics` only).
    pub total_build_seconds: f64,
    /// Updates so far, full and incremental.
    pub builds: u64,
    /// Full builds among them (in `/metrics` only).
    pub full_builds: u64,
    /// Article documents in the store.
    pub documents: usize,
    /// Documents the last full read of the store did not read, taking
    /// what the saved catalog held for them (unchanged since).
    pub documents_reused: u64,
    /// Articles by state.
    pub articles: ArticleCounts,
    /// Files rendered.
    pub files: usize,
    /// False while archive documents lag behind the live files (for a few
    /// milliseconds after an edit; after a deferred start, until they are
    /// all rendered).
    pub archives_complete: bool,
    /// False after a deferred start while the term feeds (tags, authors,
    /// categories) and their views are still being rendered (a term feed
    /// asked for meanwhile is answered 503 with `Retry-After`); they come
    /// before the archives, so `archives_complete` is false meanwhile too.
    pub terms_complete: bool,
    /// When the next scheduled change is due (same format as `now`).
    pub next_change: Option<String>,
    /// How many problems the store has.
    pub store_error_count: usize,
    /// The first of them (the daemon passes at most 100).
    pub store_errors: Vec<StoreProblem>,
    /// What keeps herald from doing its whole job (a failing push store),
    /// one sentence each: with any, the status is `degraded`.
    pub problems: Vec<String>,
}

/// Articles by state at the site's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArticleCounts {
    /// Visible now.
    pub visible: usize,
    /// Drafts.
    pub drafts: usize,
    /// Not visible yet.
    pub scheduled: usize,
    /// Past their expiry date.
    pub expired: usize,
}

/// One problem in the store, as `/healthz` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreProblem {
    /// The file.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// The whole diagnostic, as logged.
    pub text: String,
}

impl HealthReport {
    /// The `/healthz` body: pretty-printed JSON and a newline.
    pub fn to_json(&self) -> Bytes {
        let problems: Vec<serde_json::Value> = self
            .store_errors
            .iter()
            .map(|p| serde_json::json!({ "path": p.path, "line": p.line, "message": p.message, "text": p.text }))
            .collect();
        let status = if self.problems.is_empty() { "ok" } else { "degraded" };
        let health = serde_json::json!({
            "status": status,
            "problems": self.problems,
            "now": self.now,
            "last_build": self.last_build,
            "last_build_seconds": self.last_build_seconds,
            "builds": self.builds,
            "documents": self.documents,
            "documents_reused": self.documents_reused,
            "articles": {
                "visible": self.articles.visible,
                "draft": self.articles.drafts,
                "scheduled": self.articles.scheduled,
                "expired": self.articles.expired,
            },
            "files": self.files,
            "archives_complete": self.archives_complete,
            "terms_complete": self.terms_complete,
            "next_change": self.next_change,
            "store_error_count": self.store_error_count,
            "store_errors": problems,
        });
        let mut body = serde_json::to_vec_pretty(&health).unwrap_or_default();
        body.push(b'\n');
        Bytes::from(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_every_field() {
        let report = HealthReport {
            now: "2026-11-26T07:00:00+07:00".into(),
            builds: 3,
            documents_reused: 4,
            articles: ArticleCounts { visible: 2, drafts: 1, scheduled: 0, expired: 0 },
            archives_complete: true,
            terms_complete: true,
            store_error_count: 1,
            store_errors: vec![StoreProblem {
                path: "a.md".into(),
                line: Some(2),
                message: "bad".into(),
                text: "a.md:2: bad".into(),
            }],
            ..HealthReport::default()
        };
        let json: serde_json::Value = serde_json::from_slice(&report.to_json()).unwrap();
        assert_eq!(json["status"], "ok");
        assert_eq!(json["now"], "2026-11-26T07:00:00+07:00");
        assert_eq!(json["last_build"], serde_json::Value::Null);
        assert_eq!(json["builds"], 3);
        assert_eq!(json["documents_reused"], 4);
        assert_eq!(json["articles"]["draft"], 1);
        assert_eq!(json["archives_complete"], true);
        assert_eq!(json["terms_complete"], true);
        assert_eq!(json["store_errors"][0]["line"], 2);
        assert!(report.to_json().ends_with(b"}\n"));
        assert_eq!(json["problems"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn a_problem_set_between_updates_degrades_health_until_cleared() {
        let state = ServerState::new(Arc::default(), None, None, None, None);
        state.publish_health(&HealthReport { builds: 2, ..HealthReport::default() });
        let status = |body: Bytes| serde_json::from_slice::<serde_json::Value>(&body).unwrap();
        assert_eq!(status(state.current_health().await)["status"], "ok");

        state.set_problem("articles", Some("lost the database connection".into()));
        let json = status(state.current_health().await);
        assert_eq!(json["status"], "degraded");
        assert_eq!(json["problems"], serde_json::json!(["lost the database connection"]));
        // The rest of the report is the published one.
        assert_eq!(json["builds"], 2);

        state.set_problem("articles", None);
        assert_eq!(status(state.current_health().await)["status"], "ok");
    }

    #[test]
    fn a_problem_makes_the_status_degraded() {
        let report = HealthReport { problems: vec!["push store: disk full".into()], ..HealthReport::default() };
        let json: serde_json::Value = serde_json::from_slice(&report.to_json()).unwrap();
        assert_eq!(json["status"], "degraded");
        assert_eq!(json["problems"][0], "push store: disk full");
    }
}
