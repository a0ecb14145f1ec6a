//! Fixes of Calico policies (`FixRequest::AddCalicoHbonePort`): 15008 added to the destination
//! `ports` of the rule that lets the application traffic through (edit style), or a separate
//! Calico policy of the same kind, tier and selector with that rule for 15008 only, ordered
//! before the blocking policy (add style). A user's Deny is never touched.

use super::emit::{self, Y};
use super::{
    Edit, RuleNodes, after_node, aliased, dash_column, detect_style, is_flow, node_end,
    with_line_endings,
};
use crate::ambient::HBONE_PORT;
use crate::calico::{Action, CalicoPolicy, DEFAULT_TIER, by_order};
use crate::input::Source;
use crate::input::yaml::{Node, Value};
use crate::net::Direction;
use crate::pipeline::Cluster;

/// The edit that appends 15008 to the rule's `destination.ports`; `None` when the rule has no
/// such list (or it is reached through an alias).
pub fn port_edit(
    sources: &[Source],
    policy: &CalicoPolicy,
    direction: Direction,
    rule: usize,
) -> Option<Edit> {
    let at = RuleNodes::find(
        sources,
        &policy.node,
        policy.location.source,
        direction,
        rule,
    )?;
    let destination = at.rule.get("destination")?;
    let list = destination.get("ports")?;
    at.append(&[destination, list], list, &[Y::Int(HBONE_PORT.into())])
}

/// The through rule for 15008/TCP only: same action and source, the destination without its
/// ports, and `ports: [15008]`. `None` for a Deny or Log rule, which is never extended.
fn hbone_rule(original: &Node, action: Action) -> Option<Y> {
    if matches!(action, Action::Deny | Action::Log) {
        return None;
    }
    let copy = |key: &str, drop_ports: bool| -> Option<Vec<(String, Y)>> {
        let Y::Map(entries) = value(original.get(key)?) else {
            return None;
        };
        Some(
            entries
                .into_iter()
                .filter(|(k, _)| !(drop_ports && (k == "ports" || k == "notPorts")))
                .collect(),
        )
    };
    let mut rule = vec![
        ("action".to_string(), Y::str(action.as_str())),
        ("protocol".to_string(), Y::str("TCP")),
    ];
    if let Some(source) = copy("source", false) {
        rule.push(("source".into(), Y::Map(source)));
    }
    let mut destination = copy("destination", true).unwrap_or_default();
    destination.push(("ports".into(), Y::Seq(vec![Y::Int(HBONE_PORT.into())])));
    rule.push(("destination".into(), Y::Map(destination)));
    Some(Y::Map(rule))
}

/// When the rule has no `destination.ports` to extend (it admits by `notPorts`, say): a rule
/// for 15008/TCP with the same action and peers, inserted right after it, so before any later
/// rule of the policy that would deny 15008 (an earlier one does not catch it, or it would be
/// the one that blocks).
pub fn rule_edit(
    sources: &[Source],
    policy: &CalicoPolicy,
    direction: Direction,
    rule: usize,
) -> Option<Edit> {
    let RuleNodes {
        text,
        source,
        root,
        spec,
        rules,
        rule: item,
    } = RuleNodes::find(
        sources,
        &policy.node,
        policy.location.source,
        direction,
        rule,
    )?;
    if is_flow(text, rules) || aliased(text, &[root, spec, rules, item]) {
        return None;
    }
    let parsed = policy.rules(direction).get(rule)?;
    let new = hbone_rule(item, parsed.action)?;
    let style = detect_style(text, &policy.node);
    let dash = dash_column(text, item)?;
    let content = item.span.column as usize - 1;
    let at = after_node(text, node_end(text, item));
    let block = if is_flow(text, item) {
        emit::flow_item(&new, dash, content, style)
    } else {
        emit::block_item(&new, dash, content, style)
    };
    Some(Edit {
        source,
        policy: usize::MAX,
        at,
        delete: 0,
        insert: with_line_endings(text, at, block),
        order: 0,
    })
}

/// Whether `new` is `old` with one rule inserted after rule `rule` of `direction` (the
/// insertion [`rule_edit`] makes), everything else kept.
pub fn inserted_after(old: &Node, new: &Node, direction: Direction, rule: usize) -> bool {
    let rules = |doc: &Node| {
        doc.get("spec")
            .and_then(|s| s.get(direction.as_str()))
            .and_then(Node::as_seq)
            .map(<[Node]>::to_vec)
    };
    let (Some(before), Some(after)) = (rules(old), rules(new)) else {
        return false;
    };
    if after.len() != before.len() + 1 || rule >= before.len() {
        return false;
    }
    let rules_kept = before.iter().enumerate().all(|(i, item)| {
        let j = if i <= rule { i } else { i + 1 };
        item.is_extended_by(&after[j])
    });
    // The rest of the document: compare with the new rule taken out.
    let mut without = new.clone();
    remove_rule(&mut without, direction, rule + 1);
    rules_kept && old.is_extended_by(&without)
}

/// Takes rule `index` of `direction` out of a policy document.
fn remove_rule(doc: &mut Node, direction: Direction, index: usize) {
    if let Value::Map(entries) = &mut doc.value
        && let Some((_, spec)) = entries.iter_mut().find(|(k, _)| k.as_str() == Some("spec"))
        && let Value::Map(entries) = &mut spec.value
        && let Some((_, rules)) = entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(direction.as_str()))
        && let Value::Seq(items) = &mut rules.value
        && index < items.len()
    {
        items.remove(index);
    }
}

