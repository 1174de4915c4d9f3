//! Cron schedules for the daemon's periodic jobs (a full rebuild as a
//! safety net, housekeeping).
//!
//! Expressions use the `cron` crate, which wants a seconds field first. As
//! operators write classic five-field crontab lines (`minute hour day month
//! weekday`), five fields get `0` seconds prepended; six or seven fields
//! (with seconds, optionally a year) are taken as they are. Times are in
//! the site's time zone.

use std::str::FromStr;

use chrono::{FixedOffset, TimeZone as _};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    text: String,
    schedule: cron::Schedule,
}

impl CronSchedule {
    /// Parses a 5-field crontab line (or 6-7 fields with seconds first).
    /// The error says what is wrong and how the expression should look.
    pub fn parse(text: &str) -> Result<CronSchedule, String> {
        let fields = text.split_whitespace().count();
        let full = match fields {
            5 => format!("0 {text}"),
            6 | 7 => text.to_string(),
            n => {
                return Err(format!(
                    "`{text}` has {n} fields; expected 5 (minute hour day-of-month month day-of-week), e.g. \"0 * * * *\" for hourly"
                ));
            }
        };
        let schedule = cron::Schedule::from_str(&full).map_err(|e| {
            let why = e.to_string();
            let why = why.lines().next().unwrap_or("").trim();
            format!("`{text}` is not a valid cron expression ({why}); expected e.g. \"0 * * * *\" (hourly) or \"30 3 * * *\" (03:30 daily)")
        })?;
        Ok(CronSchedule { text: text.to_string(), schedule })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first occurrence strictly after `after`, reading the expression
    /// in time zone `tz`.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        // chrono has no IANA zones here: use the zone's offset at `after`,
        // and again at the result in case a DST change lies between.
        let mut offset_at = after;
        for _ in 0..2 {
            let offset = FixedOffset::east_opt(tz.to_offset(offset_at).seconds())?;
            let start = offset.timestamp_opt(after.as_second(), 0).single()?;
            let next = self.schedule.after(&start).next()?;
            let next = Timestamp::from_second(next.timestamp()).ok()?;
            if tz.to_offset(next) == tz.to_offset(offset_at) {
                return Some(next);
            }
            offset_at = next;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::get("Asia/Ho_Chi_Minh").unwrap()
    }

    #[test]
    fn five_fields_mean_minutes() {
        let hourly = CronSchedule::parse("0 * * * *").unwrap();
        let t: Timestamp = "2026-11-26T08:20:00+07:00".parse().unwrap();
        assert_eq!(hourly.next_after(t, &tz()).unwrap(), "2026-11-26T09:00:00+07:00".parse::<Timestamp>().unwrap());
        let daily = CronSchedule::parse("30 3 * * *").unwrap();
        assert_eq!(daily.next_after(t, &tz()).unwrap(), "2026-11-27T03:30:00+07:00".parse::<Timestamp>().unwrap());
    }

    #[test]
    fn six_fields_have_seconds() {
        let every_ten_seconds = CronSchedule::parse("*/10 * * * * *").unwrap();
        let t: Timestamp = "2026-11-26T08:20:03+07:00".parse().unwrap();
        assert_eq!(
            every_ten_seconds.next_after(t, &tz()).unwrap(),
            "2026-11-26T08:20:10+07:00".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn weekday_names_and_dst_zones() {
        let weekdays = CronSchedule::parse("0 6 * * MON-FRI").unwrap();
        let friday: Timestamp = "2026-11-27T07:00:00+07:00".parse().unwrap();
        assert_eq!(
            weekdays.next_after(friday, &tz()).unwrap(),
            "2026-11-30T06:00:00+07:00".parse::<Timestamp>().unwrap()
        );
        // Across a DST change, 06:00 is still 06:00 local time.
        let london = TimeZone::get("Europe/London").unwrap();
        let before: Timestamp = "2026-10-24T12:00:00+01:00".parse().unwrap();
        let daily = CronSchedule::parse("0 6 * * *").unwrap();
        let next = daily.next_after(before, &london).unwrap();
        assert_eq!(next, "2026-10-25T06:00:00+00:00".parse::<Timestamp>().unwrap());
    }

    #[test]
    fn errors_explain_the_format() {
        let e = CronSchedule::parse("every hour").unwrap_err();
        assert!(e.contains("has 2 fields; expected 5"), "{e}");
        let e = CronSchedule::parse("61 * * * *").unwrap_err();
        assert!(e.contains("is not a valid cron expression"), "{e}");
        assert!(e.contains("\"0 * * * *\""), "{e}");
    }
}
