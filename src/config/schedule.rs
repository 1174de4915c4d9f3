//! `[schedule]`: when `herald serve` runs its periodic jobs, as cron
//! expressions read in the site's time zone.

use serde::Deserialize;
use toml::Spanned;

use super::validate::Validator;
use crate::schedule::CronSchedule;

/// `rebuild` when not given: at the top of every hour.
const DEFAULT_REBUILD: &str = "0 * * * *";
/// `housekeeping` when not given: every day at 03:30.
const DEFAULT_HOUSEKEEPING: &str = "30 3 * * *";
/// The hint for an unusable cron expression.
const CRON_HINT: &str = "five fields: minute hour day-of-month month day-of-week (a sixth, first, field is seconds)";

/// `[schedule]`: cron expressions (5 fields, minute first; or 6 with
/// seconds first), read in the site's time zone.
#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    /// Full rescan and rebuild, a safety net for missed file events.
    pub rebuild: CronSchedule,
    /// Housekeeping: trimming caches and pruning expired state.
    pub housekeeping: CronSchedule,
}

/// `[schedule]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    rebuild: Option<Spanned<String>>,
    housekeeping: Option<Spanned<String>>,
}

/// Checks `[schedule]`; `None` when an expression is unusable.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawSchedule) -> Option<ScheduleSettings> {
    let mut parse = |value: Option<Spanned<String>>, default: &str| match value {
        None => CronSchedule::parse(default).ok(),
        Some(text) => match CronSchedule::parse(text.get_ref()) {
            Ok(schedule) => Some(schedule),
            Err(why) => {
                v.problem(&text, why, CRON_HINT);
                None
            }
        },
    };
    let rebuild = parse(raw.rebuild, DEFAULT_REBUILD);
    let housekeeping = parse(raw.housekeeping, DEFAULT_HOUSEKEEPING);
    Some(ScheduleSettings { rebuild: rebuild?, housekeeping: housekeeping? })
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{MINIMAL, first_error};

    #[test]
    fn bad_cron_expression_names_its_line() {
        let text = format!("{MINIMAL}\n[schedule]\nrebuild = \"every hour\"\n");
        let e = first_error(&text);
        assert!(e.starts_with("feeds.toml:16:11: error: `every hour` has 2 fields; expected 5"), "{e}");
    }
}
