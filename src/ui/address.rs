//! What the page's address says. The fragment names what is open: an example
//! (`#example=<id>`), a lesson's step (`#lesson=<id>&step=<n>`, with `&example=<id>` when another
//! example was chosen during the lesson) or shared text (`#share=<payload>`, with a lesson's part
//! when one is open). The page writes it back whenever
//! that changes, so a reload, Back and a copied address all show the same thing. The query (or
//! the fragment) also carries the embed options: `embed`, `theme`, `view`.

use super::lessons::{self, Place};
use super::results::Tab;
use super::{examples, share};

/// Where the editor's text came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// Text the visitor typed, pasted or kept from an earlier visit: the fragment names nothing.
    Own,
    /// An example, by id.
    Example(&'static str),
    /// A share link's payload (the text and the settings).
    Shared(String),
}

/// What is open: where the text came from, and the lesson step shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub opened: Opened,
    pub lesson: Option<Place>,
}

impl Address {
    pub const OWN: Address = Address {
        opened: Opened::Own,
        lesson: None,
    };
}

/// A fragment read: what it opens, and the text (and settings) it brings.
#[derive(Debug, PartialEq, Eq)]
pub struct Link {
    pub address: Address,
    /// `None` when the fragment names nothing (the text stays as it is).
    pub text: Option<String>,
    pub settings: Option<String>,
}

/// The fragment's keys that say what is open; the others (`embed`, `theme`, `view`) are kept as
/// they are when the page rewrites the fragment.
const STATE_KEYS: [&str; 4] = ["lesson", "step", "example", "share"];

/// `key=value` parts of a query or fragment (`?a=1&b` gives `("a", "1")`, `("b", "")`).
fn parts(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.trim_start_matches(['?', '#'])
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// The value of a key in a query or fragment (`""` for a bare key).
pub fn param<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    parts(text).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Reads a fragment. An error is a sentence for the visitor: an unknown id, a damaged payload.
pub fn parse(fragment: &str) -> Result<Link, String> {
    let all = lessons::all();
    let mut link = Link {
        address: Address::OWN,
        text: None,
        settings: None,
    };
    if let Some(payload) = share::from_hash(fragment) {
        let (settings, text) = share::decode(payload).ok_or_else(|| {
            "This share link is damaged (it was probably cut short): nothing was loaded from it."
                .to_string()
        })?;
        link.address.opened = Opened::Shared(payload.to_string());
        link.text = Some(text);
        link.settings = Some(settings);
    }
    if let Some(id) = param(fragment, "lesson") {
        let index = all.iter().position(|l| l.id == id).ok_or_else(|| {
            let ids: Vec<&str> = all.iter().map(|l| l.id).collect();
            format!(
                "This link asks for a lesson \"{id}\", which this playground does not have \
                 (its lessons: {}). Nothing was loaded from it.",
                ids.join(", ")
            )
        })?;
        let lesson = &all[index];
        let step = param(fragment, "step")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, lesson.steps.len().max(1));
        link.address.lesson = Some(Place {
            lesson: index,
            step: step - 1,
        });
        if link.text.is_none() && param(fragment, "example").is_none() {
            let example = example(lesson.example)
                .expect("every lesson's example exists (a test in lessons.rs)");
            link.address.opened = Opened::Example(example.id);
            link.text = Some(example.text.to_string());
        }
    }
    // An example on its own, or another than the lesson's (chosen during the lesson).
    if link.text.is_none()
        && let Some(id) = param(fragment, "example")
    {
        let example = example(id).ok_or_else(|| {
            let ids: Vec<&str> = examples::EXAMPLES.iter().map(|e| e.id).collect();
            format!(
                "This link asks for an example \"{id}\", which this playground does not have \
                 (its examples: {}). Nothing was loaded from it.",
                ids.join(", ")
            )
        })?;
        link.address.opened = Opened::Example(example.id);
        link.text = Some(example.text.to_string());
    }
    Ok(link)
}

fn example(id: &str) -> Option<&'static examples::Example> {
    examples::EXAMPLES.iter().find(|e| e.id == id)
}

/// The example whose text this is, if any.
pub fn example_of(text: &str) -> Option<&'static str> {
    examples::EXAMPLES
        .iter()
        .find(|e| e.text == text)
        .map(|e| e.id)
}

/// The fragment that says what is open (without the embed options).
pub fn fragment(address: &Address) -> String {
    let mut out = Vec::new();
    if let Some(p) = address.lesson
        && let Some(lesson) = lessons::all().get(p.lesson)
    {
        out.push(format!("lesson={}&step={}", lesson.id, p.step + 1));
    }
    let lesson_example = address
        .lesson
        .and_then(|p| lessons::all().get(p.lesson).map(|l| l.example));
    match &address.opened {
        Opened::Shared(payload) => out.push(format!("share={payload}")),
        Opened::Example(id) if lesson_example != Some(id) => out.push(format!("example={id}")),
        _ => {}
    }
    out.join("&")
}

