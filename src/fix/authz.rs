//! AMB010's fixes in the edit style, as edits of the user's text: an AuthorizationPolicy
//! attached to its Service (`targetRefs` in place of `selector`, so the Service's waypoint
//! enforces its L7 rules), or cut down to its L4 part (the L7 attributes deleted, exactly what
//! `ambient::authz::l4_part` writes as a separate document), and the Service labelled
//! `istio.io/use-waypoint`. Deletions take whole lines in block style, the entry and its comma
//! in flow style and JSON.
//!
//! Every edit is checked before it is offered: the edited document must parse to the original
//! with exactly the intended change ([`verified`]). Otherwise there is no edit, and the caller
//! falls back to a separate document and says why.

use super::emit::{self, Y};
use super::{Edit, add_entry, after_node, apply, detect_style, is_flow, line_start};
use crate::ambient::authz::{L7_OPERATION, L7_SOURCE, l4_rule, to_y};
use crate::input::yaml::{Node, Value};
use crate::istio::AuthorizationPolicy;

/// What happens to a key of a rule.
enum Cut {
    Keep,
    /// The whole key goes (its list matched everything at L4, or held only L7 conditions).
    Drop,
    /// Parts inside it go.
    Edits(Vec<Edit>),
}

/// A map key's text (`""` for a key that is not a scalar, as `to_y` has it).
fn key_text(key: &Node) -> &str {
    match &key.value {
        Value::Scalar { text, .. } => text,
        _ => "",
    }
}

fn deletion(at: usize, end: usize) -> Edit {
    replacement(at, end, String::new())
}

fn replacement(at: usize, end: usize, insert: String) -> Edit {
    Edit {
        source: 0,
        policy: usize::MAX,
        at,
        delete: end.saturating_sub(at),
        insert,
        order: 0,
    }
}

/// Where a node's text ends: past the closing bracket of a flow collection, and for a block
/// collection where its last descendant's text ends (the parser stops a block collection's span
/// at its last scalar, before the bracket of a flow value that ends it).
fn node_end(text: &str, node: &Node) -> usize {
    if is_flow(text, node) {
        return super::node_end(text, node);
    }
    match &node.value {
        Value::Map(entries) => entries
            .last()
            .map_or(node.span.end, |(k, v)| node_end(text, v).max(k.span.end)),
        Value::Seq(items) => items.last().map_or(node.span.end, |i| node_end(text, i)),
        Value::Scalar { .. } => node.span.end,
    }
    .max(node.span.end)
}

/// Where each child of a collection starts and ends (a map's entries from their key to the end
/// of their value).
fn children(text: &str, node: &Node) -> Vec<(usize, usize)> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.span.start, node_end(text, v).max(k.span.end)))
            .collect(),
        Value::Seq(items) => items
            .iter()
            .map(|i| (i.span.start, node_end(text, i)))
            .collect(),
        Value::Scalar { .. } => Vec::new(),
    }
}

/// Deletes the children of a collection marked in `delete` (at least one must stay).
fn delete_children(text: &str, node: &Node, delete: &[bool]) -> Option<Vec<Edit>> {
    let parts = children(text, node);
    if parts.len() != delete.len() {
        return None;
    }
    let kept = delete.iter().position(|d| !d)?;
    let flow = is_flow(text, node);
    let seq = node.as_seq().is_some();
    // A child alone on its line (after its dash for a sequence's item).
    let own_line = |start: usize| {
        text[line_start(text, start)..start]
            .chars()
            .all(|c| c == ' ' || c == '\t' || (seq && c == '-'))
    };
    let whole_lines =
        |(start, end): (usize, usize)| deletion(line_start(text, start), after_node(text, end));
    let mut out = Vec::new();
    // The children before the first kept one: one deletion up to it when the first is written
    // after something else on its line (`- to:` in a rule, `{methods: ...` in flow style), so
    // the kept child takes its place there.
    let leading_run = flow || !own_line(parts[0].0);
    if leading_run && kept > 0 {
        out.push(deletion(parts[0].0, parts[kept].0));
    }
    for (i, &part) in parts.iter().enumerate() {
        if !delete[i] || (leading_run && i < kept) {
            continue;
        }
        if flow {
            // The comma before it and itself.
            out.push(deletion(parts[i - 1].1, part.1));
        } else {
            if !own_line(part.0) {
                return None;
            }
            out.push(whole_lines(part));
        }
    }
    Some(out)
}

