//! The words of the HTML views, in Vietnamese for `vi` and English for any
//! other language.

/// Every label a view shows.
pub(super) struct Labels {
    pub(super) feed_badge: &'static str,
    pub(super) archive_badge: &'static str,
    pub(super) feed_intro: &'static str,
    pub(super) feed_address: &'static str,
    pub(super) copy: &'static str,
    pub(super) home: &'static str,
    pub(super) newest: &'static str,
    pub(super) archive_items: &'static str,
    pub(super) no_items: &'static str,
    pub(super) history: &'static str,
    pub(super) current: &'static str,
    pub(super) newer: &'static str,
    pub(super) older: &'static str,
    pub(super) sitemap_badge: &'static str,
    pub(super) sitemap_intro: &'static str,
    pub(super) sitemap_index_badge: &'static str,
    pub(super) sitemap_index_intro: &'static str,
    pub(super) count: &'static str,
    pub(super) address: &'static str,
    pub(super) updated: &'static str,
    pub(super) images: &'static str,
    pub(super) languages: &'static str,
    /// `strftime` format of dates.
    pub(super) date_format: &'static str,
}

impl Labels {
    /// The labels for language `lang`.
    pub(super) fn for_language(lang: &str) -> Labels {
        match lang.split('-').next().unwrap_or(lang) {
            "vi" => Labels {
                feed_badge: "Nguồn tin (web feed)",
                archive_badge: "Kho lưu trữ nguồn tin",
                feed_intro: "Đây là nguồn tin để theo dõi bằng ứng dụng đọc tin (feed reader). Sao chép địa chỉ dưới đây và dán vào ứng dụng để nhận bài mới ngay khi đăng.",
                feed_address: "Địa chỉ nguồn tin",
                copy: "Sao chép",
                home: "Về trang chủ",
                newest: "Bài mới nhất",
                archive_items: "Bài trong tháng",
                no_items: "Chưa có bài nào.",
                history: "Các tháng khác",
                current: "Bài mới nhất",
                newer: "Tháng sau",
                older: "Tháng trước",
                sitemap_badge: "Sơ đồ trang (sitemap)",
                sitemap_intro: "Tệp này giúp công cụ tìm kiếm tìm thấy mọi bài viết. Bạn đọc có thể xem danh sách dưới đây.",
                sitemap_index_badge: "Chỉ mục sơ đồ trang",
                sitemap_index_intro: "Chỉ mục các sơ đồ trang của trang web.",
                count: "Số mục",
                address: "Địa chỉ",
                updated: "Cập nhật",
                images: "Ảnh",
                languages: "Ngôn ngữ",
                date_format: "%d/%m/%Y %H:%M",
            },
            _ => Labels {
                feed_badge: "Web feed",
                archive_badge: "Feed archive",
                feed_intro: "This is a web feed: subscribe to it with a feed reader to get new articles as soon as they are published. Copy the address below into your reader.",
                feed_address: "Feed address",
                copy: "Copy",
                home: "Go to the website",
                newest: "Newest articles",
                archive_items: "Articles of the month",
                no_items: "No articles yet.",
                history: "Other months",
                current: "Newest articles",
                newer: "Next month",
                older: "Previous month",
                sitemap_badge: "Sitemap",
                sitemap_intro: "This file helps search engines find every article. People can browse the list below.",
                sitemap_index_badge: "Sitemap index",
                sitemap_index_intro: "The index of this site's sitemaps.",
                count: "Entries",
                address: "Address",
                updated: "Updated",
                images: "Images",
                languages: "Languages",
                date_format: "%Y-%m-%d %H:%M",
            },
        }
    }
}
