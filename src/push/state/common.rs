//! What both stores compute alike, without a database: times as the tables
//! keep them, and how IndexNow URLs fill batches.

use jiff::Timestamp;

/// Most URLs in one IndexNow request (the protocol's limit).
pub const INDEXNOW_BATCH: usize = 10_000;

/// A time as the tables store it: Unix seconds.
pub(super) fn seconds(at: Timestamp) -> i64 {
    at.as_second()
}

/// A time read from the tables.
pub(super) fn instant(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The URLs of a waiting IndexNow batch's payload (none when it cannot be
/// read).
pub(super) fn batch_urls(payload: &str) -> Vec<String> {
    serde_json::from_str(payload).unwrap_or_default()
}

/// What adding URLs to a host's waiting IndexNow batches writes.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct BatchChanges {
    /// The newest waiting batch, topped up: its id and new payload.
    pub(super) top_up: Option<(i64, String)>,
    /// The payloads of the batches to open.
    pub(super) open: Vec<String>,
}

/// How `urls` join the `waiting` batches of one host (id and URLs, oldest
/// first): each URL no batch holds yet, once, first topping up the newest
/// waiting batch to [`INDEXNOW_BATCH`], then in new batches of at most as
/// many.
pub(super) fn add_to_batches(waiting: &[(i64, Vec<String>)], urls: &[String]) -> BatchChanges {
    let mut known: std::collections::HashSet<&str> =
        waiting.iter().flat_map(|(_, b)| b.iter().map(String::as_str)).collect();
    let mut fresh: Vec<String> = Vec::new();
    for url in urls {
        if known.insert(url.as_str()) {
            fresh.push(url.clone());
        }
    }
    let mut top_up = None;
    if let Some((id, batch)) = waiting.last() {
        let room = INDEXNOW_BATCH.saturating_sub(batch.len()).min(fresh.len());
        if room > 0 {
            let mut batch = batch.clone();
            batch.extend(fresh.drain(..room));
            top_up = Some((*id, serde_json::to_string(&batch).unwrap_or_default()));
        }
    }
    let open = fresh.chunks(INDEXNOW_BATCH).map(|chunk| serde_json::to_string(chunk).unwrap_or_default()).collect();
    BatchChanges { top_up, open }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(n: usize, from: usize) -> Vec<String> {
        (from..from + n).map(|i| format!("https://x/{i}")).collect()
    }

    #[test]
    fn new_urls_top_up_the_newest_batch_then_open_batches() {
        let nothing = add_to_batches(&[], &[]);
        assert_eq!(nothing, BatchChanges { top_up: None, open: vec![] });
        let first = add_to_batches(&[], &urls(12_000, 0));
        assert_eq!(first.top_up, None);
        let sizes: Vec<usize> = first.open.iter().map(|p| batch_urls(p).len()).collect();
        assert_eq!(sizes, [10_000, 2_000]);
        // Known URLs are left out, the newest batch is filled first.
        let waiting = [(1, urls(10_000, 0)), (2, urls(2, 10_000))];
        let mut more = urls(3, 10_000);
        more.extend(urls(2, 9_998));
        let changes = add_to_batches(&waiting, &more);
        assert_eq!(changes.top_up, Some((2, serde_json::to_string(&urls(3, 10_000)).unwrap())));
        assert!(changes.open.is_empty());
        // Duplicates within the new URLs count once.
        let twice = [urls(1, 5), urls(1, 5)].concat();
        assert_eq!(add_to_batches(&[], &twice).open, [serde_json::to_string(&urls(1, 5)).unwrap()]);
    }

    #[test]
    fn an_unreadable_payload_holds_no_urls() {
        assert!(batch_urls("not json").is_empty());
        assert_eq!(batch_urls(r#"["https://x/1"]"#), ["https://x/1"]);
    }
}