/// `state` (a fragment from [`fragment`]) with the parts of `current` that are not about what is
/// open (`embed`, `view`...), so rewriting the address keeps them.
pub fn with_options(state: &str, current: &str) -> String {
    let kept = parts(current)
        .filter(|(k, _)| !STATE_KEYS.contains(k))
        .map(|(k, v)| {
            if v.is_empty() {
                k.to_string()
            } else {
                format!("{k}={v}")
            }
        });
    std::iter::once(state.to_string())
        .filter(|s| !s.is_empty())
        .chain(kept)
        .collect::<Vec<_>>()
        .join("&")
}

/// The fragment of a link to what is shown: the address itself while the text is the one it
/// opened and the settings are the defaults; otherwise the text and settings in a share payload
/// (with the lesson step, if one is open).
pub fn link_fragment(
    address: &Address,
    text: &str,
    settings: &str,
    default_settings: bool,
) -> String {
    let unchanged = match &address.opened {
        Opened::Example(id) => default_settings && example(id).is_some_and(|e| e.text == text),
        _ => false,
    };
    if unchanged {
        return fragment(address);
    }
    fragment(&Address {
        opened: Opened::Shared(share::encode(settings, text)),
        lesson: address.lesson,
    })
}

/// A sentence naming what an address opens ("the lesson \"...\"").
pub fn what(address: &Address) -> String {
    if let Some(lesson) = address
        .lesson
        .and_then(|p| lessons::all().get(p.lesson).map(|l| l.title))
    {
        return format!("the lesson \"{lesson}\"");
    }
    match &address.opened {
        Opened::Example(id) => {
            example(id).map_or_else(String::new, |e| format!("the example \"{}\"", e.title))
        }
        Opened::Shared(_) => "the shared manifests".to_string(),
        Opened::Own => "your manifests".to_string(),
    }
}

/// The embed options of a page's query and fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EmbedOptions {
    /// `embed` with any value but `0` or `false`: the compact view for an iframe.
    pub embed: bool,
    /// `theme=light` or `theme=dark`: the docs page's theme, whatever the reader's system says.
    pub theme: Option<&'static str>,
    /// `view=findings|paths|fix`: the results tab to open on.
    pub view: Option<Tab>,
}

impl EmbedOptions {
    pub fn read(query: &str, fragment: &str) -> EmbedOptions {
        let get = |key| param(query, key).or_else(|| param(fragment, key));
        EmbedOptions {
            embed: get("embed").is_some_and(|v| !matches!(v, "0" | "false")),
            theme: match get("theme") {
                Some("light") => Some("light"),
                Some("dark") => Some("dark"),
                _ => None,
            },
            view: get("view").and_then(Tab::from_name),
        }
    }
}

/// A query without the embed options (the full page's link from an embed).
pub fn without_options(query: &str) -> String {
    let kept: Vec<&str> = query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| {
            let key = p.split_once('=').map_or(*p, |(k, _)| k);
            !p.is_empty() && !["embed", "theme", "view"].contains(&key)
        })
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

