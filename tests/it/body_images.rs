//! Body images: an article whose front matter names no image gets the first
//! image of its body (with its alt text and caption) as its image in every
//! output that carries one: RSS `media:content`, the Atom enclosure link,
//! JSON Feed `image` (also what webhook payloads are made of), and the
//! sitemap's `image:image`. Front-matter images still win.

use crate::common::{TempStore, text};

/// Shaped like the seed article (a Vietnamese newspaper page): a lede, then
/// three captioned photos in the body as the page had them, none in the
/// front matter.
const SEED_LIKE: &str = r#"+++
title = "Mưa lớn gây ngập sâu nhiều tuyến phố ở Huế"
date = 2026-11-20T08:00:00+07:00
authors = ["Trần Thị Bích"]
+++
Mưa lớn kéo dài từ đêm qua khiến nhiều tuyến phố ở Huế ngập sâu.

<figure class="image">
<img src="/images/2026/11/ngap-le-loi.jpg" alt="Đường Lê Lợi ngập sâu" width="800">
<figcaption>Nước ngập sâu trên đường Lê Lợi sáng 20/11. Ảnh: <em>Bích Trần</em></figcaption>
</figure>

Lực lượng chức năng đã sơ tán người dân ở các vùng trũng.

<figure class="image">
<img src="/images/2026/11/so-tan.jpg" alt="Sơ tán dân">
<figcaption>Sơ tán người dân khỏi vùng trũng.</figcaption>
</figure>

<figure class="image">
<img src="/images/2026/11/cuu-ho.jpg" alt="Cứu hộ">
<figcaption>Xuồng cứu hộ ở phường Kim Long.</figcaption>
</figure>
"#;

#[test]
fn the_first_body_photo_becomes_the_articles_image_everywhere() {
    let store = TempStore::new();
    store.write("thoi-su/mua-lon.vi.md", SEED_LIKE);
    // The same in Markdown's own syntax: the title is the caption.
    store.write(
        "thoi-su/markdown.vi.md",
        "+++\ntitle = \"Markdown\"\ndate = 2026-11-19T08:00:00+07:00\n+++\nLede.\n\n![Cầu Trường Tiền](/images/a.jpg \"Cầu Trường Tiền lúc chiều\")\n\n![b](/images/b.jpg \"B\")\n",
    );
    // Front-matter images win over the body's.
    store.write(
        "thoi-su/front-matter.vi.md",
        "+++\ntitle = \"Front matter\"\ndate = 2026-11-18T08:00:00+07:00\nimages = [{ src = \"/images/fm.jpg\", alt = \"FM\" }]\n+++\n![body](/images/body.jpg \"Body\")\n",
    );
    // An HTML body (JSON article): the first <img>, captioned by its figure.
    store.write(
        "thoi-su/html.vi.json",
        r#"{"title": "HTML", "date": "2026-11-17T08:00:00+07:00", "body_html": "<p>Lede</p><figure><img src=\"/images/h.jpg\" alt=\"H\"><figcaption>Chú thích H</figcaption></figure>"}"#,
    );
    store.article("thoi-su/none.vi.md", "No image", "2026-11-16T08:00:00+07:00");
    let built = store.build();

    let rss = text(&built, "/vi/rss.xml");
    let item = |title: &str| {
        let start = rss.find(&format!("<title>{title}</title>")).unwrap();
        rss[start..start + rss[start..].find("</item>").unwrap()].to_string()
    };
    let seed = item("Mưa lớn gây ngập sâu nhiều tuyến phố ở Huế");
    assert!(seed.contains("url=\"https://example.vn/images/2026/11/ngap-le-loi.jpg\">"), "{seed}");
    assert!(seed.contains("Nước ngập sâu trên đường Lê Lợi sáng 20/11. Ảnh: Bích Trần"), "{seed}");
    assert!(seed.contains("<media:title>Đường Lê Lợi ngập sâu</media:title>"), "{seed}");
    assert_eq!(seed.matches("<media:content").count(), 1, "only the first photo: {seed}");
    assert!(item("Markdown").contains("url=\"https://example.vn/images/a.jpg\""));
    assert!(item("Markdown").contains("Cầu Trường Tiền lúc chiều"));
    let front = item("Front matter");
    assert!(front.contains("url=\"https://example.vn/images/fm.jpg\">"), "{front}");
    assert_eq!(front.matches("<media:content").count(), 1, "{front}");
    assert!(item("HTML").contains("url=\"https://example.vn/images/h.jpg\"") && item("HTML").contains("Chú thích H"));
    assert!(!item("No image").contains("media:content"));

    let atom = atom_syndication::Feed::read_from(text(&built, "/vi/atom.xml").as_bytes()).unwrap();
    let entry = atom.entries.iter().find(|e| e.title.value.starts_with("Mưa lớn")).unwrap();
    let enclosures: Vec<&str> = entry.links.iter().filter(|l| l.rel == "enclosure").map(|l| l.href.as_str()).collect();
    assert_eq!(enclosures, ["https://example.vn/images/2026/11/ngap-le-loi.jpg"]);

    let json: serde_json::Value = serde_json::from_str(&text(&built, "/vi/feed.json")).unwrap();
    let images: Vec<(&str, &str)> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["title"].as_str().unwrap(), i["image"].as_str().unwrap_or("")))
        .collect();
    assert!(images.contains(&(
        "Mưa lớn gây ngập sâu nhiều tuyến phố ở Huế",
        "https://example.vn/images/2026/11/ngap-le-loi.jpg"
    )));
    assert!(images.contains(&("Front matter", "https://example.vn/images/fm.jpg")));
    assert!(images.contains(&("No image", "")));

    let sitemap = text(&built, "/vi/sitemap-2026-11.xml");
    let url = &sitemap[sitemap.find("<loc>https://example.vn/thoi-su/mua-lon/</loc>").unwrap()..];
    let url = &url[..url.find("</url>").unwrap()];
    assert!(url.contains("<image:loc>https://example.vn/images/2026/11/ngap-le-loi.jpg</image:loc>"), "{url}");
    assert_eq!(url.matches("<image:image>").count(), 1, "{url}");
}
