//! Istio's security policy (`security.istio.io` v1 and v1beta1): `AuthorizationPolicy` and
//! `PeerAuthentication`, parsed and validated (located INP003) into the shape ztunnel enforces.
//!
//! What ztunnel makes of them is istiod's translation for ambient (istio/istio,
//! `pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go`): a policy with
//! `targetRefs` is not for ztunnel (a waypoint or gateway enforces it); AUDIT and CUSTOM are not
//! supported by ztunnel (ignored); in an ALLOW policy a rule with an L7 attribute never matches,
//! in a DENY policy its L7 parts are left out (it denies more). The L4 attributes are the
//! sources' `principals`, `namespaces`, `serviceAccounts`, `ipBlocks` (and their `not` forms), the
//! operations' `ports`/`notPorts`, and `when` on `source.ip`, `source.namespace`,
//! `source.principal`, `destination.ip` and `destination.port`. `ztunnel.rs` evaluates them.

pub mod service_ports;
pub mod ztunnel;

use crate::findings::Location;
use crate::input::Object;
use crate::input::yaml::Node;
use crate::model::fields::{self, Checked, Invalid};
use crate::netpol::ip::Cidr;

/// The kinds this family reads.
pub const KINDS: &[&str] = &["AuthorizationPolicy", "PeerAuthentication"];
/// The API group (any version).
pub const GROUP: &str = "security.istio.io/";
/// The versions read; others are reported (INP003).
pub const VERSIONS: &[&str] = &["security.istio.io/v1", "security.istio.io/v1beta1"];

/// `when` keys ztunnel evaluates (istiod's `l4WhenAttributes`); every other key is L7.
pub const L4_WHEN_KEYS: &[&str] = &[
    "source.ip",
    "source.namespace",
    "source.principal",
    "destination.ip",
    "destination.port",
];

/// Entries per list: far above real policies, low enough to keep hostile input bounded.
const MAX_ENTRIES: usize = 1000;

/// Whether an object is one of this family's.
pub fn is_istio_security(object: &Object) -> bool {
    KINDS.contains(&object.kind.as_str()) && object.api_version.starts_with(GROUP)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Deny,
    /// Logs only: no effect on traffic.
    Audit,
    /// An external authorizer decides; ztunnel does not support it.
    Custom,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "ALLOW",
            Action::Deny => "DENY",
            Action::Audit => "AUDIT",
            Action::Custom => "CUSTOM",
        }
    }
}

/// What a policy applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `selector.matchLabels` (non-empty): the matching pods of its namespace (of every namespace
    /// for a policy in the root namespace).
    Selector(Vec<(String, String)>),
    /// No selector and no `targetRefs`: every pod of its namespace (of the mesh in the root
    /// namespace).
    Namespace,
    /// `targetRefs` (or the older `targetRef`): a waypoint, Service or Gateway enforces it, not
    /// ztunnel.
    TargetRefs(Vec<TargetRef>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRef {
    pub kind: String,
    pub name: String,
}

/// A source (`from[].source`): every non-empty field must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub principals: Vec<String>,
    pub not_principals: Vec<String>,
    pub namespaces: Vec<String>,
    pub not_namespaces: Vec<String>,
    /// `serviceAccounts` as (namespace, name); a bare name is in the policy's namespace.
    pub service_accounts: Vec<(String, String)>,
    pub not_service_accounts: Vec<(String, String)>,
    pub ip_blocks: Vec<String>,
    pub not_ip_blocks: Vec<String>,
}

/// An operation (`to[].operation`), its L4 part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Operation {
    pub ports: Vec<u16>,
    pub not_ports: Vec<u16>,
}

/// A `when` condition ztunnel evaluates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub key: String,
    pub values: Vec<String>,
    pub not_values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Empty: every source.
    pub from: Vec<Source>,
    /// Empty: every operation.
    pub to: Vec<Operation>,
    /// L4 conditions only (the L7 ones are listed in `l7`).
    pub when: Vec<Condition>,
    /// The L7 attributes the rule uses (`methods`, `paths`, `request.headers[...]`, ...), which
    /// ztunnel cannot evaluate.
    pub l7: Vec<String>,
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug)]
pub struct AuthorizationPolicy {
    pub name: String,
    pub namespace: String,
    pub scope: Scope,
    pub action: Action,
    pub rules: Vec<Rule>,
    pub location: Location,
    /// Where `spec` (or the object) is.
    pub spec_location: Location,
    /// The object as written (L7 attributes included), for the fixes that copy or edit it.
    pub node: Node,
}

impl AuthorizationPolicy {
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// `spec.rules` as written.
    pub fn rules_node(&self) -> Option<&Node> {
        self.node.get("spec")?.get("rules")
    }

