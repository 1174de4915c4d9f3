//! Path and permalink templates: `/{lang}/{section}/rss.xml` filled with
//! values, and the check that a template names only placeholders it may use.

/// The first `{name}` in `template` that is not in `allowed`.
pub(super) fn unknown_placeholder(template: &str, allowed: &[&str]) -> Option<String> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}')?;
        let name = &after[..end];
        if !allowed.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

/// Fills `{name}` placeholders in `template` from `values`.
pub fn fill_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill() {
        assert_eq!(
            fill_template("/{lang}/{section}/rss.xml", &[("lang", "vi"), ("section", "the-thao")]),
            "/vi/the-thao/rss.xml"
        );
    }
}
