//! `[schedule]`: when `herald serve` runs its periodic jobs, as cron
//! expressions read in the site's time zone.

use serde::Deserialize;
use toml::Spanned;

use super::validate::Validator;
use crate::schedule::CronSchedule;

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
                v.problem(
                    &text,
                    why,
                    "five fields: minute hour day-of-month month day-of-week (a sixth, first, field is seconds)",
                );
                None
            }
        },
    };
    let rebuild = parse(raw.rebuild, "0 * * * *");
    let housekeeping = parse(raw.housekeeping, "30 3 * * *");
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