    /// The L7 attributes of all its rules, each once, in order.
    pub fn l7_attributes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rules {
            for a in &r.l7 {
                if !out.contains(&a.as_str()) {
                    out.push(a);
                }
            }
        }
        out
    }
}

/// `mtls.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MtlsMode {
    Unset,
    Disable,
    Permissive,
    Strict,
}

impl MtlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MtlsMode::Unset => "UNSET",
            MtlsMode::Disable => "DISABLE",
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Strict => "STRICT",
        }
    }

    fn parse(node: &Node, path: &str) -> Checked<MtlsMode> {
        match fields::scalar_string(node, path)? {
            "UNSET" => Ok(MtlsMode::Unset),
            "DISABLE" => Ok(MtlsMode::Disable),
            "PERMISSIVE" => Ok(MtlsMode::Permissive),
            "STRICT" => Ok(MtlsMode::Strict),
            other => Err(Invalid::at(
                node,
                format!("`{path}` is `{other}`; it must be UNSET, DISABLE, PERMISSIVE or STRICT"),
            )),
        }
    }
}

#[derive(Clone, Debug)]
pub struct PeerAuthentication {
    pub name: String,
    pub namespace: String,
    /// `selector.matchLabels`; `None` (or empty): namespace-wide (mesh-wide in the root
    /// namespace).
    pub selector: Option<Vec<(String, String)>>,
    pub mode: MtlsMode,
    /// `portLevelMtls`: (port, mode).
    pub port_level: Vec<(u16, MtlsMode)>,
    pub location: Location,
}

impl PeerAuthentication {
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A parsed object of the family.
pub enum Parsed {
    Authorization(AuthorizationPolicy),
    Peer(PeerAuthentication),
}

/// Parses one of the family's objects; an invalid field rejects the whole object, as the API
/// server's validation (istiod's webhook) would.
pub fn parse(object: &Object) -> Checked<Parsed> {
    if !VERSIONS.contains(&object.api_version.as_str()) {
        return Err(Invalid::at(
            object.node.get("apiVersion").unwrap_or(&object.node),
            format!(
                "`apiVersion` is `{}`; the {} versions are security.istio.io/v1 and security.istio.io/v1beta1",
                object.api_version, object.kind
            ),
        ));
    }
    match object.kind.as_str() {
        "AuthorizationPolicy" => authorization_policy(object).map(Parsed::Authorization),
        _ => peer_authentication(object).map(Parsed::Peer),
    }
}

fn located(object: &Object, node: &Node) -> Location {
    Location {
        line: node.span.line,
        column: node.span.column,
        ..object.location
    }
}

fn match_labels(spec: &Node) -> Checked<Option<Vec<(String, String)>>> {
    match fields::map(spec, "selector", "spec.selector")? {
        None => Ok(None),
        Some(selector) => {
            let labels = fields::string_map(selector, "matchLabels", "spec.selector.matchLabels")?;
            Ok((!labels.is_empty()).then_some(labels))
        }
    }
}

fn authorization_policy(object: &Object) -> Checked<AuthorizationPolicy> {
    let node = &object.node;
    // An AuthorizationPolicy without `spec` is valid: an ALLOW policy with no rule (deny all).
    let empty = Node {
        value: crate::input::yaml::Value::Map(Vec::new()),
        span: node.span,
    };
    let spec = fields::map(node, "spec", "spec")?.unwrap_or(&empty);
    let action = match fields::string(spec, "action", "spec.action")? {
        None | Some("ALLOW") => Action::Allow,
        Some("DENY") => Action::Deny,
        Some("AUDIT") => Action::Audit,
        Some("CUSTOM") => Action::Custom,
        Some(other) => {
            return Err(Invalid::at(
                spec.get("action").unwrap_or(spec),
                format!("`spec.action` is `{other}`; it must be ALLOW, DENY, AUDIT or CUSTOM"),
            ));
        }
    };
    let selector = match_labels(spec)?;
    let mut targets = Vec::new();
    if let Some(one) = fields::map(spec, "targetRef", "spec.targetRef")? {
        targets.push(target_ref(one, "spec.targetRef")?);
    }
    for (i, t) in fields::seq_at_most(spec, "targetRefs", "spec.targetRefs", MAX_ENTRIES)?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        targets.push(target_ref(t, &format!("spec.targetRefs[{i}]"))?);
    }
    let scope = match (selector, targets.is_empty()) {
        (Some(_), false) => {
            return Err(Invalid::at(
                spec,
                "`spec.selector` and `spec.targetRefs` are both set; a policy has one or the other"
                    .into(),
            ));
        }
        (Some(labels), true) => Scope::Selector(labels),
        (None, true) => Scope::Namespace,
        (None, false) => Scope::TargetRefs(targets),
    };
    let mut rules = Vec::new();
    for (i, r) in fields::seq_at_most(spec, "rules", "spec.rules", MAX_ENTRIES)?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        rules.push(rule(r, &format!("spec.rules[{i}]"), &object.namespace)?);
    }
    Ok(AuthorizationPolicy {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        scope,
        action,
        rules,
        location: object.location,
        spec_location: located(object, spec),
        node: object.node.clone(),
    })
}

