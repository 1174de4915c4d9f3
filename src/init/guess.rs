//! What the articles themselves suggest: a bounded, evenly spread sample of
//! front matter (`lang` fields and the UTC offsets of `date`s), and the
//! guesses drawn from it and from the paths: the time zone, the default
//! language, each language's name, and the sections with their `_index`
//! titles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::site_config::{Generator, SiteConfig};
use super::{SAMPLE_SIZE, SectionFound};
use crate::config::is_language_code;
use crate::diagnostic::Diagnostic;
use crate::store::disk;
use crate::store::folder::{DocumentKind, PathInfo};
use crate::store::front_matter::{self, FrontMatterFormat};
use crate::text::{clean_line, is_slug, slugify};

/// What the sampled front matter said.
#[derive(Default)]
pub(super) struct Sample {
    /// Documents read.
    pub(super) read: usize,
    /// Dates carrying an offset: the instant and the offset in seconds.
    dated: Vec<(jiff::Timestamp, i32)>,
    /// Dates read (with or without offset).
    dates: usize,
    /// Documents whose `lang` field differs from their file name's language:
    /// (file language, front-matter language).
    pub(super) lang_moves: Vec<(Option<String>, String)>,
}

/// Reads the front matter of at most [`SAMPLE_SIZE`] of `infos` (the
/// documents under `root`), spread evenly; unreadable ones are one warning.
pub(super) fn read_sample(root: &Path, infos: &[(&PathBuf, PathInfo)], problems: &mut Vec<Diagnostic>) -> Sample {
    let mut sample = Sample::default();
    let take = infos.len().min(SAMPLE_SIZE);
    let mut unreadable: Vec<&Path> = Vec::new();
    for k in 0..take {
        let (path, info) = &infos[k * infos.len() / take];
        let Some(fields) = read_fields(root, path, info.kind) else {
            unreadable.push(path);
            continue;
        };
        sample.read += 1;
        if let Some(Value::String(lang)) = fields.get("lang") {
            let lang = clean_line(lang);
            if Some(&lang) != info.file_lang.as_ref() {
                sample.lang_moves.push((info.file_lang.clone(), lang));
            }
        }
        if let Some(Value::String(date)) = fields.get("date") {
            sample.dates += 1;
            if let Some(dated) = date_offset(date.trim()) {
                sample.dated.push(dated);
            }
        }
    }
    if let Some(first) = unreadable.first() {
        problems.push(
            Diagnostic::warning(
                root.join(first),
                format!(
                    "{} of the {take} documents read have front matter herald cannot read (this is the first)",
                    unreadable.len()
                ),
            )
            .with_hint("`herald check` names each with its line"),
        );
    }
    sample
}

