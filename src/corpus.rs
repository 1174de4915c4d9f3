//! A deterministic corpus generator: a store of N articles that looks like
//! the newsroom's, for benchmarks and for trying `herald init`.
//!
//! The same seed gives the same files, byte for byte. The mix follows a
//! provincial bilingual newspaper: twelve sections, Vietnamese and English
//! (about 40% of stories in both), 600-1,200-word bodies with subheadings,
//! 60% of articles with one to three captioned photos, 1% drafts, a few
//! future-dated articles, and the cases that break feeds elsewhere (`&`,
//! `<`, quotes, decomposed Vietnamese, emoji, a 400-character title).
//!
//! Tags and authors follow a newsroom's long tail ([`Zipf`]): one to four
//! tags per article drawn from 10,000 Vietnamese (2,500 English) terms, a
//! few used everywhere and most rarely, about one use in six spelled
//! another way (capitalised, title case, lower or upper case, decomposed
//! Unicode), as editors do; authors from 400 names. `benches/run` knows a
//! corpus by the hash of this file, so any change here has it written
//! again.

use std::io::Write as _;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use unicode_normalization::UnicodeNormalization;

/// The sections of a generated corpus.
pub const SECTIONS: [(&str, &str, &str); 12] = [
    ("thoi-su", "Thời sự", "News"),
    ("kinh-te", "Kinh tế", "Economy"),
    ("van-hoa", "Văn hóa", "Culture"),
    ("the-thao", "Thể thao", "Sports"),
    ("du-lich", "Du lịch", "Travel"),
    ("giao-duc", "Giáo dục", "Education"),
    ("y-te", "Y tế", "Health"),
    ("khoa-hoc", "Khoa học", "Science"),
    ("phap-luat", "Pháp luật", "Law"),
    ("nong-nghiep", "Nông nghiệp", "Agriculture"),
    ("quoc-te", "Quốc tế", "World"),
    ("doi-song", "Đời sống", "Life"),
];

const VI_WORDS: &[&str] = &[
    "tỉnh",
    "thành phố",
    "người dân",
    "phát triển",
    "kinh tế",
    "văn hóa",
    "lễ hội",
    "sông Hương",
    "Huế",
    "đường",
    "cầu",
    "nông dân",
    "lúa",
    "cà phê",
    "du khách",
    "biển",
    "mùa thu",
    "trường học",
    "học sinh",
    "bệnh viện",
    "bác sĩ",
    "dự án",
    "đầu tư",
    "công trình",
    "khánh thành",
    "hội nghị",
    "đại biểu",
    "chính quyền",
    "xã",
    "huyện",
    "thôn",
    "làng nghề",
    "nghệ nhân",
    "nón lá",
    "nhã nhạc",
    "cung đình",
    "di sản",
    "bảo tồn",
    "thiên nhiên",
    "rừng",
    "mưa lũ",
    "bão",
    "cứu hộ",
    "an toàn",
    "giao thông",
    "xe máy",
    "thị trường",
    "giá cả",
    "xuất khẩu",
    "sản lượng",
    "thu hoạch",
    "hợp tác xã",
    "doanh nghiệp",
    "việc làm",
    "thanh niên",
    "phụ nữ",
    "gia đình",
    "truyền thống",
    "hiện đại",
    "công nghệ",
    "số hóa",
    "điện",
    "nước sạch",
    "môi trường",
    "rác thải",
    "cây xanh",
    "công viên",
    "bóng đá",
    "giải đấu",
    "vận động viên",
    "huy chương",
    "chiến thắng",
    "khán giả",
    "sân vận động",
    "đua thuyền",
    "võ thuật",
    "marathon",
    "ẩm thực",
    "bún bò",
    "chợ",
    "tiểu thương",
    "mùa xuân",
    "Tết",
    "nhà vườn",
    "đền",
    "chùa",
    "Đại Nội",
    "lăng tẩm",
    "đồng bào",
    "miền núi",
    "A Lưới",
    "Phong Điền",
    "Lăng Cô",
    "đầm phá",
    "ngư dân",
    "hải sản",
    "cảng",
    "tàu",
];