/// The HTML a docs writer pastes to show what is shown now, in an iframe. `page` is the
/// playground's address without fragment and embed options.
pub fn embed_code(page: &str, theme: &str, view: Tab, fragment: &str, what: &str) -> String {
    let join = if page.contains('?') { '&' } else { '?' };
    let title = format!("ambient-netpol: {what}").replace('"', "&quot;");
    format!(
        "<iframe src=\"{page}{join}embed=1&amp;theme={theme}&amp;view={}#{}\" title=\"{title}\" \
         style=\"width: 100%; height: 500px; border: 0\" loading=\"lazy\"></iframe>",
        view.name(),
        fragment.replace('&', "&amp;")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(lesson_id: &str, step: usize) -> Option<Place> {
        let lesson = lessons::all().iter().position(|l| l.id == lesson_id)?;
        Some(Place { lesson, step })
    }

    #[test]
    fn fragments_round_trip_through_the_address() {
        let settings = "cni=cilium;mode=all";
        let shared = Opened::Shared(share::encode(settings, "kind: Namespace\n"));
        for address in [
            Address::OWN,
            Address {
                opened: Opened::Example("egress"),
                lesson: None,
            },
            Address {
                opened: Opened::Example("seed-deny-ingress"),
                lesson: place("probes", 2),
            },
            Address {
                opened: Opened::Example("egress"),
                lesson: place("probes", 3),
            },
            Address {
                opened: shared.clone(),
                lesson: None,
            },
            Address {
                opened: shared,
                lesson: place("hbone", 3),
            },
        ] {
            let fragment = fragment(&address);
            assert_eq!(
                parse(&fragment).map(|l| l.address),
                Ok(address),
                "{fragment}"
            );
        }
        assert_eq!(
            fragment(&Address {
                opened: Opened::Example("seed-deny-ingress"),
                lesson: place("probes", 1)
            }),
            "lesson=probes&step=2"
        );
    }

    #[test]
    fn a_link_brings_its_text_and_a_lesson_its_example() {
        let link = parse("lesson=probes&step=9").unwrap();
        assert_eq!(
            link.address.lesson,
            place("probes", 3),
            "the step is clamped"
        );
        assert_eq!(link.address.opened, Opened::Example("seed-deny-ingress"));
        assert!(link.text.unwrap().contains("name: deny-ingress"));
        assert_eq!(
            parse("lesson=probes&step=x").unwrap().address.lesson,
            place("probes", 0)
        );
        let link = parse("embed&example=waypoint").unwrap();
        assert_eq!(link.address.opened, Opened::Example("waypoint"));
        assert_eq!(parse("").unwrap().text, None);
        assert_eq!(parse("embed&view=paths").unwrap().address, Address::OWN);
    }

    #[test]
    fn an_unknown_id_or_a_damaged_payload_says_so() {
        let err = parse("example=nope").unwrap_err();
        assert!(
            err.contains("\"nope\"") && err.contains("seed-hbone"),
            "{err}"
        );
        let err = parse("lesson=nope&step=2").unwrap_err();
        assert!(err.contains("\"nope\"") && err.contains("probes"), "{err}");
        assert!(parse("share=xxxx").unwrap_err().contains("damaged"));
    }

    #[test]
    fn rewriting_keeps_the_embed_options() {
        assert_eq!(
            with_options("example=egress", "embed&example=waypoint&view=fix"),
            "example=egress&embed&view=fix"
        );
        assert_eq!(with_options("", "lesson=hbone&step=2"), "");
        assert_eq!(without_options("?embed=1&theme=dark&lang=en"), "?lang=en");
        assert_eq!(without_options("?embed"), "");
    }

    #[test]
    fn any_embed_value_but_0_or_false_embeds() {
        for (query, fragment, embed) in [
            ("?embed", "", true),
            ("?embed=1", "", true),
            ("?embed=true", "", true),
            ("?embed=", "", true),
            ("?embed=yes", "", true),
            ("", "example=egress&embed", true),
            ("?embed=0", "", false),
            ("?embed=false", "", false),
            ("?embedded", "", false),
            ("", "example=embed", false),
            ("", "", false),
        ] {
            assert_eq!(
                EmbedOptions::read(query, fragment).embed,
                embed,
                "{query} #{fragment}"
            );
        }
        let options = EmbedOptions::read("?embed=1&theme=light&view=fix", "");
        assert_eq!(options.theme, Some("light"));
        assert_eq!(options.view, Some(Tab::Fix));
        let odd = EmbedOptions::read("?theme=purple&view=<script>", "");
        assert_eq!((odd.theme, odd.view), (None, None));
    }

    #[test]
    fn a_link_to_what_is_shown_is_short_until_the_text_or_settings_change() {
        let defaults = "cni=generic";
        let example = &examples::EXAMPLES[4];
        let address = Address {
            opened: Opened::Example(example.id),
            lesson: None,
        };
        assert_eq!(
            link_fragment(&address, example.text, defaults, true),
            format!("example={}", example.id)
        );
        let edited = format!("{}# mine\n", example.text);
        let fragment = link_fragment(&address, &edited, defaults, true);
        let link = parse(&fragment).unwrap();
        assert_eq!(link.text.as_deref(), Some(edited.as_str()));
        let in_lesson = Address {
            opened: Opened::Example("seed-hbone"),
            lesson: place("hbone", 3),
        };
        let fragment = link_fragment(&in_lesson, "edited", "cni=cilium", false);
        let link = parse(&fragment).unwrap();
        assert_eq!(link.address.lesson, place("hbone", 3));
        assert_eq!(link.settings.as_deref(), Some("cni=cilium"));
    }

    #[test]
    fn the_embed_code_is_an_iframe_with_the_state_and_options() {
        let code = embed_code(
            "https://docs.example/np/",
            "light",
            Tab::Paths,
            "lesson=hbone&step=2",
            "the lesson \"HBONE\"",
        );
        assert_eq!(
            code,
            "<iframe src=\"https://docs.example/np/?embed=1&amp;theme=light&amp;view=paths#lesson=hbone&amp;step=2\" \
             title=\"ambient-netpol: the lesson &quot;HBONE&quot;\" style=\"width: 100%; height: 500px; border: 0\" \
             loading=\"lazy\"></iframe>"
        );
        assert!(
            embed_code("/p/?lang=en", "dark", Tab::Fix, "example=egress", "x")
                .contains("/p/?lang=en&embed=1")
        );
    }
}
