//! What the page and its analysis worker exchange, and the analysis itself. Included by both
//! the page (`src/main.rs`) and the worker (`src/bin/worker.rs`); no Leptos here, so the worker's
//! wasm carries only the core.

// Each of the two binaries uses its half (the page: settings and types; the worker: `run`).
#![allow(dead_code)]

use std::net::IpAddr;

use ambient_netpol::ambient::mesh::MeshMode;
use ambient_netpol::ambient::paths::Paths;
use ambient_netpol::ambient::{Cni, FixStyle, PROBE_SNAT_IPV4, ProbeSnat};
use ambient_netpol::{MAX_DRAWN_WORKLOADS, Options, Report, Source, analyze, analyze_unchecked};
use serde::{Deserialize, Serialize};

/// The name findings and the diff give the editor's text.
pub const SOURCE_NAME: &str = "playground.yaml";

/// What the worker posts once it can take requests.
pub const READY: &str = "ready";

/// What the worker's panic hook posts (followed by the panic message) before the worker dies.
pub const PANIC: &str = "panic: ";

/// One analysis request: the editor's text and the settings (as `Settings::encode` writes them),
/// and the lesson whose exercise is shown, if any. It travels as a JS array (`Request::to_js`):
/// the text goes as one string, neither escaped nor walked field by field.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub id: u32,
    pub text: String,
    pub settings: String,
    /// The id of the lesson whose exercise the text is checked against.
    pub exercise: Option<String>,
}

impl Request {
    /// `[id, text, settings, exercise or null]`.
    pub fn to_js(&self) -> wasm_bindgen::JsValue {
        use wasm_bindgen::JsValue;
        js_sys::Array::of4(
            &JsValue::from(self.id),
            &JsValue::from_str(&self.text),
            &JsValue::from_str(&self.settings),
            &self
                .exercise
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        )
        .into()
    }

    /// The inverse of `to_js`; `None` for anything else.
    pub fn from_js(value: &wasm_bindgen::JsValue) -> Option<Request> {
        use wasm_bindgen::JsCast;
        let array = value.dyn_ref::<js_sys::Array>()?;
        Some(Request {
            id: array.get(0).as_f64()? as u32,
            text: array.get(1).as_string()?,
            settings: array.get(2).as_string()?,
            exercise: array.get(3).as_string(),
        })
    }
}

/// Whether the text meets a lesson's exercise goal (`ambient_netpol::exercise`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exercise {
    /// The lesson's id.
    pub lesson: String,
    pub outcome: ambient_netpol::exercise::Outcome,
}

/// One analysis of the editor's text, with how long it took.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Analysis {
    /// The request it answers.
    pub id: u32,
    /// Its findings travel beside it (`Answer`): the complete analysis of a large text leaves
    /// out those its first answer already gave.
    pub report: Report,
    /// The unified diff of the text against the corrected YAML.
    pub diff: String,
    /// The paths once the fix is applied (`None` when nothing changes).
    pub fixed_paths: Option<Paths>,
    /// Milliseconds from the request to this answer, in the worker (sent as whole microseconds:
    /// the worker writes no float).
    #[serde(with = "micros")]
    pub millis: f64,
    /// The findings come first and the fix is still being checked: `report.fixed` is empty and
    /// `diff` too; the complete analysis of the same request follows (`run`).
    #[serde(default)]
    pub checking: bool,
    /// The exercise's check, when the request named a lesson (never in a `checking` answer).
    #[serde(default)]
    pub exercise: Option<Box<Exercise>>,
    /// Counts the findings the page has been given (the page's own count, never sent): what
    /// draws them redraws when it changes, not when the complete analysis of the same findings
    /// arrives.
    #[serde(skip)]
    pub findings_given: u32,
}

mod micros {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(millis: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64((millis.max(0.0) * 1000.0) as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(u64::deserialize(d)? as f64 / 1000.0)
    }
}

impl PartialEq for Analysis {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.millis == other.millis
            && self.checking == other.checking
            && self.findings_given == other.findings_given
    }
}

