//! Fuzz target: the body of a request to the WebSub hub, whatever its
//! bytes, read by `parse_hub_request` (the hub's own reading, before it
//! looks anything up or queues anything):
//!
//! - no panic, and the same body reads the same way twice;
//! - a subscription it accepts has a non-empty topic, an absolute callback
//!   that parses again to the same URL, a secret under 200 bytes, and reads
//!   back the same from a form written from its fields;
//! - the SSRF check then refuses every callback that names loopback,
//!   private or link-local addresses, as a literal or through a name (the
//!   lookup here answers with an address chosen by the input), and accepts
//!   nothing but http and https.

#![no_main]

use std::net::IpAddr;
use std::sync::LazyLock;

use herald::push::hub_request::{HubRequest, parse_hub_request};
use herald::push::ssrf::{Looking, Lookup, check_callback};
use libfuzzer_sys::fuzz_target;
use url::{Host, Url};

/// Addresses a name may resolve to, each with whether a hub may call it
/// (judged here by hand, not by herald).
const ANSWERS: [(&str, bool); 10] = [
    ("93.184.216.34", true),
    ("2606:2800:220:1:248:1893:25c8:1946", true),
    ("127.0.0.1", false),
    ("10.1.2.3", false),
    ("192.168.0.10", false),
    ("169.254.169.254", false),
    ("::1", false),
    ("::ffff:127.0.0.1", false),
    ("fd00::1", false),
    ("fe80::1", false),
];

#[derive(Debug)]
struct Answer(IpAddr);

impl Lookup for Answer {
    fn lookup(&self, _host: &str) -> Looking {
        let ip = self.0;
        Box::pin(async move { Ok(vec![ip]) })
    }
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap());

fuzz_target!(|data: &[u8]| {
    let request = parse_hub_request(data);
    assert_eq!(request, parse_hub_request(data), "the same body read two ways");
    let Ok(HubRequest::Subscription(subscription)) = &request else { return };
    assert!(!subscription.topic.is_empty());
    assert!(subscription.secret.as_ref().is_none_or(|s| !s.is_empty() && s.len() < 200));
    assert_eq!(Url::parse(&subscription.callback).as_ref(), Ok(&subscription.callback_url));

    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("hub.mode", subscription.mode.as_str())
        .append_pair("hub.callback", &subscription.callback)
        .append_pair("hub.topic", &subscription.topic);
    if let Some(secret) = &subscription.secret {
        form.append_pair("hub.secret", secret);
    }
    if let Some(lease) = subscription.lease_seconds {
        form.append_pair("hub.lease_seconds", &lease.to_string());
    }
    assert_eq!(parse_hub_request(form.finish().as_bytes()), request, "the request written back reads differently");

    let (answer, public) = ANSWERS[data.iter().map(|b| usize::from(*b)).sum::<usize>() % ANSWERS.len()];
    let lookup = Answer(answer.parse().unwrap());
    let url = &subscription.callback_url;
    let verdict = RUNTIME.block_on(check_callback(url, false, &lookup));
    if verdict.is_err() {
        return;
    }
    assert!(matches!(url.scheme(), "http" | "https"), "{url}: accepted a {} callback", url.scheme());
    match url.host() {
        Some(Host::Domain(_)) => assert!(public, "{url}: accepted a name resolving to {answer}"),
        Some(Host::Ipv4(ip)) => assert!(callable(IpAddr::V4(ip)), "{url}: accepted {ip}"),
        Some(Host::Ipv6(ip)) => assert!(callable(IpAddr::V6(ip)), "{url}: accepted {ip}"),
        None => panic!("{url}: accepted a callback without a host"),
    }
});

/// A partial, independent judgement of a literal address: the ranges no
/// hub may ever call (loopback, private, link-local, unspecified, and the
/// same in IPv4-mapped IPv6).
fn callable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(a == 127
                || a == 10
                || a == 0
                || (a == 192 && b == 168)
                || (a == 172 && (16..32).contains(&b))
                || (a == 169 && b == 254))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return callable(IpAddr::V4(v4));
            }
            !(v6.is_loopback() || v6.is_unspecified() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}