/// `from` or `to` of a rule: the L7 fields of each entry's `source` (`operation`) go; an entry
/// left empty matched everything at L4, so the whole key goes (as in `l4_rule`).
fn strip_list(text: &str, list: &Node, inner: &str, keys: &[&str]) -> Option<Cut> {
    let Some(items) = list.as_seq() else {
        return Some(Cut::Keep);
    };
    let mut edits = Vec::new();
    for item in items {
        let Some(wrapper) = item.as_map() else {
            return Some(Cut::Drop);
        };
        for (k, v) in wrapper {
            if key_text(k) != inner {
                continue;
            }
            let Some(fields) = v.as_map() else {
                return Some(Cut::Drop);
            };
            let delete: Vec<bool> = fields
                .iter()
                .map(|(f, _)| keys.contains(&key_text(f)))
                .collect();
            if delete.iter().all(|d| *d) {
                return Some(Cut::Drop);
            }
            if delete.iter().any(|d| *d) {
                edits.extend(delete_children(text, v, &delete)?);
            }
        }
    }
    Some(if edits.is_empty() {
        Cut::Keep
    } else {
        Cut::Edits(edits)
    })
}

/// `when`: the conditions on keys ztunnel cannot evaluate go; none left, the key goes.
fn strip_when(text: &str, when: &Node) -> Option<Cut> {
    let Some(items) = when.as_seq() else {
        return Some(Cut::Drop);
    };
    let delete: Vec<bool> = items
        .iter()
        .map(|c| {
            !matches!(to_y(c), Y::Map(fields) if fields.iter().any(|(f, key)| {
                f == "key" && matches!(key, Y::Str(s) if crate::istio::L4_WHEN_KEYS.contains(&s.as_str()))
            }))
        })
        .collect();
    Some(if delete.iter().all(|d| *d) {
        Cut::Drop
    } else if delete.iter().any(|d| *d) {
        Cut::Edits(delete_children(text, when, &delete)?)
    } else {
        Cut::Keep
    })
}

/// One rule's L7 parts, deleted; a rule left with nothing becomes `{}` (it matches everything).
fn rule_edits(text: &str, rule: &Node) -> Option<Vec<Edit>> {
    let Some(entries) = rule.as_map() else {
        return Some(Vec::new());
    };
    let mut delete = vec![false; entries.len()];
    let mut edits = Vec::new();
    for (i, (k, v)) in entries.iter().enumerate() {
        let cut = match key_text(k) {
            "from" => strip_list(text, v, "source", &L7_SOURCE)?,
            "to" => strip_list(text, v, "operation", &L7_OPERATION)?,
            "when" => strip_when(text, v)?,
            _ => Cut::Keep,
        };
        match cut {
            Cut::Keep => {}
            Cut::Drop => delete[i] = true,
            Cut::Edits(e) => edits.extend(e),
        }
    }
    if !delete.iter().any(|d| *d) {
        return Some(edits);
    }
    if delete.iter().all(|d| *d) {
        let start = rule.span.start;
        let end = node_end(text, rule);
        let end = start + text.get(start..end)?.trim_end().len();
        return Some(vec![replacement(start, end, "{}".into())]);
    }
    edits.extend(delete_children(text, rule, &delete)?);
    Some(edits)
}

/// The policy's document as it must read after the edit: `change` applied to its `spec`.
fn expected(policy: &Node, change: impl FnOnce(&mut Vec<(String, Y)>)) -> Option<Y> {
    let Y::Map(mut object) = to_y(policy) else {
        return None;
    };
    let (_, Y::Map(spec)) = object.iter_mut().find(|(k, _)| k == "spec")? else {
        return None;
    };
    change(spec);
    Some(Y::Map(object))
}

/// The edits that leave an ALLOW policy's L4 part alone, checked.
pub(super) fn l4_edits(text: &str, policy: &AuthorizationPolicy) -> Option<Vec<Edit>> {
    let rules = policy.rules_node()?;
    let mut edits = Vec::new();
    for rule in rules.as_seq()? {
        edits.extend(rule_edits(text, rule)?);
    }
    if edits.is_empty() {
        return None;
    }
    let want = expected(&policy.node, |spec| {
        if let Some((_, Y::Seq(rules))) = spec.iter_mut().find(|(k, _)| k == "rules") {
            *rules = rules.iter().map(l4_rule).collect();
        }
    })?;
    verified(text, &policy.node, &edits, &want).then_some(edits)
}

