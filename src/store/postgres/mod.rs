//! Articles in PostgreSQL: the `articles` table as an [`ArticleStore`].
//!
//! A row stands where a file would: its place is `articles:KEY`
//! ([`row::row_path`]), it is read with the rules a file is read by
//! ([`row::ArticleRow::to_article`]), and a bad row is a diagnostic while
//! the rest publishes. Bodies stay in the table and are fetched when a feed
//! needs them, as files' are.
//!
//! The [`ArticleStore`] calls are synchronous (the live site runs them on
//! blocking threads, `herald build` on its main thread, and the daemon's
//! start-up on an async one); the queries run on the database's runtime
//! and the caller waits for them. A
//! database that cannot be read makes the call panic with the reason, as a
//! folder that cannot be read does: the daemon keeps the files it serves
//! and rebuilds on its next step, `herald build` stops.
//!
//! Here: reading. Following changes is `follow`, `herald db import` is
//! `import`.

pub mod follow;
pub mod import;
pub mod row;

use std::future::Future;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use futures_util::StreamExt;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Type};

use super::{ArticleStore, Loaded, Scan};
use crate::article::Article;
use crate::config::Config;
use crate::db::Database;
use crate::diagnostic::Diagnostic;
pub use follow::Watermark;
pub use row::{ArticleRow, row_key, row_path};

/// The columns a row is read from, in [`decode`]'s order.
const COLUMNS: &str = "key, id, title, date, lastmod, publish_date, expiry_date, draft, summary, authors, tags, \
     categories, section, language, slug, url, translation_key, images::text, sitemap, body, body_format";

/// How many rows a scan hands over at a time (and builds in parallel).
const SCAN_CHUNK: usize = 512;

/// Articles read from the `articles` table of the shared database.
pub struct PostgresArticleStore {
    database: Arc<Database>,
}

impl std::fmt::Debug for PostgresArticleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresArticleStore({:?})", self.database)
    }
}

impl PostgresArticleStore {
    /// A store reading through `database`'s pool.
    pub fn new(database: Arc<Database>) -> PostgresArticleStore {
        PostgresArticleStore { database }
    }

    /// Runs `work` on the database's runtime and waits for it, from any
    /// thread (the live site's blocking threads, a command's main thread,
    /// and the daemon's start, which is async).
    fn wait<T: Send + 'static>(&self, work: impl Future<Output = T> + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.database.handle().spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv().expect("the database's runtime ended")
    }

    /// Checks that the database can be reached and has the `articles`
    /// table (`herald db migrate` makes it).
    pub fn check(&self) -> Result<(), Diagnostic> {
        let database = Arc::clone(&self.database);
        let found = self.wait(async move {
            let client = database.client().await.map_err(|e| e.to_string())?;
            let row =
                client.query_one("SELECT to_regclass('articles') IS NOT NULL", &[]).await.map_err(|e| e.to_string())?;
            Ok::<bool, String>(row.get(0))
        });
        match found {
            Ok(true) => Ok(()),
            Ok(false) => Err(Diagnostic::general_error("the database has no `articles` table").with_hint(
                "run `herald db migrate` first (then `herald db import FOLDER` to fill it from a store folder)",
            )),
            Err(e) => Err(Diagnostic::general_error(format!("cannot read articles from the database: {e}"))
                .with_hint("check [database] url in feeds.toml (or HERALD_DATABASE_URL) and that PostgreSQL runs")),
        }
    }

    /// Where a follower of this store's changes starts: taken before a
    /// full read, every change the read may have missed comes after it.
    pub fn watermark(&self) -> Result<Watermark, String> {
        let database = Arc::clone(&self.database);
        self.wait(async move {
            let client = database.client().await.map_err(|e| e.to_string())?;
            follow::current_watermark(&client).await.map_err(|e| e.to_string())
        })
    }

    /// Runs `work` with a pooled connection, panicking with `doing` and the
    /// reason when the database cannot be read.
    fn query<T: Send + 'static, F>(
        &self,
        doing: &str,
        work: impl FnOnce(deadpool_postgres::Object) -> F + Send + 'static,
    ) -> T
    where
        F: Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    {
        let database = Arc::clone(&self.database);
        let result = self.wait(async move {
            match database.client().await {
                Ok(client) => work(client).await.map_err(|e| database.error(e).to_string()),
                Err(e) => Err(e.to_string()),
            }
        });
        result.unwrap_or_else(|e| panic!("cannot {doing} from the database: {e}"))
    }
}