/// What the page reads of each answer: the analysis, and its findings unless they are those of
/// the first answer to the same request (`None`). The worker writes it as `AnswerRef`, in JSON:
/// one string to post (no object graph built call by call, then cloned between the threads);
/// the page parses it with the browser's `JSON.parse` and reads the objects (`serde-wasm-bindgen`).
#[derive(Deserialize)]
pub struct Answer {
    pub findings: Option<Vec<ambient_netpol::Finding>>,
    pub analysis: Analysis,
}

/// An `Answer` as the worker writes it: borrowed, nothing copied to write it.
#[derive(Serialize)]
pub struct AnswerRef<'a> {
    pub findings: Option<&'a [ambient_netpol::Finding]>,
    pub analysis: &'a Analysis,
}

/// The worker's side of the answers: the complete analysis of a request whose first answer gave
/// the same findings leaves them out (the page keeps those it has and does not draw them again).
#[derive(Default)]
pub struct Encoder {
    /// The request and the findings its first answer gave.
    given: Option<(u32, Vec<ambient_netpol::Finding>)>,
}

impl Encoder {
    /// Gives `write` the answer for `analysis` (whose findings are lent out meanwhile).
    pub fn encode<R>(&mut self, analysis: &mut Analysis, write: impl FnOnce(&AnswerRef) -> R) -> R {
        let findings = std::mem::take(&mut analysis.report.findings);
        let same = self
            .given
            .take()
            .is_some_and(|(id, given)| id == analysis.id && given == findings);
        let out = write(&AnswerRef {
            findings: (!same).then_some(&findings[..]),
            analysis,
        });
        if analysis.checking {
            // Copied once posted: the page draws them meanwhile.
            self.given = Some((analysis.id, findings.clone()));
        }
        analysis.report.findings = findings;
        out
    }
}

/// Runs the core on the text, then the fixed text (for the "after the fix" paths, when there are
/// paths to draw) and the diff. On a text with more workloads than are drawn, the findings do not
/// wait for the fix's check and the diff: `findings` receives them first (`checking`), while the
/// fix is still withheld.
pub fn run(
    request: &Request,
    now: impl Fn() -> f64,
    findings: impl FnOnce(&mut Analysis),
) -> Analysis {
    let started = now();
    let options = Settings::decode(&request.settings).options();
    let text = request.text.as_str();
    let sources = [Source {
        name: SOURCE_NAME,
        text,
    }];
    let mut unchecked = analyze_unchecked(&sources, &options);
    if unchecked.report.workloads > MAX_DRAWN_WORKLOADS {
        // The report is lent to the first answer, without its unchecked fix, and taken back.
        let fixed = std::mem::take(&mut unchecked.report.fixed);
        let mut first = Analysis {
            id: request.id,
            report: std::mem::take(&mut unchecked.report),
            millis: now() - started,
            checking: true,
            ..Analysis::default()
        };
        findings(&mut first);
        unchecked.report = first.report;
        unchecked.report.fixed = fixed;
    }
    let report = unchecked.check(&options);
    let fixed_text = report.fixed.combined();
    let (diff, fixed_paths) = if fixed_text == text {
        (String::new(), None)
    } else {
        let diff = ambient_netpol::diff::unified(
            &[SOURCE_NAME],
            &[text],
            std::slice::from_ref(&fixed_text),
        );
        // Past the drawing limit there are no paths: no second analysis.
        let fixed_paths = (report.workloads <= MAX_DRAWN_WORKLOADS).then(|| {
            analyze(
                &[Source {
                    name: SOURCE_NAME,
                    text: &fixed_text,
                }],
                &options,
            )
            .paths
        });
        (diff, fixed_paths)
    };
    let exercise = request.exercise.as_ref().and_then(|id| {
        let (goal, example) = super::lessons::exercise(id)?;
        Some(Box::new(Exercise {
            lesson: id.clone(),
            outcome: ambient_netpol::exercise::check(&goal, example, text, &report, &options),
        }))
    });
    Analysis {
        id: request.id,
        report,
        diff,
        fixed_paths,
        millis: now() - started,
        checking: false,
        exercise,
        findings_given: 0,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub cni: Cni,
    pub mode: MeshMode,
    pub fix_style: FixStyle,
    /// istio-cni's `useHostIPForProbeSnat`.
    pub host_ip_probes: bool,
    /// Probe SNAT addresses as typed (comma or space separated).
    pub probe_addresses: String,
    /// Whether Istio proxies (sidecars, gateways) tunnel to ambient pods over HBONE
    /// (`ENABLE_HBONE`, on in the ambient profile): `Options::proxy_hbone`.
    pub proxy_hbone: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cni: Cni::Generic,
            mode: MeshMode::Auto,
            fix_style: FixStyle::Edit,
            host_ip_probes: false,
            probe_addresses: PROBE_SNAT_IPV4.to_string(),
            // As `Options::default()` (a unit test holds them equal), without building one.
            proxy_hbone: true,
        }
    }
}