/// `targetRefs: [{kind: Service, group: "", name: <service>}, ...]`.
fn service_refs(services: &[String]) -> Y {
    Y::Seq(
        services
            .iter()
            .map(|service| {
                Y::map(vec![
                    ("kind", Y::str("Service")),
                    ("group", Y::str("")),
                    ("name", Y::str(service.clone())),
                ])
            })
            .collect(),
    )
}

/// The edit that replaces the entry `key` of `map` (key and value) with `new_key: value`, in
/// the style it is written in; `None` when it cannot be done safely.
fn replace_entry(
    text: &str,
    map: &Node,
    key: &str,
    new_key: &str,
    value: &Y,
    style: emit::Style,
) -> Option<Edit> {
    let (k, v) = map.entry(key)?;
    if is_flow(text, map) {
        return Some(replacement(
            k.span.start,
            node_end(text, v).max(k.span.end),
            format!(
                "{}: {}",
                emit::key(new_key, style),
                emit::flow(value, style)
            ),
        ));
    }
    let start = line_start(text, k.span.start);
    if !text[start..k.span.start].chars().all(|c| c == ' ') {
        return None;
    }
    let end = after_node(text, node_end(text, v).max(k.span.end));
    let block = emit::block_map(
        &[(new_key.to_string(), value.clone())],
        k.span.column as usize - 1,
        style,
    );
    Some(replacement(
        start,
        end,
        super::with_line_endings(text, start, block),
    ))
}

/// The edit that attaches a policy to Services: `targetRefs` in place of `selector` (its key and
/// value), or added to a namespace-wide policy's `spec`, checked. With `rules`, the policy's
/// `rules` are replaced too: a waypoint matches the Services' ports, not the pods' the policy
/// names (`ambient::service_ports`).
pub(super) fn attach_edits(
    text: &str,
    policy: &AuthorizationPolicy,
    services: &[String],
    rules: Option<&[Y]>,
) -> Option<Vec<Edit>> {
    if services.is_empty() {
        return None;
    }
    let node = &policy.node;
    let spec = node.get("spec")?;
    let style = detect_style(text, node);
    let refs = service_refs(services);
    let edit = match spec.entry("selector") {
        Some(_) => replace_entry(text, spec, "selector", "targetRefs", &refs, style)?,
        None => {
            let mut edit = add_entry(text, spec, "targetRefs", &refs, style)?;
            edit.policy = usize::MAX;
            edit
        }
    };
    let mut edits = vec![edit];
    if let Some(rules) = rules {
        let rules = Y::Seq(rules.to_vec());
        edits.push(replace_entry(text, spec, "rules", "rules", &rules, style)?);
    }
    let want = expected(node, |spec| {
        match spec.iter().position(|(k, _)| k == "selector") {
            Some(i) => spec[i] = ("targetRefs".into(), refs),
            None => spec.push(("targetRefs".into(), refs)),
        }
        if let (Some(rules), Some((_, value))) =
            (rules, spec.iter_mut().find(|(k, _)| k == "rules"))
        {
            *value = Y::Seq(rules.to_vec());
        }
    })?;
    verified(text, node, &edits, &want).then_some(edits)
}

/// The edit that adds a rule admitting `principal` (a waypoint's) to an ALLOW policy's rules
/// (creating `rules` when there is none), checked.
pub(super) fn admit_edit(
    text: &str,
    policy: &AuthorizationPolicy,
    principal: &str,
) -> Option<Edit> {
    let node = &policy.node;
    let spec = node.get("spec")?;
    let style = detect_style(text, node);
    let rule = Y::map(vec![(
        "from",
        Y::Seq(vec![Y::map(vec![(
            "source",
            Y::map(vec![("principals", Y::Seq(vec![Y::str(principal)]))]),
        )])]),
    )]);
    let mut edit = match spec.get("rules") {
        Some(rules) if rules.as_seq().is_some_and(|r| !r.is_empty()) => {
            super::append_item(text, rules, std::slice::from_ref(&rule), style)?
        }
        _ => add_entry(text, spec, "rules", &Y::Seq(vec![rule.clone()]), style)?,
    };
    edit.policy = usize::MAX;
    let want = expected(node, |spec| {
        match spec.iter_mut().find(|(k, _)| k == "rules") {
            Some((_, Y::Seq(rules))) => rules.push(rule),
            Some((_, other)) => *other = Y::Seq(vec![rule]),
            None => spec.push(("rules".into(), Y::Seq(vec![rule]))),
        }
    })?;
    verified(text, node, std::slice::from_ref(&edit), &want).then_some(edit)
}

