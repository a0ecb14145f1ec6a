//! Label selectors: `matchLabels` AND `matchExpressions` (In, NotIn, Exists, DoesNotExist).

use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;

use crate::input::yaml::Node;
use crate::model::fields::{self, Checked, Invalid};

pub type Labels = BTreeMap<String, String>;

/// Things with labels (namespaces, classes of workloads), by scope and by label: a selector
/// with a `matchLabels` entry looks only at the things that carry that label, so thousands of
/// selectors over thousands of label sets cost their matches, not selectors × label sets.
pub struct LabelIndex<'c, S> {
    all: HashMap<S, Vec<usize>>,
    by_label: HashMap<(S, &'c str, &'c str), Vec<usize>>,
}

impl<S> Default for LabelIndex<'_, S> {
    fn default() -> Self {
        LabelIndex {
            all: HashMap::new(),
            by_label: HashMap::new(),
        }
    }
}

impl<'c, S: Hash + Eq + Copy> LabelIndex<'c, S> {
    /// Files thing `item` of `scope` under each of its labels.
    pub fn insert(&mut self, scope: S, item: usize, labels: &'c Labels) {
        self.all.entry(scope).or_default().push(item);
        for (key, value) in labels {
            self.by_label
                .entry((scope, key, value))
                .or_default()
                .push(item);
        }
    }

    /// The things of `scope` that `selector` may match, in the order they were filed: the
    /// caller still matches each.
    pub fn candidates<'a>(&'a self, scope: S, selector: &'a Selector) -> &'a [usize] {
        match selector.match_labels.first() {
            Some((key, value)) => self.by_label.get(&(scope, key.as_str(), value.as_str())),
            None => self.all.get(&scope),
        }
        .map_or(&[], Vec::as_slice)
    }
}

/// Expressions per selector and values per expression (hostile-input limits).
pub const MAX_EXPRESSIONS: usize = 1_000;
pub const MAX_VALUES: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

/// A parsed label selector. The empty selector matches everything.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Selector {
    pub match_labels: Vec<(String, String)>,
    pub requirements: Vec<Requirement>,
}

impl Selector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.requirements.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator {
                    Operator::In => value.is_some_and(|v| r.values.contains(v)),
                    // NotIn and DoesNotExist match objects without the key.
                    Operator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }

    /// Parses a `LabelSelector` node; `path` names it in messages.
    pub fn parse(node: &Node, path: &str) -> Checked<Selector> {
        if node.is_null() {
            return Ok(Selector::default());
        }
        if node.as_map().is_none() {
            return Err(Invalid::at(
                node,
                format!(
                    "`{path}` is {}; it must be a label selector (a map with `matchLabels` and/or `matchExpressions`)",
                    node.type_name()
                ),
            ));
        }
        let match_labels = fields::string_map(node, "matchLabels", &format!("{path}.matchLabels"))?;
        let mut requirements = Vec::new();
        let exprs_path = format!("{path}.matchExpressions");
        for (i, expr) in
            fields::seq_at_most(node, "matchExpressions", &exprs_path, MAX_EXPRESSIONS)?
                .unwrap_or_default()
                .iter()
                .enumerate()
        {
            let here = format!("{exprs_path}[{i}]");
            if expr.as_map().is_none() {
                return Err(Invalid::at(
                    expr,
                    format!(
                        "`{here}` is {}; it must be a map with `key`, `operator` and `values`",
                        expr.type_name()
                    ),
                ));
            }
            let key = fields::string(expr, "key", &format!("{here}.key"))?
                .ok_or_else(|| Invalid::at(expr, format!("`{here}` has no `key`")))?;
            let op_text = fields::string(expr, "operator", &format!("{here}.operator"))?
                .ok_or_else(|| {
                    Invalid::at(
                        expr,
                        format!(
                            "`{here}` has no `operator`; use In, NotIn, Exists or DoesNotExist"
                        ),
                    )
                })?;
            let operator = match op_text {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    let at = expr.get("operator").unwrap_or(expr);
                    return Err(Invalid::at(
                        at,
                        format!(
                            "`{here}.operator` is `{other}`; it must be In, NotIn, Exists or DoesNotExist (case matters)"
                        ),
                    ));
                }
            };
            fields::seq_at_most(expr, "values", &format!("{here}.values"), MAX_VALUES)?;
            let values = fields::string_list(expr, "values", &format!("{here}.values"))?;
            match operator {
                Operator::In | Operator::NotIn if values.is_empty() => {
                    return Err(Invalid::at(
                        expr,
                        format!(
                            "`{here}` uses {op_text} without `values`; Kubernetes requires at least one value"
                        ),
                    ));
                }
                Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                    return Err(Invalid::at(
                        expr,
                        format!(
                            "`{here}` uses {op_text} with `values`; Kubernetes requires none for this operator"
                        ),
                    ));
                }
                _ => {}
            }
            requirements.push(Requirement {
                key: key.to_string(),
                operator,
                values,
            });
        }
        Ok(Selector {
            match_labels,
            requirements,
        })
    }
}