fn target_ref(node: &Node, path: &str) -> Checked<TargetRef> {
    if node.as_map().is_none() {
        return Err(Invalid::at(
            node,
            format!(
                "`{path}` is {}; it must be a map with `kind` and `name`",
                node.type_name()
            ),
        ));
    }
    let kind = fields::string(node, "kind", &format!("{path}.kind"))?;
    let name = fields::string(node, "name", &format!("{path}.name"))?;
    match (kind, name) {
        (Some(kind), Some(name)) => Ok(TargetRef {
            kind: kind.to_string(),
            name: name.to_string(),
        }),
        _ => Err(Invalid::at(
            node,
            format!("`{path}` needs both `kind` and `name`"),
        )),
    }
}

fn strings(node: &Node, key: &str, path: &str) -> Checked<Vec<String>> {
    fields::seq_at_most(node, key, path, MAX_ENTRIES)?;
    fields::string_list(node, key, path)
}

/// A port written as a string (the API's type) or a plain number.
fn ports(node: &Node, key: &str, path: &str) -> Checked<Vec<u16>> {
    let Some(items) = fields::seq_at_most(node, key, path, MAX_ENTRIES)? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = item.as_str().map(str::to_string).or_else(|| item.as_int().map(|n| n.to_string()));
            text.and_then(|t| t.parse::<u16>().ok())
                .filter(|p| *p >= 1)
                .ok_or_else(|| {
                    Invalid::at(
                        item,
                        format!("`{path}[{i}]` must be a port number from 1 to 65535 (written as a string, e.g. \"8080\")"),
                    )
                })
        })
        .collect()
}

fn addresses(node: &Node, key: &str, path: &str) -> Checked<Vec<String>> {
    let list = strings(node, key, path)?;
    for (i, text) in list.iter().enumerate() {
        let ok = if text.contains('/') {
            Cidr::parse(text).is_ok()
        } else {
            text.parse::<std::net::IpAddr>().is_ok()
        };
        if !ok {
            let at = node
                .get(key)
                .and_then(Node::as_seq)
                .and_then(|s| s.get(i))
                .unwrap_or(node);
            return Err(Invalid::at(
                at,
                format!("`{path}[{i}]` is `{text}`; it must be an IP address or a CIDR"),
            ));
        }
    }
    Ok(list)
}

fn service_accounts(
    node: &Node,
    key: &str,
    path: &str,
    namespace: &str,
) -> Checked<Vec<(String, String)>> {
    Ok(strings(node, key, path)?
        .into_iter()
        .map(|v| match v.split_once('/') {
            Some((ns, sa)) => (ns.to_string(), sa.to_string()),
            None => (namespace.to_string(), v),
        })
        .collect())
}