/// The edit that labels a Service `istio.io/use-waypoint: <waypoint>`, checked; none when it
/// has the label already (with another waypoint: the user's choice).
pub(super) fn label_edit(text: &str, service: &Node, waypoint: &str) -> Option<Edit> {
    use crate::ambient::mesh::USE_WAYPOINT;
    let metadata = service.get("metadata")?;
    let style = detect_style(text, service);
    let label = Y::str(waypoint);
    let labels = metadata.get("labels");
    if labels.is_some_and(|l| l.get(USE_WAYPOINT).is_some()) {
        return None;
    }
    let mut edit = match labels {
        Some(l) if l.as_map().is_some_and(|m| !m.is_empty()) => {
            add_entry(text, l, USE_WAYPOINT, &label, style)?
        }
        _ => add_entry(
            text,
            metadata,
            "labels",
            &Y::map(vec![(USE_WAYPOINT, label.clone())]),
            style,
        )?,
    };
    edit.policy = usize::MAX;
    let Y::Map(mut object) = to_y(service) else {
        return None;
    };
    let (_, Y::Map(meta)) = object.iter_mut().find(|(k, _)| k == "metadata")? else {
        return None;
    };
    match meta.iter_mut().find(|(k, _)| k == "labels") {
        Some((_, Y::Map(labels))) => labels.push((USE_WAYPOINT.into(), label)),
        Some((_, other)) => *other = Y::map(vec![(USE_WAYPOINT, label)]),
        None => meta.push(("labels".into(), Y::map(vec![(USE_WAYPOINT, label)]))),
    }
    verified(text, service, std::slice::from_ref(&edit), &Y::Map(object)).then_some(edit)
}

/// Whether `edits`, all inside the object `node`, leave its document parsing to what it was
/// with the object now reading `want`, every other document and object as they were.
fn verified(text: &str, node: &Node, edits: &[Edit], want: &Y) -> bool {
    use crate::input::yaml::{document_ranges, parse_range};
    let (start, end) = (node.span.start, node_end(text, node));
    if edits
        .iter()
        .any(|e| e.at < start || e.at + e.delete > end.max(after_node(text, end)))
    {
        return false;
    }
    let fixed = apply(text, edits.iter());
    let before: Vec<(usize, usize, u32)> = document_ranges(text).collect();
    let after: Vec<(usize, usize, u32)> = document_ranges(&fixed).collect();
    if before.len() != after.len() {
        return false;
    }
    let Some(i) = before
        .iter()
        .position(|&(s, e, _)| (s..=e).contains(&start))
    else {
        return false;
    };
    let ((s, e, l), (s2, e2, l2)) = (before[i], after[i]);
    match (
        parse_range(text, s, e, l).root,
        parse_range(&fixed, s2, e2, l2).root,
    ) {
        (Ok(Some(old)), Ok(Some(new))) => to_y(&new) == substituted(&old, start, want),
        _ => false,
    }
}

/// A document's value with the map that starts at `at` (the object) replaced by `with`.
fn substituted(node: &Node, at: usize, with: &Y) -> Y {
    match &node.value {
        Value::Map(_) if node.span.start == at => with.clone(),
        Value::Map(entries) => Y::Map(
            entries
                .iter()
                .map(|(k, v)| (key_text(k).to_string(), substituted(v, at, with)))
                .collect(),
        ),
        Value::Seq(items) => Y::Seq(items.iter().map(|i| substituted(i, at, with)).collect()),
        Value::Scalar { .. } => to_y(node),
    }
}

#[cfg(test)]
mod tests {
    use super::super::emit::{self, Style, Y};
    use crate::istio::{Parsed, Rule};
    use crate::{Code, Options, Source, analyze};
    use proptest::prelude::*;