const EN_WORDS: &[&str] = &[
    "province",
    "city",
    "residents",
    "development",
    "economy",
    "culture",
    "festival",
    "Perfume River",
    "Hue",
    "road",
    "bridge",
    "farmers",
    "rice",
    "coffee",
    "visitors",
    "beach",
    "autumn",
    "school",
    "students",
    "hospital",
    "doctors",
    "project",
    "investment",
    "construction",
    "inauguration",
    "conference",
    "delegates",
    "authorities",
    "commune",
    "district",
    "village",
    "craft village",
    "artisans",
    "conical hat",
    "court music",
    "imperial",
    "heritage",
    "conservation",
    "nature",
    "forest",
    "floods",
    "storm",
    "rescue",
    "safety",
    "traffic",
    "motorbikes",
    "market",
    "prices",
    "exports",
    "output",
    "harvest",
    "cooperative",
    "businesses",
    "jobs",
    "young people",
    "women",
    "families",
    "tradition",
    "modern",
    "technology",
    "digital",
    "electricity",
    "clean water",
    "environment",
    "waste",
    "trees",
    "park",
    "football",
    "tournament",
    "athletes",
    "medals",
    "victory",
    "spectators",
    "stadium",
    "boat race",
    "martial arts",
    "marathon",
    "cuisine",
    "noodle soup",
    "market stalls",
    "spring",
    "Lunar New Year",
    "garden houses",
    "temple",
    "pagoda",
    "Citadel",
    "tombs",
    "ethnic communities",
    "highlands",
    "lagoon",
    "fishermen",
    "seafood",
    "port",
];

/// Distinct Vietnamese tags (before spelling variants).
const VI_TAGS: usize = 10_000;
/// Distinct English tags.
const EN_TAGS: usize = 2_500;
/// Distinct authors.
const AUTHORS: usize = 400;
/// The exponent of the tags' and authors' Zipf distributions.
const ZIPF_EXPONENT: f64 = 1.05;

/// Family, middle and given names of generated authors.
const FAMILY_NAMES: &[&str] =
    &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"];
const MIDDLE_NAMES: &[&str] = &["Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Hữu", "Thanh"];
const GIVEN_NAMES: &[&str] = &[
    "An", "Bích", "Hà", "Quân", "Dũng", "Hương", "Lan", "Nam", "Phúc", "Tâm", "Trâm", "Vy", "Đạt", "Hùng", "Khoa",
    "Linh", "Mai", "Sơn", "Thảo", "Yến",
];