/// The front-matter fields of document `rel` of the store at `root`, or
/// `None` when it cannot be read (or must not be, see [`disk`]).
fn read_fields(root: &Path, rel: &Path, kind: DocumentKind) -> Option<Map<String, Value>> {
    let bytes = disk::read_found(root, rel, &disk::ReadPolicy::default()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    match kind {
        DocumentKind::Json => front_matter::parse(FrontMatterFormat::Json, &text, 1).ok(),
        DocumentKind::Markdown => {
            let split = front_matter::split(&text).ok()?;
            front_matter::parse(split.format, split.front_matter, split.first_line).ok()
        }
    }
}

/// The instant of an RFC 3339 date and the UTC offset (in seconds) written
/// in it; `None` for local dates.
fn date_offset(date: &str) -> Option<(jiff::Timestamp, i32)> {
    let pieces = jiff::fmt::temporal::Pieces::parse(date).ok()?;
    let offset = pieces.offset()?.to_numeric_offset().seconds();
    Some((date.parse().ok()?, offset))
}

/// `+07:00` for 25200.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The zone among [`CANDIDATE_ZONES`] that gives the offsets of the most
/// `dated` instants (so +01:00 in winter and +02:00 in summer is
/// Europe/Paris), with how many it gives; earlier zones win ties. `None`
/// when no zone gives at least half of them.
fn best_zone(dated: &[(jiff::Timestamp, i32)]) -> Option<(&'static str, usize)> {
    let mut best: Option<(&'static str, usize)> = None;
    for zone in CANDIDATE_ZONES {
        let Ok(tz) = jiff::tz::TimeZone::get(zone) else { continue };
        let matches = dated.iter().filter(|(at, offset)| tz.to_offset(*at).seconds() == *offset).count();
        if matches > best.map_or(0, |(_, n)| n) {
            best = Some((zone, matches));
        }
    }
    best.filter(|(_, n)| n * 2 >= dated.len())
}

/// Representative zones for the UTC offsets of article dates, one or two per
/// offset; the first of zones that fit equally well is chosen.
const CANDIDATE_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Africa/Lagos",
    "Europe/Athens",
    "Africa/Johannesburg",
    "Europe/Moscow",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Yangon",
    "Asia/Ho_Chi_Minh",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Darwin",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Bogota",
    "America/Halifax",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
];

/// The time zone, why, and whether it is a guess.
pub(super) fn choose_time_zone(site: Option<&SiteConfig>, sample: &Sample) -> (String, String, bool) {
    if let Some((zone, site)) = site.and_then(|s| s.time_zone.as_ref().map(|z| (z, s))) {
        return (zone.clone(), format!("from {}'s timeZone", site.file_name()), false);
    }
    if sample.dates == 0 {
        return ("UTC".into(), "no article dates to learn it from".into(), true);
    }
    if sample.dated.is_empty() {
        return ("UTC".into(), "no article date carries a UTC offset".into(), true);
    }
    let share = |n: usize| {
        if n == sample.dates {
            "article dates".to_string()
        } else {
            format!("{n} of {} article dates read", sample.dates)
        }
    };
    match best_zone(&sample.dated) {
        Some((zone, n)) => {
            let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let offsets: BTreeSet<i32> =
                sample.dated.iter().filter(|(at, o)| tz.to_offset(*at).seconds() == *o).map(|(_, o)| *o).collect();
            let offsets: Vec<String> = offsets.into_iter().map(offset_text).collect();
            (zone.to_string(), format!("from the {} offsets in {}", offsets.join(" and "), share(n)), true)
        }
        None => {
            let mut counts: BTreeMap<i32, usize> = BTreeMap::new();
            for (_, offset) in &sample.dated {
                *counts.entry(*offset).or_default() += 1;
            }
            let (offset, n) =
                counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map_or((0, 0), |(o, n)| (*o, *n));
            let why = format!("the {} offsets in {} match no zone herald init knows", offset_text(offset), share(n));
            ("UTC".into(), why, true)
        }
    }
}

/// The default language and why: the site configuration's, else the
/// language with the most documents, else `en`.
pub(super) fn choose_default_language(
    site: Option<&SiteConfig>,
    languages: &BTreeMap<String, usize>,
) -> (String, String, bool) {
    if let Some(site) = site
        && let Some(code) = site.default_language.as_ref().filter(|c| is_language_code(c))
    {
        let key = match site.generator {
            Generator::Zola => "default_language",
            Generator::Hugo => "defaultContentLanguage",
        };
        return (code.clone(), format!("from {}'s {key}", site.file_name()), false);
    }
    let most = languages.iter().filter(|(_, n)| **n > 0).max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
    match most {
        Some((code, _)) => (
            code.clone(),
            "the language with the most articles, counting files without a language code in it".into(),
            true,
        ),
        None => ("en".into(), "no file names its language, so English is assumed".into(), true),
    }
}

/// Sections from the first-level folders, with titles from `_index` files.
pub(super) fn sections(
    root: &Path,
    folders: &BTreeMap<String, usize>,
    languages: &BTreeMap<String, usize>,
    default_language: &str,
    problems: &mut Vec<Diagnostic>,
) -> Vec<SectionFound> {
    let mut by_slug: BTreeMap<String, SectionFound> = BTreeMap::new();
    for (folder, &count) in folders {
        let slug = slugify(folder);
        if slug.is_empty() || !is_slug(&slug) {
            problems.push(
                Diagnostic::warning(
                    root.join(folder),
                    format!("the folder `{folder}` gives no section slug; herald skips its {count} articles"),
                )
                .with_hint("rename the folder with letters or digits, e.g. `news`"),
            );
            continue;
        }
        if &slug != folder {
            problems.push(
                Diagnostic::warning(
                    root.join(folder),
                    format!("the folder `{folder}` is published as section `{slug}`"),
                )
                .with_hint(format!("rename the folder to `{slug}` so folders and URLs agree")),
            );
        }
        let section = by_slug.entry(slug.clone()).or_insert_with(|| SectionFound {
            slug,
            folders: Vec::new(),
            titles: BTreeMap::new(),
            articles: 0,
        });
        section.folders.push(folder.clone());
        section.articles += count;
        for (lang, title) in index_titles(&root.join(folder), languages, default_language) {
            section.titles.entry(lang).or_insert(title);
        }
    }
    by_slug.into_values().collect()
}

/// Titles from `_index.<lang>.md` files in `folder` (and `_index.md` for the
/// default language when it has no `_index.<lang>.md`), for declared
/// languages only. Looks the files up by name: a section folder may hold
/// a hundred thousand articles.
fn index_titles(
    folder: &Path,
    languages: &BTreeMap<String, usize>,
    default_language: &str,
) -> BTreeMap<String, String> {
    let title_in = |name: String| {
        read_fields(folder, Path::new(&name), DocumentKind::Markdown)
            .and_then(|f| f.get("title").and_then(Value::as_str).map(clean_line))
            .filter(|t| !t.is_empty())
    };
    let mut titles = BTreeMap::new();
    for code in languages.keys() {
        let title = title_in(format!("_index.{code}.md"))
            .or_else(|| (code == default_language).then(|| title_in("_index.md".into())).flatten());
        if let Some(title) = title {
            titles.insert(code.clone(), title);
        }
    }
    titles
}

/// The name of language `code` in itself, from the site configuration or
/// herald's short list.
pub(super) fn language_name(site: Option<&SiteConfig>, code: &str) -> Option<String> {
    if let Some(name) = site.and_then(|s| s.language_names.get(code)) {
        return Some(name.clone());
    }
    let base = code.split('-').next().unwrap_or(code);
    LANGUAGE_NAMES.iter().find(|(c, _)| *c == base).map(|(_, n)| n.to_string())
}

/// Names of common languages in themselves, for `[languages.xx] name`.
const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("ar", "العربية"),
    ("de", "Deutsch"),
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("hi", "हिन्दी"),
    ("id", "Bahasa Indonesia"),
    ("it", "Italiano"),
    ("ja", "日本語"),
    ("km", "ភាសាខ្មែរ"),
    ("ko", "한국어"),
    ("lo", "ພາສາລາວ"),
    ("ms", "Bahasa Melayu"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("ru", "Русский"),
    ("th", "ไทย"),
    ("tr", "Türkçe"),
    ("uk", "Українська"),
    ("vi", "Tiếng Việt"),
    ("zh", "中文"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_candidate_zone_exists() {
        for zone in CANDIDATE_ZONES {
            assert!(jiff::tz::TimeZone::get(zone).is_ok(), "{zone}");
        }
    }

    #[test]
    fn zones_are_chosen_by_the_offsets_they_give() {
        let dated =
            |dates: &[&str]| -> Vec<(jiff::Timestamp, i32)> { dates.iter().map(|d| date_offset(d).unwrap()).collect() };
        let zone = |dates: &[&str]| best_zone(&dated(dates)).map(|(z, _)| z);
        assert_eq!(zone(&["2026-11-20T08:30:00+07:00"]), Some("Asia/Ho_Chi_Minh"));
        assert_eq!(zone(&["2026-01-20T08:30:00+01:00", "2026-07-20T08:30:00+02:00"]), Some("Europe/Paris"));
        assert_eq!(zone(&["2026-01-20T08:30:00-05:00", "2026-07-20T08:30:00-04:00"]), Some("America/New_York"));
        assert_eq!(zone(&["2026-01-20T08:30:00Z", "2026-07-20T08:30:00+00:00"]), Some("UTC"));
        assert_eq!(zone(&["2026-07-20T08:30:00+08:00"]), Some("Asia/Singapore"));
        assert_eq!(zone(&["2026-07-20T08:30:00+09:00"]), Some("Asia/Tokyo"));
        assert_eq!(zone(&["2026-07-20T08:30:00+05:30"]), Some("Asia/Kolkata"));
        assert_eq!(zone(&["2026-07-20T08:30:00+03:17"]), None);
    }

    #[test]
    fn offsets_are_read_from_dates() {
        let offset = |d: &str| date_offset(d).map(|(_, o)| o);
        assert_eq!(offset("2026-11-20T08:30:00+07:00"), Some(25_200));
        assert_eq!(offset("2026-11-20T08:30:00Z"), Some(0));
        assert_eq!(offset("2026-11-20T08:30:00-05:30"), Some(-19_800));
        assert_eq!(date_offset("2026-11-20T08:30:00"), None);
        assert_eq!(date_offset("2026-11-20"), None);
        assert_eq!(offset_text(-19_800), "-05:30");
        assert_eq!(offset_text(25_200), "+07:00");
    }
}