    const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop, labels: {app: api}}\nspec: {serviceAccountName: api, containers: [{name: app, image: x}]}\n---\n";

    fn fixed(text: &str, options: &Options) -> crate::Report {
        analyze(
            &[Source {
                name: "c.yaml",
                text,
            }],
            options,
        )
    }

    /// The rules of the (first) AuthorizationPolicy in a text, without their positions.
    fn rules(text: &str) -> Vec<Rule> {
        let loaded = crate::input::load(&[Source { name: "p", text }]);
        let object = loaded
            .objects
            .iter()
            .find(|o| o.kind == "AuthorizationPolicy")
            .expect("a policy");
        match crate::istio::parse(object) {
            Ok(Parsed::Authorization(p)) => p
                .rules
                .into_iter()
                .map(|r| Rule {
                    line: 0,
                    column: 0,
                    ..r
                })
                .collect(),
            _ => panic!("the policy parses"),
        }
    }

    /// The policy's L4 part as `l4_part` writes it, for the policy in `text`.
    fn l4_document(text: &str) -> String {
        let loaded = crate::input::load(&[Source { name: "p", text }]);
        let object = loaded
            .objects
            .iter()
            .find(|o| o.kind == "AuthorizationPolicy")
            .expect("a policy");
        let Ok(Parsed::Authorization(p)) = crate::istio::parse(object) else {
            panic!("the policy parses")
        };
        crate::ambient::authz::l4_part(&p, String::new())
            .yaml
            .to_string()
    }

    /// Checks the edit style's fix of a policy without a Service: made in place (no extra, no
    /// note), the edited policy reads as `l4_part`'s document, and fixing again changes nothing.
    fn check_l4(policy: &str) -> Result<String, TestCaseError> {
        let text = format!("{NAMESPACE}{policy}");
        let report = fixed(&text, &Options::default());
        prop_assert!(
            report.findings.iter().any(|f| f.code == Code::Amb010),
            "AMB010: {:?}",
            report.findings
        );
        prop_assert!(report.fixed.extras.is_empty(), "{:?}", report.fixed.extras);
        prop_assert!(report.notes.is_empty(), "{:?}", report.notes);
        let out = &report.fixed.texts[0];
        prop_assert_ne!(out, &text);
        prop_assert!(out.starts_with(NAMESPACE));
        prop_assert_eq!(rules(out), rules(&l4_document(&text)), "{}", out);
        let again = fixed(out, &Options::default());
        prop_assert!(!again.findings.iter().any(|f| f.code == Code::Amb010));
        prop_assert_eq!(&again.fixed.texts[0], out);
        Ok(out.clone())
    }

    #[test]
    fn block_rule_whose_first_key_goes_keeps_its_dash() {
        let out = check_l4(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  selector:\n    matchLabels:\n      app: api\n  rules:\n  - to:\n    - operation:\n        methods: [GET]\n    from:\n    - source:\n        principals: [cluster.local/ns/shop/sa/web]\n  - when:\n    - key: request.headers[x]\n      values: [a]\n",
        )
        .unwrap();
        assert!(out.ends_with("  rules:\n  - from:\n    - source:\n        principals: [cluster.local/ns/shop/sa/web]\n  - {}\n"), "{out}");
    }

    #[test]
    fn crlf_lines_stay_crlf() {
        let policy = "apiVersion: security.istio.io/v1\r\nkind: AuthorizationPolicy\r\nmetadata: {name: p, namespace: shop}\r\nspec:\r\n  selector:\r\n    matchLabels:\r\n      app: api\r\n  rules:\r\n  - from:\r\n    - source:\r\n        namespaces: [ops]\r\n        requestPrincipals: [\"*\"]\r\n    to:\r\n    - operation:\r\n        ports: [\"8080\"]\r\n        paths: [/x]\r\n";
        let out = check_l4(policy).unwrap();
        assert!(!out.contains("paths") && !out.contains("requestPrincipals"));
        let policy_part = &out[NAMESPACE.len()..];
        assert!(!policy_part.replace("\r\n", "").contains('\n'), "{out:?}");
    }

    #[test]
    fn an_aliased_policy_gets_the_extra_instead() {
        // The operation is an anchor that `status` uses too: an edit there would change both.
        let text = format!(
            "{NAMESPACE}apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: p, namespace: shop}}\nspec:\n  selector:\n    matchLabels:\n      app: api\n  rules:\n  - to:\n    - operation: &op\n        ports: [\"8080\"]\n        methods: [GET]\nstatus:\n  copy: *op\n"
        );
        let report = fixed(&text, &Options::default());
        assert_eq!(report.fixed.texts[0], text);
        assert_eq!(report.fixed.extras.len(), 1, "{:?}", report.fixed.extras);
        assert!(
            report.notes.iter().any(|n| n.contains("not cut down")),
            "{:?}",
            report.notes
        );
    }

    #[test]
    fn add_style_keeps_the_extra() {
        let text = format!(
            "{NAMESPACE}apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: p, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  rules: [{{to: [{{operation: {{methods: [GET]}}}}]}}]\n"
        );
        let report = fixed(
            &text,
            &Options {
                fix_style: crate::ambient::FixStyle::Add,
                ..Options::default()
            },
        );
        assert_eq!(report.fixed.texts[0], text);
        assert_eq!(report.fixed.extras.len(), 1);
    }

    /// JSON, with a Service in front of the pods and no waypoint: `selector` becomes
    /// `targetRefs` and the Service gets the label, both in JSON; the Gateway is the extra; the
    /// policy then reads as attached to the Service, and fixing again changes nothing.
    #[test]
    fn json_policy_is_attached_to_its_service() {
        let text = format!(
            "{NAMESPACE}{{\"apiVersion\": \"v1\", \"kind\": \"Service\",\n \"metadata\": {{\"name\": \"api\", \"namespace\": \"shop\"}},\n \"spec\": {{\"selector\": {{\"app\": \"api\"}}, \"ports\": [{{\"port\": 80}}]}}}}\n---\n{{\"apiVersion\": \"security.istio.io/v1\", \"kind\": \"AuthorizationPolicy\",\n \"metadata\": {{\"name\": \"p\", \"namespace\": \"shop\"}},\n \"spec\": {{\"selector\": {{\"matchLabels\": {{\"app\": \"api\"}}}}, \"rules\": [{{\"to\": [{{\"operation\": {{\"methods\": [\"GET\"]}}}}]}}]}}}}\n"
        );
        let report = fixed(&text, &Options::default());
        let out = &report.fixed.texts[0];
        assert!(
            out.contains(
                "\"spec\": {\"targetRefs\": [{\"kind\": \"Service\", \"group\": \"\", \"name\": \"api\"}], \"rules\""
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "\"namespace\": \"shop\", \"labels\": {\"istio.io/use-waypoint\": \"waypoint\"}}"
            ),
            "{out}"
        );
        assert_eq!(
            report
                .fixed
                .extras
                .iter()
                .map(|e| e.kind.as_str())
                .collect::<Vec<_>>(),
            ["Gateway"]
        );
        let loaded = crate::input::load(&[Source {
            name: "p",
            text: out,
        }]);
        let object = loaded
            .objects
            .iter()
            .find(|o| o.kind == "AuthorizationPolicy")
            .expect("a policy");
        let Ok(Parsed::Authorization(p)) = crate::istio::parse(object) else {
            panic!("the policy parses")
        };
        assert!(
            matches!(&p.scope, crate::istio::Scope::TargetRefs(t) if t.len() == 1 && t[0].kind == "Service" && t[0].name == "api")
        );
        let again = fixed(out, &Options::default());
        assert!(!again.findings.iter().any(|f| f.code == Code::Amb010));
        assert_eq!(&again.fixed.texts[0], out);
    }

    /// AMB011 in JSON: the rule admitting the waypoint goes after the last rule, in JSON; the
    /// fixed text has no AMB011, and fixing again changes nothing.
    #[test]
    fn json_policy_admits_the_waypoint() {
        let text = "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"shop\", \"labels\": {\"istio.io/dataplane-mode\": \"ambient\"}}},\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"web\", \"namespace\": \"shop\", \"labels\": {\"app\": \"web\"}}, \"spec\": {\"serviceAccountName\": \"web\", \"containers\": [{\"name\": \"c\"}]}},\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"api\", \"namespace\": \"shop\", \"labels\": {\"app\": \"api\"}}, \"spec\": {\"containers\": [{\"name\": \"c\", \"ports\": [{\"containerPort\": 8080}]}]}},\n{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"api\", \"namespace\": \"shop\", \"labels\": {\"istio.io/use-waypoint\": \"waypoint\"}}, \"spec\": {\"selector\": {\"app\": \"api\"}, \"ports\": [{\"port\": 80}]}},\n{\"apiVersion\": \"security.istio.io/v1\", \"kind\": \"AuthorizationPolicy\", \"metadata\": {\"name\": \"api\", \"namespace\": \"shop\"},\n \"spec\": {\"selector\": {\"matchLabels\": {\"app\": \"api\"}}, \"rules\": [{\"from\": [{\"source\": {\"principals\": [\"cluster.local/ns/shop/sa/web\"]}}]}]}}\n]}\n";
        let report = fixed(text, &Options::default());
        assert!(report.findings.iter().any(|f| f.code == Code::Amb011));
        let out = &report.fixed.texts[0];
        assert!(
            out.contains("\"rules\": [{\"from\": [{\"source\": {\"principals\": [\"cluster.local/ns/shop/sa/web\"]}}]}, {\"from\": [{\"source\": {\"principals\": [\"cluster.local/ns/shop/sa/waypoint\"]}}]}]"),
            "{out}"
        );
        let again = fixed(out, &Options::default());
        assert!(
            !again.findings.iter().any(|f| f.code == Code::Amb011),
            "{:?}",
            again.findings
        );
        assert_eq!(&again.fixed.texts[0], out);
    }

    /// One namespace-wide L7 policy over pods behind two Services: one `targetRefs` names both
    /// (never two `targetRefs` keys).
    #[test]
    fn a_policy_over_two_services_names_both() {
        let mut text = NAMESPACE.replace("app: api}", "app: api, tier: back}");
        text.push_str("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\nspec: {selector: {app: api}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: shop}\nspec: {selector: {tier: back}}\n---\n");
        text.push_str("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  rules:\n  - to:\n    - operation:\n        methods: [GET]\n");
        let requests = vec![
            crate::ambient::FixRequest::AttachToService {
                authz: 0,
                service: "a".into(),
            },
            crate::ambient::FixRequest::AttachToService {
                authz: 0,
                service: "b".into(),
            },
        ];
        let sources = [Source {
            name: "c",
            text: &text,
        }];
        let loaded = crate::input::load(&sources);
        let (cluster, _) = crate::pipeline::load(&loaded.objects);
        let out = super::super::fix(
            &sources,
            &cluster,
            &requests,
            &super::super::FixOptions {
                style: crate::ambient::FixStyle::Edit,
                probe_snat: &crate::ambient::ProbeSnat::default(),
                cni: crate::ambient::Cni::default(),
                careful: false,
                separators: &[],
            },
        );
        assert!(
            out.texts[0].ends_with("  targetRefs:\n  - kind: Service\n    group: \"\"\n    name: a\n  - kind: Service\n    group: \"\"\n    name: b\n"),
            "{}",
            out.texts[0]
        );
    }

    /// A Service labelled `istio.io/use-waypoint: none`: the policy is attached, the label is
    /// left to the user (the fix says so), and nothing else changes.
    #[test]
    fn a_service_opted_out_of_waypoints_keeps_its_label() {
        let text = format!(
            "{NAMESPACE}apiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: shop, labels: {{istio.io/use-waypoint: none}}}}\nspec: {{selector: {{app: api}}}}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: p, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  rules: [{{to: [{{operation: {{methods: [GET]}}}}]}}]\n"
        );
        let report = fixed(&text, &Options::default());
        let finding = report
            .findings
            .iter()
            .find(|f| f.code == Code::Amb010)
            .expect("AMB010");
        assert!(
            finding.fix.as_deref().is_some_and(|f| f
                .contains("labelled `istio.io/use-waypoint: none`: label it `waypoint` by hand")),
            "{:?}",
            finding.fix
        );
        let out = &report.fixed.texts[0];
        assert_eq!(
            out,
            &text.replace(
                "  selector: {matchLabels: {app: api}}\n",
                "  targetRefs:\n  - kind: Service\n    group: \"\"\n    name: api\n"
            )
        );
    }

    /// One generated field: its key, and whether ztunnel can evaluate it.
    fn field(keys: &'static [(&'static str, bool)]) -> impl Strategy<Value = (String, Y)> {
        (0..keys.len()).prop_map(move |i| {
            let (k, _) = keys[i];
            let value = match k {
                "ports" | "notPorts" => Y::str("8080"),
                "principals" | "notPrincipals" => Y::str("cluster.local/ns/shop/sa/web"),
                _ => Y::str("v"),
            };
            (k.to_string(), Y::Seq(vec![value]))
        })
    }

    const SOURCE_KEYS: &[(&str, bool)] = &[
        ("principals", true),
        ("notPrincipals", true),
        ("namespaces", true),
        ("ipBlocks", true),
        ("requestPrincipals", false),
        ("notRequestPrincipals", false),
        ("remoteIpBlocks", false),
    ];
    const OPERATION_KEYS: &[(&str, bool)] = &[
        ("ports", true),
        ("notPorts", true),
        ("methods", false),
        ("paths", false),
        ("hosts", false),
        ("notMethods", false),
    ];
    const WHEN_KEYS: &[&str] = &[
        "source.namespace",
        "destination.port",
        "request.headers[x]",
        "request.auth.claims[groups]",
    ];

    /// Distinct keys, in a generated order.
    fn entries(keys: &'static [(&'static str, bool)]) -> impl Strategy<Value = Vec<(String, Y)>> {
        prop::collection::vec(field(keys), 1..4).prop_map(|mut v| {
            let mut seen = std::collections::BTreeSet::new();
            v.retain(|(k, _)| seen.insert(k.clone()));
            v
        })
    }

    fn wrapped(
        inner: &'static str,
        keys: &'static [(&'static str, bool)],
    ) -> impl Strategy<Value = Y> {
        prop::collection::vec(entries(keys), 1..3).prop_map(move |items| {
            Y::Seq(
                items
                    .into_iter()
                    .map(|fields| Y::Map(vec![(inner.to_string(), Y::Map(fields))]))
                    .collect(),
            )
        })
    }

    fn when() -> impl Strategy<Value = Y> {
        prop::collection::vec(0..WHEN_KEYS.len(), 1..4).prop_map(|keys| {
            Y::Seq(
                keys.into_iter()
                    .map(|k| {
                        let value = if WHEN_KEYS[k] == "destination.port" {
                            "8080"
                        } else {
                            "ops"
                        };
                        Y::map(vec![
                            ("key", Y::str(WHEN_KEYS[k])),
                            ("values", Y::Seq(vec![Y::str(value)])),
                        ])
                    })
                    .collect(),
            )
        })
    }

    fn rule() -> impl Strategy<Value = Y> {
        (
            prop::option::of(wrapped("source", SOURCE_KEYS)),
            prop::option::of(wrapped("operation", OPERATION_KEYS)),
            prop::option::of(when()),
            0..6usize,
        )
            .prop_map(|(from, to, when, order)| {
                let mut keys: Vec<(String, Y)> = [("from", from), ("to", to), ("when", when)]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
                    .collect();
                let shift = order % keys.len().max(1);
                keys.rotate_left(shift);
                if order >= 3 {
                    keys.reverse();
                }
                Y::Map(keys)
            })
    }

    /// The policy in block, flow or JSON style.
    fn policy_text(rules: Vec<Y>, style: usize) -> String {
        let head = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\n";
        let selector = Y::map(vec![("matchLabels", Y::map(vec![("app", Y::str("api"))]))]);
        let spec = vec![
            ("selector".to_string(), selector),
            ("action".to_string(), Y::str("ALLOW")),
            ("rules".to_string(), Y::Seq(rules)),
        ];
        match style {
            0 => format!(
                "{head}{}",
                emit::document(&[("spec".to_string(), Y::Map(spec))])
            ),
            1 => format!(
                "{head}spec: {}\n",
                emit::flow(&Y::Map(spec), Style::default())
            ),
            2 => {
                let json = Style {
                    json: true,
                    ..Style::default()
                };
                format!(
                    "{{\"apiVersion\": \"security.istio.io/v1\", \"kind\": \"AuthorizationPolicy\",\n \"metadata\": {{\"name\": \"p\", \"namespace\": \"shop\"}},\n \"spec\": {}}}\n",
                    emit::flow(&Y::Map(spec), json).replace("}, {", "},\n  {")
                )
            }
            _ => {
                // Indented sequences, 4 spaces.
                let style = Style {
                    step: 4,
                    indentless: false,
                    json: false,
                };
                format!(
                    "{head}{}",
                    emit::block_map(&[("spec".to_string(), Y::Map(spec))], 0, style)
                )
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        /// Generated sidecar-era policies in every style: the L7 attributes are deleted in place,
        /// the edited policy reads as `l4_part`'s document, and fixing again changes nothing.
        #[test]
        fn l4_edits_read_as_the_l4_part(rules in prop::collection::vec(rule(), 1..4), style in 0..4usize) {
            let text = policy_text(rules, style);
            // Only policies with an L7 attribute are AMB010's.
            let report = fixed(&format!("{NAMESPACE}{text}"), &Options::default());
            if report.findings.iter().any(|f| f.code == Code::Amb010) {
                check_l4(&text)?;
            }
        }
    }
}