fn rule(node: &Node, path: &str, namespace: &str) -> Checked<Rule> {
    if node.as_map().is_none() {
        return Err(Invalid::at(
            node,
            format!(
                "`{path}` is {}; it must be a map with `from`, `to` and/or `when`",
                node.type_name()
            ),
        ));
    }
    let mut l7: Vec<String> = Vec::new();
    let mut note = |name: &str, list: &[String]| {
        if !list.is_empty() && !l7.iter().any(|a| a == name) {
            l7.push(name.to_string());
        }
    };
    let mut from = Vec::new();
    for (i, f) in fields::seq_at_most(node, "from", &format!("{path}.from"), MAX_ENTRIES)?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let here = format!("{path}.from[{i}].source");
        let source = fields::map(f, "source", &here)?
            .ok_or_else(|| Invalid::at(f, format!("`{path}.from[{i}]` has no `source`")))?;
        let p = |key: &str| format!("{here}.{key}");
        for key in [
            "requestPrincipals",
            "notRequestPrincipals",
            "remoteIpBlocks",
            "notRemoteIpBlocks",
        ] {
            note(key, &strings(source, key, &p(key))?);
        }
        from.push(Source {
            principals: strings(source, "principals", &p("principals"))?,
            not_principals: strings(source, "notPrincipals", &p("notPrincipals"))?,
            namespaces: strings(source, "namespaces", &p("namespaces"))?,
            not_namespaces: strings(source, "notNamespaces", &p("notNamespaces"))?,
            service_accounts: service_accounts(
                source,
                "serviceAccounts",
                &p("serviceAccounts"),
                namespace,
            )?,
            not_service_accounts: service_accounts(
                source,
                "notServiceAccounts",
                &p("notServiceAccounts"),
                namespace,
            )?,
            ip_blocks: addresses(source, "ipBlocks", &p("ipBlocks"))?,
            not_ip_blocks: addresses(source, "notIpBlocks", &p("notIpBlocks"))?,
        });
    }
    let mut to = Vec::new();
    for (i, t) in fields::seq_at_most(node, "to", &format!("{path}.to"), MAX_ENTRIES)?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let here = format!("{path}.to[{i}].operation");
        let operation = fields::map(t, "operation", &here)?
            .ok_or_else(|| Invalid::at(t, format!("`{path}.to[{i}]` has no `operation`")))?;
        let p = |key: &str| format!("{here}.{key}");
        for key in [
            "hosts",
            "notHosts",
            "methods",
            "notMethods",
            "paths",
            "notPaths",
        ] {
            note(key, &strings(operation, key, &p(key))?);
        }
        to.push(Operation {
            ports: ports(operation, "ports", &p("ports"))?,
            not_ports: ports(operation, "notPorts", &p("notPorts"))?,
        });
    }
    let mut when = Vec::new();
    for (i, w) in fields::seq_at_most(node, "when", &format!("{path}.when"), MAX_ENTRIES)?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let here = format!("{path}.when[{i}]");
        if w.as_map().is_none() {
            return Err(Invalid::at(
                w,
                format!(
                    "`{here}` is {}; it must be a map with `key` and `values`",
                    w.type_name()
                ),
            ));
        }
        let key = fields::string(w, "key", &format!("{here}.key"))?
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Invalid::at(w, format!("`{here}` has no `key`")))?;
        let values = strings(w, "values", &format!("{here}.values"))?;
        let not_values = strings(w, "notValues", &format!("{here}.notValues"))?;
        if values.is_empty() && not_values.is_empty() {
            return Err(Invalid::at(
                w,
                format!("`{here}` needs `values` or `notValues`"),
            ));
        }
        if !L4_WHEN_KEYS.contains(&key) {
            note(key, &[key.to_string()]);
            continue;
        }
        if key == "destination.port" {
            for (j, v) in values.iter().chain(&not_values).enumerate() {
                if v.parse::<u16>().ok().filter(|p| *p >= 1).is_none() {
                    return Err(Invalid::at(
                        w,
                        format!(
                            "`{here}` value {} is `{v}`; `destination.port` takes port numbers from 1 to 65535",
                            j + 1
                        ),
                    ));
                }
            }
        }
        if key == "source.ip" || key == "destination.ip" {
            addresses(w, "values", &format!("{here}.values"))?;
            addresses(w, "notValues", &format!("{here}.notValues"))?;
        }
        when.push(Condition {
            key: key.to_string(),
            values,
            not_values,
        });
    }
    Ok(Rule {
        from,
        to,
        when,
        l7,
        line: node.span.line,
        column: node.span.column,
    })
}

fn peer_authentication(object: &Object) -> Checked<PeerAuthentication> {
    let node = &object.node;
    let empty = Node {
        value: crate::input::yaml::Value::Map(Vec::new()),
        span: node.span,
    };
    let spec = fields::map(node, "spec", "spec")?.unwrap_or(&empty);
    let mode = match fields::map(spec, "mtls", "spec.mtls")? {
        Some(mtls) => match mtls.field("mode") {
            Some(m) => MtlsMode::parse(m, "spec.mtls.mode")?,
            None => MtlsMode::Unset,
        },
        None => MtlsMode::Unset,
    };
    let selector = match_labels(spec)?;
    let mut port_level = Vec::new();
    if let Some(ports) = fields::map(spec, "portLevelMtls", "spec.portLevelMtls")? {
        if selector.is_none() {
            return Err(Invalid::at(
                ports,
                "`spec.portLevelMtls` needs a `spec.selector`: port-level modes apply to selected workloads only".into(),
            ));
        }
        for (k, v) in ports.as_map().unwrap_or_default() {
            let text = k
                .as_str()
                .map(str::to_string)
                .or_else(|| k.as_int().map(|n| n.to_string()))
                .unwrap_or_default();
            let port = text.parse::<u16>().ok().filter(|p| *p >= 1).ok_or_else(|| {
                Invalid::at(
                    k,
                    format!("`spec.portLevelMtls` key `{text}` must be a port number from 1 to 65535"),
                )
            })?;
            let path = format!("spec.portLevelMtls.{port}");
            if v.as_map().is_none() {
                return Err(Invalid::at(
                    v,
                    format!(
                        "`{path}` is {}; it must be a map with `mode`",
                        v.type_name()
                    ),
                ));
            }
            let mode = match v.field("mode") {
                Some(m) => MtlsMode::parse(m, &format!("{path}.mode"))?,
                None => MtlsMode::Unset,
            };
            port_level.push((port, mode));
        }
    }
    Ok(PeerAuthentication {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        selector,
        mode,
        port_level,
        location: object.location,
    })
}