/// `app=web, tier in (a, b), !legacy`, or `all pods` for the empty selector.
impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(all)");
        }
        let mut parts: Vec<String> = self
            .match_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for r in &self.requirements {
            parts.push(match r.operator {
                Operator::In => format!("{} in ({})", r.key, r.values.join(", ")),
                Operator::NotIn => format!("{} notin ({})", r.key, r.values.join(", ")),
                Operator::Exists => r.key.clone(),
                Operator::DoesNotExist => format!("!{}", r.key),
            });
        }
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::yaml::parse_documents;
    use proptest::prelude::*;

    fn selector(yaml: &str) -> Checked<Selector> {
        let root = parse_documents(yaml).next().unwrap().root.unwrap().unwrap();
        Selector::parse(&root, "podSelector")
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = selector("matchLabels: {app: web}\nmatchExpressions:\n- {key: tier, operator: In, values: [a, b]}\n").unwrap();
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "a")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "c")])));
        assert!(!s.matches(&labels(&[("tier", "a")])));
        assert_eq!(s.to_string(), "app=web, tier in (a, b)");
    }

    #[test]
    fn notin_and_does_not_exist_match_missing_keys() {
        let s = selector("matchExpressions:\n- {key: env, operator: NotIn, values: [prod]}\n- {key: legacy, operator: DoesNotExist}\n").unwrap();
        assert!(s.matches(&labels(&[])));
        assert!(s.matches(&labels(&[("env", "dev")])));
        assert!(!s.matches(&labels(&[("env", "prod")])));
        assert!(!s.matches(&labels(&[("legacy", "")])));
    }

    #[test]
    fn empty_selector_matches_everything() {
        assert!(selector("{}").unwrap().matches(&labels(&[("x", "y")])));
    }

    #[test]
    fn invalid_selectors_are_located() {
        let err =
            selector("matchExpressions:\n- {key: a, operator: in, values: [x]}\n").unwrap_err();
        assert!(
            err.message
                .contains("must be In, NotIn, Exists or DoesNotExist"),
            "{err:?}"
        );
        assert_eq!(err.line, 2);
        let err = selector("matchExpressions:\n- {key: a, operator: In}\n").unwrap_err();
        assert!(err.message.contains("without `values`"));
        let err = selector("matchLabels: [a]\n").unwrap_err();
        assert!(
            err.message
                .contains("`podSelector.matchLabels` is a list; it must be a map")
        );
        let err = selector("matchLabels: {version: 2}\n").unwrap_err();
        assert!(err.message.contains("must be a string"), "{err:?}");
    }

    /// Reference semantics, written independently from the Kubernetes documentation's table.
    fn reference(s: &Selector, l: &Labels) -> bool {
        for (k, v) in &s.match_labels {
            if l.get(k) != Some(v) {
                return false;
            }
        }
        for r in &s.requirements {
            let ok = match (r.operator, l.get(&r.key)) {
                (Operator::In, Some(v)) => r.values.iter().any(|x| x == v),
                (Operator::In, None) => false,
                (Operator::NotIn, Some(v)) => r.values.iter().all(|x| x != v),
                (Operator::NotIn, None) => true,
                (Operator::Exists, found) => found.is_some(),
                (Operator::DoesNotExist, found) => found.is_none(),
            };
            if !ok {
                return false;
            }
        }
        true
    }

    fn small() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["a", "b", "c"]).prop_map(str::to_string)
    }

    fn requirement() -> impl Strategy<Value = Requirement> {
        (small(), 0..4usize, prop::collection::vec(small(), 1..3)).prop_map(|(key, op, values)| {
            let operator = [
                Operator::In,
                Operator::NotIn,
                Operator::Exists,
                Operator::DoesNotExist,
            ][op];
            let values = if matches!(operator, Operator::In | Operator::NotIn) {
                values
            } else {
                vec![]
            };
            Requirement {
                key,
                operator,
                values,
            }
        })
    }

    proptest! {
        #[test]
        fn matching_agrees_with_the_reference(
            ml in prop::collection::vec((small(), small()), 0..3),
            reqs in prop::collection::vec(requirement(), 0..3),
            l in prop::collection::btree_map(small(), small(), 0..3),
        ) {
            let s = Selector { match_labels: ml, requirements: reqs };
            prop_assert_eq!(s.matches(&l), reference(&s, &l));
        }

        #[test]
        fn parsed_yaml_selector_agrees_with_the_reference(
            ml in prop::collection::btree_map(small(), small(), 0..3),
            reqs in prop::collection::vec(requirement(), 0..3),
            l in prop::collection::btree_map(small(), small(), 0..3),
        ) {
            // Round trip through YAML text, so parsing is covered too.
            let mut yaml = String::from("matchLabels:\n");
            for (k, v) in &ml { yaml.push_str(&format!("  {k}: {v}\n")); }
            yaml.push_str("matchExpressions:\n");
            for r in &reqs {
                let op = format!("{:?}", r.operator);
                if r.values.is_empty() {
                    yaml.push_str(&format!("- key: {}\n  operator: {op}\n", r.key));
                } else {
                    yaml.push_str(&format!("- key: {}\n  operator: {op}\n  values: [{}]\n", r.key, r.values.join(", ")));
                }
            }
            let parsed = selector(&yaml).unwrap();
            let expected = Selector { match_labels: ml.into_iter().collect(), requirements: reqs };
            prop_assert_eq!(parsed.matches(&l), reference(&expected, &l));
        }
    }
}
