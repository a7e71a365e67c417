//! The URL policy: what may be sent where, and URLs as they may be shown.

/// A URL with its userinfo (`user:password@`), if any, replaced by `<redacted>`, for `Debug`
/// and errors. Works on text that does not parse as a URL too.
pub(crate) fn redact_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((_, host)) => {
            let after = rest.get(authority.len()..).unwrap_or_default();
            let scheme = scheme
                .map(|scheme| format!("{scheme}://"))
                .unwrap_or_default();
            format!("{scheme}<redacted>@{host}{after}").into()
        }
        None => url.into(),
    }
}

pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
