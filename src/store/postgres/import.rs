//! `herald db import FOLDER`: a folder store copied into the `articles`
//! table, one row per document, keyed by the document's store-relative
//! path.
//!
//! The import is idempotent: a row whose columns already hold what the
//! file says is not written (so it gets no new `change_seq` and replicas
//! re-read nothing). It runs in one transaction: replicas see all of it or
//! none. A broken document is reported and its row, if any, left as it was
//! (its last good version stays published, as with files). With
//! `--delete-missing`, rows whose key names a document path (`*.md`,
//! `*.json`, as the folder store tells documents) that the folder no longer
//! holds are soft-deleted; rows a CMS wrote under other keys are never
//! touched.
//!
//! A row is written so that it reads back as the same article: the
//! resolved id, language, section, slug, title, lists and instants; the
//! front matter's own `summary`, `url` and `images` (so that they are
//! derived and resolved exactly as from the file); the translation key
//! when the file's differs from the row default (`section/slug`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use tokio_postgres::Client;
use tokio_postgres::types::ToSql;

use super::row::ArticleRow;
use crate::article::BodyFormat;
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::store::folder::{DocumentParts, FolderStore, classify};

/// How many documents are read (in parallel) and written (pipelined) at a
/// time.
const CHUNK: usize = 256;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Article documents in the folder.
    pub documents: usize,
    /// Rows added (or brought back from soft deletion).
    pub inserted: usize,
    /// Rows whose columns changed.
    pub updated: usize,
    /// Rows that already held the document.
    pub unchanged: usize,
    /// Documents left out because they are broken.
    pub skipped: usize,
    /// Rows soft-deleted because their file is gone (`--delete-missing`).
    pub deleted: usize,
    /// Why documents were skipped, and anything else worth knowing.
    pub problems: Vec<Diagnostic>,
}

/// The upsert: writes only when a column differs (or the row was deleted).
const UPSERT: &str = "
INSERT INTO articles (key, id, title, date, lastmod, publish_date, expiry_date, draft, summary, authors, tags,
                      categories, section, language, slug, url, translation_key, images, sitemap, body, body_format)
VALUES ($1, $2, $3, $4::text::timestamptz, $5::text::timestamptz, $6::text::timestamptz, $7::text::timestamptz,
        $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::text::jsonb, $19, $20, $21)
ON CONFLICT (key) DO UPDATE SET
    id = EXCLUDED.id, title = EXCLUDED.title, date = EXCLUDED.date, lastmod = EXCLUDED.lastmod,
    publish_date = EXCLUDED.publish_date, expiry_date = EXCLUDED.expiry_date, draft = EXCLUDED.draft,
    summary = EXCLUDED.summary, authors = EXCLUDED.authors, tags = EXCLUDED.tags, categories = EXCLUDED.categories,
    section = EXCLUDED.section, language = EXCLUDED.language, slug = EXCLUDED.slug, url = EXCLUDED.url,
    translation_key = EXCLUDED.translation_key, images = EXCLUDED.images, sitemap = EXCLUDED.sitemap,
    body = EXCLUDED.body, body_format = EXCLUDED.body_format, deleted_at = NULL
WHERE (articles.id, articles.title, articles.date, articles.lastmod, articles.publish_date, articles.expiry_date,
       articles.draft, articles.summary, articles.authors, articles.tags, articles.categories, articles.section,
       articles.language, articles.slug, articles.url, articles.translation_key, articles.images, articles.sitemap,
       articles.body, articles.body_format, articles.deleted_at)
    IS DISTINCT FROM
      (EXCLUDED.id, EXCLUDED.title, EXCLUDED.date, EXCLUDED.lastmod, EXCLUDED.publish_date, EXCLUDED.expiry_date,
       EXCLUDED.draft, EXCLUDED.summary, EXCLUDED.authors, EXCLUDED.tags, EXCLUDED.categories, EXCLUDED.section,
       EXCLUDED.language, EXCLUDED.slug, EXCLUDED.url, EXCLUDED.translation_key, EXCLUDED.images, EXCLUDED.sitemap,
       EXCLUDED.body, EXCLUDED.body_format, NULL::timestamptz)
RETURNING (xmax = 0)";