pub const CNIS: [(Cni, &str); 4] = [
    (Cni::Generic, "Other / unknown"),
    (Cni::Cilium, "Cilium"),
    (Cni::Calico, "Calico"),
    (Cni::OvnKubernetes, "OVN-Kubernetes"),
];
pub const MODES: [(MeshMode, &str, &str); 3] = [
    (
        MeshMode::Auto,
        "auto",
        "Labels, or every namespace when there are none",
    ),
    (MeshMode::All, "all", "Every namespace enrolled"),
    (
        MeshMode::Labels,
        "labels",
        "Only what istio.io/dataplane-mode says",
    ),
];

impl Settings {
    /// The addresses typed, and the words that are not addresses.
    pub fn addresses(&self) -> (Vec<IpAddr>, Vec<String>) {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for word in self
            .probe_addresses
            .split([',', ' '])
            .filter(|w| !w.is_empty())
        {
            match word.parse() {
                Ok(ip) => ok.push(ip),
                Err(_) => bad.push(word.to_string()),
            }
        }
        (ok, bad)
    }

    pub fn options(&self) -> Options {
        let (addresses, _) = self.addresses();
        Options {
            cni: self.cni,
            mode: self.mode,
            fix_style: self.fix_style,
            probe_snat: if self.host_ip_probes {
                ProbeSnat::HostIp
            } else if addresses.is_empty() {
                ProbeSnat::default()
            } else {
                ProbeSnat::Addresses(addresses)
            },
            proxy_hbone: self.proxy_hbone,
            ..Options::default()
        }
    }

    /// `cni=cilium;mode=auto;fix=edit;hostip=0;proxyhbone=1;snat=169.254.7.127` for local storage
    /// and share links (the addresses last: they are typed text).
    pub fn encode(&self) -> String {
        format!(
            "cni={};mode={};fix={};hostip={};proxyhbone={};snat={}",
            self.cni.as_str(),
            mode_id(self.mode),
            if self.fix_style == FixStyle::Add {
                "add"
            } else {
                "edit"
            },
            u8::from(self.host_ip_probes),
            u8::from(self.proxy_hbone),
            self.probe_addresses
        )
    }

    /// The inverse of `encode`; unknown or missing values keep their defaults (text saved or
    /// shared before a setting existed reads as that setting's default).
    pub fn decode(text: &str) -> Settings {
        let mut settings = Settings::default();
        for pair in text.split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            match key {
                "cni" => settings.cni = Cni::parse(value).unwrap_or_default(),
                "mode" => {
                    settings.mode = MODES
                        .iter()
                        .find(|m| m.1 == value)
                        .map_or(MeshMode::Auto, |m| m.0)
                }
                "fix" => {
                    settings.fix_style = if value == "add" {
                        FixStyle::Add
                    } else {
                        FixStyle::Edit
                    }
                }
                "hostip" => settings.host_ip_probes = value == "1",
                // Only an explicit 0 turns it off: the default is on.
                "proxyhbone" => settings.proxy_hbone = value != "0",
                "snat" => settings.probe_addresses = value.to_string(),
                _ => {}
            }
        }
        settings
    }
}

