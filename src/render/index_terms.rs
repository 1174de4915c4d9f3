//! The index page's lists of term feeds (tags, authors, categories) of one
//! language, and its links to the OPML subscription lists.
//!
//! A newsroom has thousands of tags, so the lists stay usable at that size:
//! each taxonomy is a closed `<details>` (the page opens short), its terms
//! most used first as a compact list of links rather than table rows, and a
//! filter box (shown once the script runs) that hides the terms not
//! matching what is typed, folded as slugs are (`le hoi` finds `Lễ hội`).

use super::opml;
use super::scope::{FeedFormat, FeedScope};
use crate::catalog::{Catalog, Term};
use crate::config::{Config, Taxonomy};

/// The term lists of `lang`, one closed `<details>` per enabled taxonomy
/// with term feeds, then the links to `lang`'s OPML files; `vietnamese`
/// picks the labels.
pub fn term_lists(
    lang: &str,
    vietnamese: bool,
    catalog: &Catalog,
    config: &Config,
    escape: fn(&str) -> String,
) -> String {
    let mut out = String::new();
    let mut opml_links = vec![(
        if vietnamese { "Mọi nguồn tin (OPML)" } else { "All feeds (OPML)" }.to_string(),
        opml::language_opml_path(lang),
    )];
    for taxonomy in config.taxonomies.enabled() {
        let mut terms: Vec<(&Term, usize, &str)> = catalog
            .terms()
            .filter(|(term, _)| term.lang == lang && term.taxonomy == taxonomy)
            .filter(|(term, _)| FeedScope::Term((*term).clone()).is_published(catalog, config))
            .map(|(term, entry)| (term, entry.count(), entry.title()))
            .collect();
        if terms.is_empty() {
            continue;
        }
        terms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.slug.cmp(&b.0.slug)));
        let label = label(taxonomy, vietnamese);
        out.push_str(&format!(
            "<details class=\"terms\">\n<summary>{label} ({})</summary>\n<input type=\"search\" class=\"term-filter\" \
             hidden placeholder=\"{}\" aria-label=\"{}\">\n<ul>\n",
            terms.len(),
            if vietnamese { "Lọc" } else { "Filter" },
            if vietnamese { "Lọc danh sách" } else { "Filter the list" },
        ));
        for (term, count, title) in terms {
            let url = config.url_for(&FeedScope::Term(term.clone()).path(FeedFormat::Rss, config));
            out.push_str(&format!(
                "<li data-slug=\"{}\"><a href=\"{}\">{}</a> <small>{count}</small></li>\n",
                escape(&term.slug),
                escape(&url),
                escape(title),
            ));
        }
        out.push_str("</ul>\n</details>\n");
        opml_links.push((format!("{label} (OPML)"), opml::taxonomy_opml_path(lang, taxonomy)));
    }
    out.push_str("<p class=\"opml\">");
    let links: Vec<String> = opml_links
        .into_iter()
        .map(|(label, path)| format!("<a href=\"{}\">{}</a>", escape(&config.url_for(&path)), escape(&label)))
        .collect();
    out.push_str(&links.join(" · "));
    out.push_str("</p>\n");
    out
}

/// The name of a taxonomy's list.
fn label(taxonomy: Taxonomy, vietnamese: bool) -> &'static str {
    match (taxonomy, vietnamese) {
        (Taxonomy::Tags, true) => "Thẻ",
        (Taxonomy::Tags, false) => "Tags",
        (Taxonomy::Authors, true) => "Tác giả",
        (Taxonomy::Authors, false) => "Authors",
        (Taxonomy::Categories, true) => "Chuyên mục",
        (Taxonomy::Categories, false) => "Categories",
    }
}

/// The style of the term lists.
pub const STYLE: &str = r#"details.terms { margin: .8rem 0; }
details.terms summary { cursor: pointer; font-weight: 600; }
details.terms ul { columns: 14rem; list-style: none; padding: 0; margin: .5rem 0; font-size: .92rem; }
details.terms li { break-inside: avoid; }
details.terms small { color: #666; }
.term-filter { display: block; width: 100%; max-width: 24rem; margin: .5rem 0; }
"#;

/// Shows the filter boxes and hides the terms whose slug does not hold
/// what is typed, folded as slugs are.
pub const SCRIPT: &str = r#"document.querySelectorAll("details.terms").forEach(function (list) {
  var field = list.querySelector(".term-filter");
  field.hidden = false;
  field.addEventListener("input", function () {
    var wanted = field.value.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d")
      .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    list.querySelectorAll("li").forEach(function (item) {
      item.hidden = wanted !== "" && item.dataset.slug.indexOf(wanted) < 0;
    });
  });
});
"#;