/// Imports every document of `folder` (read with `config`'s rules) into
/// the `articles` table through `client`, in one transaction.
pub async fn import_folder(
    client: &mut Client,
    folder: FolderStore,
    config: Arc<Config>,
    delete_missing: bool,
) -> Result<ImportReport, tokio_postgres::Error> {
    let mut report = ImportReport::default();
    let (paths, walk_problems) = folder.document_paths();
    report.documents = paths.len();
    let folder_whole = walk_problems.is_empty();
    report.problems.extend(walk_problems);
    let transaction = client.transaction().await?;
    let upsert = transaction.prepare(UPSERT).await?;
    // Rows marked deleted whose file is back count as added.
    let deleted: BTreeSet<String> = transaction
        .query("SELECT key FROM articles WHERE deleted_at IS NOT NULL", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for chunk in paths.chunks(CHUNK) {
        let (folder, config, chunk_paths) = (folder.clone(), Arc::clone(&config), chunk.to_vec());
        let read = tokio::task::spawn_blocking(move || {
            crate::parallel::map(&chunk_paths, |rel| folder.read_parts(rel, &config).map(|p| p.map(|p| row_of(&p))))
        })
        .await
        .expect("reading documents does not panic");
        let rows: Vec<ArticleRow> = read
            .into_iter()
            .filter_map(|result| match result {
                Ok(row) => row,
                Err(problem) => {
                    report.skipped += 1;
                    report.problems.push(problem);
                    None
                }
            })
            .collect();
        let params: Vec<Vec<Box<dyn ToSql + Sync + Send>>> = rows.iter().map(parameters).collect();
        let writes = params.iter().map(|p| {
            let refs: Vec<&(dyn ToSql + Sync)> = p.iter().map(|b| b.as_ref() as &(dyn ToSql + Sync)).collect();
            let transaction = &transaction;
            let upsert = &upsert;
            async move { transaction.query_opt(upsert, &refs).await }
        });
        for (row, written) in rows.iter().zip(futures_util::future::try_join_all(writes).await?) {
            match written.map(|written| written.get::<_, bool>(0)) {
                Some(true) => report.inserted += 1,
                Some(false) if deleted.contains(&row.key) => report.inserted += 1,
                Some(false) => report.updated += 1,
                None => report.unchanged += 1,
            }
        }
    }
    if delete_missing {
        if folder_whole {
            let present: BTreeSet<String> = paths.iter().map(|p| key_of(p)).collect();
            let live = transaction.query("SELECT key FROM articles WHERE deleted_at IS NULL", &[]).await?;
            let gone: Vec<String> = live
                .iter()
                .map(|row| row.get::<_, String>(0))
                .filter(|key| classify(Path::new(key)).is_some() && !present.contains(key))
                .collect();
            let deleted = transaction
                .execute("UPDATE articles SET deleted_at = now() WHERE key = ANY($1) AND deleted_at IS NULL", &[&gone])
                .await?;
            report.deleted = usize::try_from(deleted).unwrap_or(usize::MAX);
        } else {
            report.problems.push(
                Diagnostic::warning(folder.root(), "no row was deleted: the folder could not be read whole")
                    .with_hint("fix the problems above and import again with --delete-missing"),
            );
        }
    }
    transaction.commit().await?;
    Ok(report)
}

/// The row key of the document at store-relative `rel`: its path with `/`.
fn key_of(rel: &Path) -> String {
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The row that reads back as the document's article.
pub fn row_of(parts: &DocumentParts) -> ArticleRow {
    let article = &parts.article;
    let field = |name: &str| match parts.fields.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let given = |name: &str| parts.fields.get(name).is_some_and(|v| !v.is_null());
    let row_default_key = format!("{}/{}", article.section, article.slug);
    let translation_key = (article.translation_key_explicit || article.translation_key != row_default_key)
        .then(|| article.translation_key.clone());
    let list = |items: &[String]| items.iter().cloned().map(Some).collect();
    ArticleRow {
        key: key_of(&article.source.path),
        id: Some(article.id.clone()),
        title: Some(article.title.clone()),
        date: Some(article.date.to_string()),
        lastmod: article.lastmod.map(|t| t.to_string()),
        publish_date: article.publish_date.map(|t| t.to_string()),
        expiry_date: article.expiry_date.map(|t| t.to_string()),
        draft: article.draft,
        summary: (given("summary") || given("description")).then(|| article.summary.clone()),
        authors: list(&article.authors),
        tags: list(&article.tags),
        categories: list(&article.categories),
        section: Some(article.section.clone()),
        language: Some(article.lang.clone()),
        slug: Some(article.slug.clone()),
        url: field("url"),
        translation_key,
        images: match parts.fields.get("images") {
            None | Some(Value::Null) => Value::Array(Vec::new()),
            Some(images) => images.clone(),
        },
        sitemap: article.in_sitemap,
        body: parts.body.clone(),
        body_format: match article.source.body_format {
            BodyFormat::Markdown => "markdown",
            BodyFormat::Html => "html",
        }
        .to_string(),
    }
}

/// The upsert's parameters for `row`, in `UPSERT`'s order.
fn parameters(row: &ArticleRow) -> Vec<Box<dyn ToSql + Sync + Send>> {
    vec![
        Box::new(row.key.clone()),
        Box::new(row.id.clone()),
        Box::new(row.title.clone()),
        Box::new(row.date.clone()),
        Box::new(row.lastmod.clone()),
        Box::new(row.publish_date.clone()),
        Box::new(row.expiry_date.clone()),
        Box::new(row.draft),
        Box::new(row.summary.clone()),
        Box::new(row.authors.clone()),
        Box::new(row.tags.clone()),
        Box::new(row.categories.clone()),
        Box::new(row.section.clone()),
        Box::new(row.language.clone()),
        Box::new(row.slug.clone()),
        Box::new(row.url.clone()),
        Box::new(row.translation_key.clone()),
        Box::new(row.images.to_string()),
        Box::new(row.sitemap),
        Box::new(row.body.clone()),
        Box::new(row.body_format.clone()),
    ]
}