/// A Zipf-like distribution over ranks `0..n`: rank `r` is drawn with
/// weight `1 / (r + 1)^s`, so the first few ranks are everywhere and most
/// are rare.
pub struct Zipf {
    /// The running sums of the weights.
    cumulative: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n` ranks (at least one) with exponent `s`.
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=n.max(1))
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(s);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    /// A rank drawn from `rng`.
    pub fn sample(&self, rng: &mut StdRng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let at = rng.random_range(0.0..total);
        self.cumulative.partition_point(|c| *c <= at).min(self.cumulative.len() - 1)
    }
}

/// The terms articles are tagged and signed with.
struct Terms {
    vi_tags: Zipf,
    en_tags: Zipf,
    authors: Zipf,
}

impl Terms {
    fn new() -> Terms {
        Terms {
            vi_tags: Zipf::new(VI_TAGS, ZIPF_EXPONENT),
            en_tags: Zipf::new(EN_TAGS, ZIPF_EXPONENT),
            authors: Zipf::new(AUTHORS, ZIPF_EXPONENT),
        }
    }

    /// One to four tags of an article in `lang`, as an editor writes them.
    fn tags(&self, rng: &mut StdRng, lang: &str) -> Vec<String> {
        let (zipf, vocabulary) = if lang == "vi" { (&self.vi_tags, VI_WORDS) } else { (&self.en_tags, EN_WORDS) };
        let count = match rng.random_range(0..10) {
            0..=2 => 1,
            3..=6 => 2,
            7..=8 => 3,
            _ => 4,
        };
        let mut out: Vec<String> = Vec::new();
        for _ in 0..count {
            let canonical = tag_of_rank(zipf.sample(rng), vocabulary);
            let tag = spelled(rng, &canonical);
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
        out
    }

    /// An author's name.
    fn author(&self, rng: &mut StdRng) -> String {
        let rank = self.authors.sample(rng);
        let family = FAMILY_NAMES[rank % FAMILY_NAMES.len()];
        let middle = MIDDLE_NAMES[(rank / FAMILY_NAMES.len()) % MIDDLE_NAMES.len()];
        let given = GIVEN_NAMES[(rank * 7 + rank / 3) % GIVEN_NAMES.len()];
        format!("{family} {middle} {given}")
    }
}

/// The tag of popularity `rank`: the most used are single words of the
/// vocabulary, the long tail pairs of them.
fn tag_of_rank(rank: usize, vocabulary: &[&str]) -> String {
    let n = vocabulary.len();
    if rank < n {
        return vocabulary[rank].to_string();
    }
    // Spread the pairs over the vocabulary (7,919 is prime, so coprime to
    // n², and every pair is reached once).
    let k = ((rank - n) * 7_919) % (n * n);
    let (a, b) = (k / n, k % n);
    if a == b { vocabulary[a].to_string() } else { format!("{} {}", vocabulary[a], vocabulary[b]) }
}

/// `tag` as one editor writes it: mostly as the vocabulary has it, about
/// one time in six capitalised, in title case, lower or upper case, or in
/// decomposed Unicode.
fn spelled(rng: &mut StdRng, tag: &str) -> String {
    let capitalise = |word: &str| {
        let mut chars = word.chars();
        chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
    };
    match rng.random_range(0..100) {
        0..=82 => tag.to_string(),
        83..=90 => capitalise(tag),
        91..=95 => tag.split(' ').map(capitalise).collect::<Vec<_>>().join(" "),
        96..=97 => tag.to_lowercase(),
        98 => tag.to_uppercase(),
        _ => tag.nfd().collect(),
    }
}

/// How many documents were written, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CorpusSummary {
    /// Article documents written.
    pub documents: usize,
    /// Stories written in both languages.
    pub pairs: usize,
    /// Drafts.
    pub drafts: usize,
    /// Articles dated in the future.
    pub future: usize,
}

/// Writes a corpus of `count` article documents into `dir` (created if
/// missing), from `seed`.
pub fn generate(dir: &Path, count: usize, seed: u64) -> std::io::Result<CorpusSummary> {
    let mut rng = StdRng::seed_from_u64(seed);
    let terms = Terms::new();
    let mut summary = CorpusSummary::default();
    for (slug, vi_title, en_title) in SECTIONS {
        std::fs::create_dir_all(dir.join(slug))?;
        // Section pages, as Hugo keeps them: herald reads their titles in
        // `herald init` and otherwise skips them.
        std::fs::write(dir.join(slug).join("_index.vi.md"), format!("+++\ntitle = \"{vi_title}\"\n+++\n"))?;
        std::fs::write(dir.join(slug).join("_index.en.md"), format!("+++\ntitle = \"{en_title}\"\n+++\n"))?;
    }
    // Dates run back from the corpus's own "today", about 60 articles a day.
    let last: jiff::Timestamp = "2026-11-25T18:00:00+07:00".parse().expect("a fixed date");
    let span_minutes = (count as i64 * 24).max(60);
    let mut story = 0usize;
    while summary.documents < count {
        story += 1;
        let (section, _, _) = SECTIONS[rng.random_range(0..SECTIONS.len())];
        let minutes_back = span_minutes * (count as i64 - summary.documents as i64) / count as i64;
        let mut date = last - jiff::SignedDuration::from_mins(minutes_back + rng.random_range(0..30));
        let future = story % 250 == 125;
        if future {
            date = last + jiff::SignedDuration::from_hours(24 * rng.random_range(1..60));
            summary.future += 1;
        }
        let draft = rng.random_range(0..100) == 0;
        summary.drafts += usize::from(draft);
        let pair = rng.random_range(0..100) < 40 && summary.documents + 2 <= count;
        let images = if rng.random_range(0..100) < 60 { rng.random_range(1..=3) } else { 0 };
        let slug = format!("bai-{story:07}");
        let languages: &[&str] = if pair { &["vi", "en"] } else { &["vi"] };
        for lang in languages {
            let doc = document(&mut rng, &terms, story, lang, date, draft, images);
            let path = dir.join(section).join(format!("{slug}.{lang}.md"));
            std::fs::File::create(path)?.write_all(doc.as_bytes())?;
            summary.documents += 1;
        }
        summary.pairs += usize::from(pair);
    }
    Ok(summary)
}

fn words<'a>(rng: &mut StdRng, vocabulary: &[&'a str], n: usize) -> Vec<&'a str> {
    (0..n).map(|_| vocabulary[rng.random_range(0..vocabulary.len())]).collect()
}

fn sentence(rng: &mut StdRng, vocabulary: &[&str]) -> String {
    let n = rng.random_range(8..18);
    let mut text = words(rng, vocabulary, n).join(" ");
    if let Some(first) = text.chars().next() {
        let upper: String = first.to_uppercase().collect();
        text.replace_range(..first.len_utf8(), &upper);
    }
    text.push('.');
    text
}

/// The title of story `story`: mostly ordinary, sometimes one of the hard
/// cases.
fn title(rng: &mut StdRng, story: usize, vocabulary: &[&str]) -> String {
    let base = sentence(rng, vocabulary).trim_end_matches('.').to_string();
    match story % 500 {
        7 => format!("{base} & \"giá\" < 2025"),
        11 => base.nfd().collect(),
        13 => format!("{base} 🎉🌾"),
        17 => {
            let mut long = base.clone();
            while long.chars().count() < 400 {
                long.push(' ');
                long.push_str(&base);
            }
            long.chars().take(400).collect()
        }
        _ => base,
    }
}

fn document(
    rng: &mut StdRng,
    terms: &Terms,
    story: usize,
    lang: &str,
    date: jiff::Timestamp,
    draft: bool,
    images: usize,
) -> String {
    let vocabulary = if lang == "vi" { VI_WORDS } else { EN_WORDS };
    let title = title(rng, story, vocabulary).replace('\\', "").replace('"', "\\\"");
    let summary = sentence(rng, vocabulary);
    let zoned = date.to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap_or(jiff::tz::TimeZone::UTC));
    let mut doc = format!(
        "+++\ntitle = \"{title}\"\ndate = {}\nsummary = \"{summary}\"\n",
        zoned.strftime("%Y-%m-%dT%H:%M:%S%:z")
    );
    doc.push_str(&format!("authors = [\"{}\"]\n", terms.author(rng)));
    let tags: Vec<String> = terms.tags(rng, lang).iter().map(|t| format!("\"{t}\"")).collect();
    doc.push_str(&format!("tags = [{}]\n", tags.join(", ")));
    if draft {
        doc.push_str("draft = true\n");
    }
    let month = zoned.strftime("%Y/%m");
    for n in 0..images {
        let caption = sentence(rng, vocabulary);
        let alt = sentence(rng, vocabulary);
        doc.push_str(&format!(
            "\n[[images]]\nsrc = \"/images/{month}/anh-{story}-{n}.jpg\"\ncaption = \"{caption}\"\nalt = \"{alt}\"\n"
        ));
    }
    doc.push_str("+++\n");
    let target_words = rng.random_range(600..=1200);
    let mut written = 0;
    let mut paragraph = 0;
    while written < target_words {
        if paragraph > 0 && paragraph % 3 == 0 {
            doc.push_str(&format!("\n## {}\n", sentence(rng, vocabulary).trim_end_matches('.')));
        }
        if paragraph == 1 && images > 0 {
            let caption = sentence(rng, vocabulary);
            doc.push_str(&format!(
                "\n![{}](/images/{month}/anh-{story}-0.jpg \"{caption}\")\n",
                words(rng, vocabulary, 3).join(" ")
            ));
        }
        let sentences = rng.random_range(3..8);
        let text: Vec<String> = (0..sentences).map(|_| sentence(rng, vocabulary)).collect();
        let text = text.join(" ");
        written += text.split_whitespace().count();
        doc.push('\n');
        doc.push_str(&text);
        doc.push('\n');
        paragraph += 1;
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_files() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let summary = generate(a.path(), 60, 7).unwrap();
        assert_eq!(summary.documents, 60);
        generate(b.path(), 60, 7).unwrap();
        for (slug, _, _) in SECTIONS {
            for entry in std::fs::read_dir(a.path().join(slug)).unwrap() {
                let entry = entry.unwrap();
                let other = std::fs::read(b.path().join(slug).join(entry.file_name())).unwrap();
                assert_eq!(std::fs::read(entry.path()).unwrap(), other);
            }
        }
        let c = tempfile::tempdir().unwrap();
        generate(c.path(), 60, 8).unwrap();
        let files = |d: &Path| -> Vec<Vec<u8>> {
            let mut all = Vec::new();
            for (slug, _, _) in SECTIONS {
                let mut names: Vec<_> = std::fs::read_dir(d.join(slug)).unwrap().map(|e| e.unwrap().path()).collect();
                names.sort();
                all.extend(names.into_iter().map(|p| std::fs::read(p).unwrap()));
            }
            all
        };
        assert_ne!(files(a.path()), files(c.path()), "another seed, another corpus");
    }

    /// Tags have a long tail: the most used tag is far more common than
    /// the median, thousands of terms are drawn, and some are spelled
    /// more than one way.
    #[test]
    fn tags_follow_a_long_tail_with_spelling_variants() {
        let mut rng = StdRng::seed_from_u64(1);
        let terms = Terms::new();
        let mut uses: std::collections::HashMap<String, usize> = Default::default();
        let mut spellings: std::collections::HashMap<String, std::collections::BTreeSet<String>> = Default::default();
        for _ in 0..20_000 {
            for tag in terms.tags(&mut rng, "vi") {
                let slug = crate::text::slugify(&tag);
                *uses.entry(slug.clone()).or_default() += 1;
                spellings.entry(slug).or_default().insert(tag);
            }
        }
        let mut counts: Vec<usize> = uses.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        assert!(counts.len() > 3_000, "{} distinct tags", counts.len());
        assert!(counts[0] > 50 * counts[counts.len() / 2], "{} vs median {}", counts[0], counts[counts.len() / 2]);
        let varied = spellings.values().filter(|s| s.len() > 1).count();
        assert!(varied > 100, "{varied} tags spelled more than one way");
    }
}