impl ArticleStore for PostgresArticleStore {
    fn scan(&self, config: &Config) -> Scan {
        self.scan_reporting(config, &|_, _| {})
    }

    fn scan_reporting(&self, config: &Config, progress: &(dyn Fn(usize, usize) + Sync)) -> Scan {
        enum Part {
            Total(usize),
            Rows(Vec<Result<ArticleRow, Diagnostic>>),
            Failed(String),
        }
        // The reading task waits for the builder (never blocking the
        // database's runtime); this thread waits for the rows.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Part>(2);
        let database = Arc::clone(&self.database);
        self.database.handle().spawn(async move {
            let read = async {
                let client = database.client().await.map_err(|e| e.to_string())?;
                let failed = |e: tokio_postgres::Error| e.to_string();
                let total: i64 = client
                    .query_one("SELECT count(*) FROM articles WHERE deleted_at IS NULL", &[])
                    .await
                    .map_err(failed)?
                    .get(0);
                let _ = tx.send(Part::Total(usize::try_from(total).unwrap_or(0))).await;
                let select =
                    format!("SELECT {COLUMNS} FROM articles WHERE deleted_at IS NULL ORDER BY key COLLATE \"C\"");
                let rows = client.query_raw(&select, std::iter::empty::<&str>()).await.map_err(failed)?;
                let mut rows = std::pin::pin!(rows);
                let mut chunk = Vec::with_capacity(SCAN_CHUNK);
                while let Some(row) = rows.next().await {
                    chunk.push(decode(&row.map_err(failed)?));
                    if chunk.len() == SCAN_CHUNK && tx.send(Part::Rows(std::mem::take(&mut chunk))).await.is_err() {
                        return Ok(());
                    }
                }
                let _ = tx.send(Part::Rows(chunk)).await;
                Ok::<(), String>(())
            };
            if let Err(e) = read.await {
                let _ = tx.send(Part::Failed(e)).await;
            }
        });
        let mut scan = Scan::default();
        let mut total = 0;
        while let Some(part) = rx.blocking_recv() {
            match part {
                Part::Total(n) => total = n,
                Part::Rows(rows) => {
                    let built = crate::parallel::map(&rows, |row| match row {
                        Ok(row) => row.to_article(config),
                        Err(problem) => Err(problem.clone()),
                    });
                    scan.documents += rows.len();
                    for article in built {
                        match article {
                            Ok(article) => scan.articles.push(article),
                            Err(problem) => scan.diagnostics.push(problem),
                        }
                    }
                    progress(scan.documents, total.max(scan.documents));
                }
                Part::Failed(e) => panic!("cannot read the articles from the database: {e}"),
            }
        }
        // The order of a folder store's scan: by place, as paths compare.
        if !scan.articles.is_sorted_by(|a, b| a.source.path <= b.source.path) {
            scan.articles.sort_by(|a, b| a.source.path.cmp(&b.source.path));
        }
        scan
    }

    fn load(&self, path: &Path, config: &Config) -> Loaded {
        let Some(key) = row_key(path).map(str::to_string) else { return Loaded::Gone };
        let row = self.query("read an article", move |client| async move {
            let select = format!("SELECT {COLUMNS} FROM articles WHERE key = $1 AND deleted_at IS NULL");
            client.query_opt(&select, &[&key]).await.map(|row| row.map(|row| decode(&row)))
        });
        match row {
            None => Loaded::Gone,
            Some(Err(problem)) => Loaded::Invalid(problem),
            Some(Ok(row)) => match row.to_article(config) {
                Ok(article) => Loaded::Article(Box::new(article)),
                Err(problem) => Loaded::Invalid(problem),
            },
        }
    }

    fn list(&self, _under: &Path) -> Vec<PathBuf> {
        // Rows have no folders: every change names its row.
        Vec::new()
    }

    fn is_document(&self, path: &Path) -> bool {
        row_key(path).is_some()
    }

    fn body(&self, article: &Article) -> Result<String, Diagnostic> {
        let path = &article.source.path;
        let Some(key) = row_key(path).map(str::to_string) else {
            return Err(Diagnostic::error(path, "not a row of the articles table"));
        };
        let body = self.query("read an article's body", move |client| async move {
            let row =
                client.query_opt("SELECT body FROM articles WHERE key = $1 AND deleted_at IS NULL", &[&key]).await?;
            Ok(row.map(|row| row.get::<_, String>(0)))
        });
        body.ok_or_else(|| Diagnostic::error(path, "cannot read the body: the row is gone"))
    }
}

