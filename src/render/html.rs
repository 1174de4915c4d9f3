//! The HTML index page at `/` (being written).