/// A located YAML value as the emitter's.
fn value(node: &Node) -> Y {
    match &node.value {
        Value::Scalar { text, plain } => match (plain, node.as_int(), node.as_bool()) {
            (true, Some(n), _) => Y::Int(n),
            (true, _, Some(b)) => Y::Bool(b),
            _ => Y::Str(text.clone()),
        },
        Value::Seq(items) => Y::Seq(items.iter().map(value).collect()),
        Value::Map(entries) => Y::Map(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), value(v)))
                .collect(),
        ),
    }
}

/// The order that puts a new policy of `tier` just before `before` (a policy of that tier), or
/// after every ordered policy of the tier (`None`: the blocker is the tier's end, or a policy
/// without order).
fn order_before(cluster: &Cluster, tier: &str, before: Option<&CalicoPolicy>) -> f64 {
    if let Some(o) = before.and_then(|b| b.order) {
        return o - 1.0;
    }
    cluster
        .policies
        .calico
        .iter()
        .filter(|p| p.tier == tier)
        .filter_map(|p| p.order)
        .fold(None, |max: Option<f64>, o| {
            Some(max.map_or(o, |m| m.max(o)))
        })
        .map_or(crate::calico::KUBERNETES_ORDER, |m| m + 1.0)
}

/// The add style's separate policy: the through rule's peers and action for 15008/TCP only.
pub fn policy_doc(
    cluster: &Cluster,
    policy: &CalicoPolicy,
    direction: Direction,
    rule: usize,
    blocker: Option<usize>,
) -> Result<String, &'static str> {
    let original = policy
        .node
        .get("spec")
        .and_then(|s| s.get(direction.as_str()))
        .and_then(Node::as_seq)
        .and_then(|rules| rules.get(rule))
        .ok_or("the rule is gone")?;
    let parsed = policy
        .rules(direction)
        .get(rule)
        .ok_or("the rule is gone")?;
    let before = blocker
        .and_then(|b| cluster.policies.calico.get(b))
        .filter(|b| b.tier == policy.tier);
    let order = match before {
        Some(b) => order_before(cluster, &policy.tier, Some(b)),
        // The blocker is in another tier or is the tier's end: anywhere before the end of this
        // tier's ordered policies, next to the original.
        None if blocker.is_some() => policy
            .order
            .unwrap_or_else(|| order_before(cluster, &policy.tier, None)),
        None => order_before(cluster, &policy.tier, None),
    };
    if before.is_some_and(|b| by_order((Some(order), ""), (b.order, &b.name)).is_ge()) {
        return Err("no order comes before the blocking policy");
    }
    let new_rule =
        hbone_rule(original, parsed.action).ok_or("only an Allow or Pass rule is extended")?;

    // Named like the original; in a tier other than the default, with the tier's prefix.
    let base = policy
        .name
        .strip_prefix(&format!("{}.", policy.tier))
        .unwrap_or(&policy.name);
    let name = if policy.tier == DEFAULT_TIER {
        format!("allow-ambient-hbone-{base}")
    } else {
        format!("{}.allow-ambient-hbone-{base}", policy.tier)
    };
    let mut metadata = vec![("name", Y::str(name))];
    let explicit_namespace = policy
        .node
        .get("metadata")
        .and_then(|m| m.field("namespace"))
        .is_some();
    if let (Some(ns), true) = (&policy.namespace, explicit_namespace) {
        metadata.push(("namespace", Y::str(ns.clone())));
    }
    let mut spec = Vec::new();
    if policy.tier != DEFAULT_TIER {
        spec.push(("tier", Y::str(policy.tier.clone())));
    }
    spec.push((
        "order",
        if order.fract() == 0.0 && order.abs() < 1e15 {
            Y::Int(order as i64)
        } else {
            Y::str(order.to_string())
        },
    ));
    let text = |key: &str| {
        policy
            .node
            .get("spec")
            .and_then(|s| s.field(key))
            .and_then(Node::as_str)
            .map(|s| Y::str(s.to_string()))
    };
    spec.push((
        "selector",
        text("selector").unwrap_or_else(|| Y::str("all()")),
    ));
    for key in ["namespaceSelector", "serviceAccountSelector"] {
        if let Some(sel) = text(key) {
            spec.push((key, sel));
        }
    }
    let (types, key) = match direction {
        Direction::Ingress => ("Ingress", "ingress"),
        Direction::Egress => ("Egress", "egress"),
    };
    spec.push(("types", Y::Seq(vec![Y::str(types)])));
    spec.push((key, Y::Seq(vec![new_rule])));
    let doc = vec![
        (
            "apiVersion".to_string(),
            Y::str(
                policy
                    .node
                    .field("apiVersion")
                    .and_then(Node::as_str)
                    .unwrap_or("projectcalico.org/v3"),
            ),
        ),
        ("kind".to_string(), Y::str(policy.kind.clone())),
        ("metadata".to_string(), Y::map(metadata)),
        ("spec".to_string(), Y::map(spec)),
    ];
    Ok(emit::document(&doc))
}