/// A `timestamptz` as stored: microseconds since 2000-01-01 UTC, with
/// PostgreSQL's `infinity` and `-infinity` at the ends of `i64`.
struct StoredInstant(i64);

impl<'a> FromSql<'a> for StoredInstant {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 8] = raw.try_into()?;
        Ok(StoredInstant(i64::from_be_bytes(bytes)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ || *ty == Type::TIMESTAMP
    }
}

/// Microseconds between 1970-01-01 and 2000-01-01.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl StoredInstant {
    /// The instant as RFC 3339 text, the way a front-matter date is read;
    /// one beyond what herald holds is written with its (approximate) year,
    /// which the date check then refuses by name.
    fn text(&self) -> String {
        match self.0 {
            i64::MAX => "infinity".into(),
            i64::MIN => "-infinity".into(),
            micros => match micros.checked_add(POSTGRES_EPOCH_MICROS).map(jiff::Timestamp::from_microsecond) {
                Some(Ok(at)) => at.to_string(),
                _ => {
                    const MICROS_PER_YEAR: i64 = 31_556_952_000_000;
                    let year = 2000 + micros / MICROS_PER_YEAR;
                    format!("{year:+07}-01-01T00:00:00Z")
                }
            },
        }
    }
}

/// Reads one row of [`COLUMNS`]; a column the driver cannot read is a
/// problem of the row.
fn decode(row: &Row) -> Result<ArticleRow, Diagnostic> {
    let key: String = row.try_get(0).unwrap_or_default();
    let place = row_path(&key);
    let column = |name: &str| {
        let name = name.to_string();
        let place = place.clone();
        move |e: tokio_postgres::Error| {
            Diagnostic::error(&place, format!("column `{name}`: cannot be read ({e})"))
                .with_hint("check the column's type against README's `articles` table")
        }
    };
    let text = |i: usize, name: &str| row.try_get::<_, Option<String>>(i).map_err(column(name));
    let instant = |i: usize, name: &str| {
        row.try_get::<_, Option<StoredInstant>>(i).map(|v| v.map(|at| at.text())).map_err(column(name))
    };
    let list = |i: usize, name: &str| {
        row.try_get::<_, Option<Vec<Option<String>>>>(i).map(Option::unwrap_or_default).map_err(column(name))
    };
    let flag = |i: usize, name: &str, default: bool| {
        row.try_get::<_, Option<bool>>(i).map(|v| v.unwrap_or(default)).map_err(column(name))
    };
    let images = match text(17, "images")? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| Diagnostic::error(&place, format!("column `images`: not JSON ({e})")))?,
        None => serde_json::Value::Null,
    };
    Ok(ArticleRow {
        id: text(1, "id")?,
        title: text(2, "title")?,
        date: instant(3, "date")?,
        lastmod: instant(4, "lastmod")?,
        publish_date: instant(5, "publish_date")?,
        expiry_date: instant(6, "expiry_date")?,
        draft: flag(7, "draft", false)?,
        summary: text(8, "summary")?,
        authors: list(9, "authors")?,
        tags: list(10, "tags")?,
        categories: list(11, "categories")?,
        section: text(12, "section")?,
        language: text(13, "language")?,
        slug: text(14, "slug")?,
        url: text(15, "url")?,
        translation_key: text(16, "translation_key")?,
        images,
        sitemap: flag(18, "sitemap", true)?,
        body: text(19, "body")?.unwrap_or_default(),
        body_format: text(20, "body_format")?.unwrap_or_else(|| "markdown".into()),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_instants_read_as_rfc3339() {
        assert_eq!(StoredInstant(0).text(), "2000-01-01T00:00:00Z");
        assert_eq!(StoredInstant(1_500_000).text(), "2000-01-01T00:00:01.5Z");
        assert_eq!(StoredInstant(i64::MAX).text(), "infinity");
        // 4713 BC, PostgreSQL's earliest: refused by its year.
        let early = StoredInstant(-211_813_488_000_000_000).text();
        assert!(early.starts_with("-00"), "{early}");
    }
}
