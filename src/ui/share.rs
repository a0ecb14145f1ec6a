//! Share links: the whole state (text and settings) compressed into the URL fragment, which is
//! never sent to a server. `#share=<lz-string>`; the payload is the settings line, a newline,
//! then the text.

/// Past this many characters a link is not safe to pass around (mail clients, chat tools and
/// some servers cut longer URLs); the page offers a download instead.
pub const SAFE_URL_LENGTH: usize = 8000;

pub fn encode(settings: &str, text: &str) -> String {
    lz_str::compress_to_encoded_uri_component(&format!("{settings}\n{text}"))
}

/// (settings, text), or `None` when the fragment is not a share payload we wrote.
pub fn decode(fragment: &str) -> Option<(String, String)> {
    let units = lz_str::decompress_from_encoded_uri_component(fragment)?;
    let payload = String::from_utf16(&units).ok()?;
    let (settings, text) = payload.split_once('\n')?;
    settings
        .starts_with("cni=")
        .then(|| (settings.to_string(), text.to_string()))
}

/// The `share=` part of a fragment like `share=...&embed`.
pub fn from_hash(hash: &str) -> Option<&str> {
    hash.split('&').find_map(|part| part.strip_prefix("share="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects_garbage() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"ünïcode & <markup>\"\n";
        let link = encode("cni=cilium;mode=all", text);
        assert!(
            link.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-$".contains(c)),
            "{link}"
        );
        assert_eq!(
            decode(&link),
            Some(("cni=cilium;mode=all".into(), text.into()))
        );
        assert_eq!(decode("not-a-payload"), None);
        assert_eq!(from_hash("share=abc&embed"), Some("abc"));
        assert_eq!(from_hash("example=x"), None);
    }

    #[test]
    fn a_share_link_carries_every_setting() {
        use super::super::protocol::Settings;
        let settings = Settings {
            proxy_hbone: false,
            host_ip_probes: true,
            ..Settings::default()
        };
        let link = encode(&settings.encode(), "kind: Namespace\n");
        let (shared, text) = decode(&link).expect("a payload we wrote");
        assert_eq!(Settings::decode(&shared), settings);
        assert_eq!(text, "kind: Namespace\n");
    }
}