pub fn mode_id(mode: MeshMode) -> &'static str {
    MODES.iter().find(|m| m.0 == mode).map_or("auto", |m| m.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_storage_text() {
        let s = Settings {
            cni: Cni::OvnKubernetes,
            mode: MeshMode::Labels,
            fix_style: FixStyle::Add,
            host_ip_probes: true,
            probe_addresses: "169.254.7.127, fd16::1".into(),
            proxy_hbone: false,
        };
        assert_eq!(Settings::decode(&s.encode()), s);
        assert!(s.encode().contains(";proxyhbone=0;"), "{}", s.encode());
        assert!(!s.options().proxy_hbone);
        let on = Settings {
            proxy_hbone: true,
            ..s.clone()
        };
        assert_eq!(Settings::decode(&on.encode()), on);
        assert!(on.options().proxy_hbone);
        assert_eq!(Settings::decode("garbage;cni=nope"), Settings::default());
    }

    #[test]
    fn proxy_hbone_is_on_unless_turned_off() {
        assert!(Settings::default().proxy_hbone);
        assert!(Settings::default().options().proxy_hbone);
        assert_eq!(
            Settings::default().options(),
            Options::default(),
            "the page starts with the CLI's defaults"
        );
        // Saved or shared before the setting existed: the default.
        let old = Settings::decode("cni=cilium;mode=auto;fix=edit;hostip=0;snat=169.254.7.127");
        assert!(old.proxy_hbone);
        assert_eq!(old.cni, Cni::Cilium);
        for (value, on) in [("1", true), ("0", false), ("", true), ("yes", true)] {
            let s = Settings::decode(&format!("cni=generic;proxyhbone={value}"));
            assert_eq!(s.proxy_hbone, on, "proxyhbone={value}");
        }
    }

    /// A large text's two answers: the findings first, then the complete analysis without
    /// them when they are the same; the page reads each back.
    #[test]
    fn the_complete_answer_leaves_out_the_same_findings() {
        // The page reads what the worker writes (here through JSON, in the page through JS).
        let through = |encoder: &mut Encoder, analysis: &mut Analysis| -> Answer {
            let text = encoder.encode(analysis, |a| serde_json::to_string(a).unwrap());
            serde_json::from_str(&text).unwrap()
        };
        let finding = ambient_netpol::Finding::new(
            ambient_netpol::Code::Amb001,
            "`a` blocks 15008".into(),
            None,
        );
        let mut first = Analysis {
            id: 7,
            millis: 12.5,
            checking: true,
            ..Analysis::default()
        };
        first.report.findings = vec![finding.clone()];
        first.report.objects = 3;
        let mut encoder = Encoder::default();
        let answer = through(&mut encoder, &mut first);
        assert_eq!(answer.findings.as_deref(), Some(&[finding.clone()][..]));
        assert!(answer.analysis.report.findings.is_empty());
        assert!(answer.analysis.checking);
        assert_eq!((answer.analysis.id, answer.analysis.millis), (7, 12.5));
        assert_eq!(answer.analysis.report.objects, 3);
        // The encoder lends the findings back.
        assert_eq!(first.report.findings.len(), 1);

        let mut complete = Analysis {
            checking: false,
            diff: "--- a\n+++ b\n".into(),
            millis: 20.0,
            ..first.clone()
        };
        let answer = through(&mut encoder, &mut complete);
        assert_eq!(
            answer.findings, None,
            "the same findings are not sent again"
        );
        assert_eq!(answer.analysis.diff, complete.diff);
        // Other findings (a withheld fix adds one) are sent.
        through(&mut encoder, &mut first.clone());
        complete.report.findings.push(finding);
        let answer = through(&mut encoder, &mut complete);
        assert_eq!(answer.findings.map(|f| f.len()), Some(2));
        // A small text's only answer carries its findings.
        let answer = through(&mut encoder, &mut complete);
        assert_eq!(answer.findings.map(|f| f.len()), Some(2));
    }

    /// The settings travel to the worker as text: the analysis sees the setting.
    #[test]
    fn the_worker_applies_proxy_hbone() {
        let text = include_str!("../../tests/fixtures/ingress-gateway-to-ambient-app/app.yaml");
        let codes = |settings: &Settings| {
            let request = Request {
                id: 1,
                text: text.to_string(),
                settings: settings.encode(),
                exercise: None,
            };
            let analysis = run(&request, || 0.0, |_| {});
            analysis
                .report
                .findings
                .iter()
                .map(|f| f.code.id())
                .collect::<Vec<_>>()
        };
        let on = Settings::default();
        let off = Settings {
            proxy_hbone: false,
            ..Settings::default()
        };
        assert!(codes(&on).contains(&"AMB001"), "{:?}", codes(&on));
        assert!(!codes(&off).contains(&"AMB001"), "{:?}", codes(&off));
    }
}
