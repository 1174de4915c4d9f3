//! Date formats of the feed and sitemap specifications, always written in
//! the site's time zone (a Vietnamese newsroom's readers see +07:00).

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// RFC 822/2822 (RSS `pubDate`): `Mon, 15 Jan 2024 08:30:00 +0700`.
pub fn rfc2822(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone()).strftime("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// RFC 3339 to the second (Atom, JSON Feed, sitemaps):
/// `2024-01-15T08:30:00+07:00`.
pub fn rfc3339(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The same instant as a chrono value with the site's offset, for
/// `atom_syndication` (whole seconds, so no fractions leak into output).
pub fn chrono_fixed(at: Timestamp, tz: &TimeZone) -> chrono::DateTime<chrono::FixedOffset> {
    let offset_seconds = tz.to_offset(at).seconds();
    let offset = chrono::FixedOffset::east_opt(offset_seconds)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset"));
    chrono::DateTime::from_timestamp(at.as_second(), 0).unwrap_or_default().with_timezone(&offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_site_offset() {
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let at: Timestamp = "2024-01-15T01:30:00.123Z".parse().unwrap();
        assert_eq!(rfc2822(at, &tz), "Mon, 15 Jan 2024 08:30:00 +0700");
        assert_eq!(rfc3339(at, &tz), "2024-01-15T08:30:00+07:00");
        assert_eq!(chrono_fixed(at, &tz).to_rfc3339(), "2024-01-15T08:30:00+07:00");
        assert_eq!(rfc3339(at, &TimeZone::UTC), "2024-01-15T01:30:00+00:00");
    }
}
