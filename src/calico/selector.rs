//! Calico's selector language (`selector`, `namespaceSelector`, `serviceAccountSelector` and a
//! rule's `selector`/`notSelector`): a hand-written recursive-descent parser with errors located
//! by byte offset, and the evaluator.
//!
//! Grammar and precedence as Calico's own parser has them (libcalico-go `lib/selector`): `||`
//! binds loosest, then `&&`, then any number of leading `!`; an operation is `all()`,
//! `global()`, `has(k)`, `k == 'v'`, `k != 'v'`, `k in {'a', "b"}`, `k not in {...}`,
//! `k contains 's'`, `k starts with 's'`, `k ends with 's'` or a parenthesised expression. The
//! empty selector selects everything. `!=` and `not in` match things without the label; `==`,
//! `in`, `contains`, `starts with` and `ends with` need it. `global()` matches non-namespaced
//! resources (host endpoints, global network sets), which the analysis has none of: it matches
//! no pod and no namespace here.

use std::collections::BTreeSet;
use std::fmt;

use crate::model::labels::{Labels, Operator, Requirement, Selector};

/// Label keys Calico accepts in a selector: `[a-zA-Z0-9_./-]{1,512}`.
const MAX_KEY: usize = 512;
/// Nesting depth (parentheses and `!`), so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 100;
/// Operations per selector (hostile-input limit; no real selector comes near).
const MAX_OPERATIONS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    All,
    Global,
    Has(String),
    Eq(String, String),
    Ne(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Contains(String, String),
    StartsWith(String, String),
    EndsWith(String, String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = |k: &String| labels.get(k).map(String::as_str);
        match self {
            Expr::All => true,
            Expr::Global => false,
            Expr::Has(k) => labels.contains_key(k),
            Expr::Eq(k, v) => value(k) == Some(v.as_str()),
            Expr::Ne(k, v) => value(k) != Some(v.as_str()),
            Expr::In(k, set) => value(k).is_some_and(|x| set.contains(x)),
            Expr::NotIn(k, set) => !value(k).is_some_and(|x| set.contains(x)),
            Expr::Contains(k, s) => value(k).is_some_and(|x| x.contains(s.as_str())),
            Expr::StartsWith(k, s) => value(k).is_some_and(|x| x.starts_with(s.as_str())),
            Expr::EndsWith(k, s) => value(k).is_some_and(|x| x.ends_with(s.as_str())),
            Expr::Not(e) => !e.matches(labels),
            Expr::And(es) => es.iter().all(|e| e.matches(labels)),
            Expr::Or(es) => es.iter().any(|e| e.matches(labels)),
        }
    }

    fn keys<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match self {
            Expr::All | Expr::Global => {}
            Expr::Has(k)
            | Expr::Eq(k, _)
            | Expr::Ne(k, _)
            | Expr::In(k, _)
            | Expr::NotIn(k, _)
            | Expr::Contains(k, _)
            | Expr::StartsWith(k, _)
            | Expr::EndsWith(k, _) => {
                out.insert(k);
            }
            Expr::Not(e) => e.keys(out),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.keys(out)),
        }
    }

    /// A label (key, value) that everything the expression matches carries, if the expression
    /// says so plainly (`k == 'v'`, `k in {'v'}`, alone or as a conjunct).
    fn required(&self) -> Option<(&str, &str)> {
        match self {
            Expr::Eq(k, v) => Some((k, v)),
            Expr::In(k, set) if set.len() == 1 => {
                set.iter().next().map(|v| (k.as_str(), v.as_str()))
            }
            Expr::And(es) => es.iter().find_map(Expr::required),
            _ => None,
        }
    }
}

fn quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if s.contains('"') {
        write!(f, "'{s}'")
    } else {
        write!(f, "\"{s}\"")
    }
}

/// Calico's canonical spelling (every `&&`/`||` group in parentheses): parses back to the same
/// expression.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = |f: &mut fmt::Formatter<'_>, k: &str, op: &str, v: &str| {
            write!(f, "{k} {op} ")?;
            quoted(f, v)
        };
        let set = |f: &mut fmt::Formatter<'_>, k: &str, op: &str, vs: &BTreeSet<String>| {
            write!(f, "{k} {op} {{")?;
            for (i, v) in vs.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                quoted(f, v)?;
            }
            write!(f, "}}")
        };
        let group = |f: &mut fmt::Formatter<'_>, es: &[Expr], sep: &str| {
            write!(f, "(")?;
            for (i, e) in es.iter().enumerate() {
                if i > 0 {
                    write!(f, " {sep} ")?;
                }
                write!(f, "{e}")?;
            }
            write!(f, ")")
        };
        match self {
            Expr::All => write!(f, "all()"),
            Expr::Global => write!(f, "global()"),
            Expr::Has(k) => write!(f, "has({k})"),
            Expr::Eq(k, v) => op(f, k, "==", v),
            Expr::Ne(k, v) => op(f, k, "!=", v),
            Expr::In(k, vs) => set(f, k, "in", vs),
            Expr::NotIn(k, vs) => set(f, k, "not in", vs),
            Expr::Contains(k, v) => op(f, k, "contains", v),
            Expr::StartsWith(k, v) => op(f, k, "starts with", v),
            Expr::EndsWith(k, v) => op(f, k, "ends with", v),
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::And(es) => group(f, es, "&&"),
            Expr::Or(es) => group(f, es, "||"),
        }
    }
}

/// A parsed selector, with its text as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CalicoSelector {
    pub text: String,
    pub expr: Expr,
}

impl CalicoSelector {
    /// Everything (`all()`, or an empty selector).
    pub fn all() -> CalicoSelector {
        CalicoSelector {
            text: String::new(),
            expr: Expr::All,
        }
    }

    pub fn parse(text: &str) -> Result<CalicoSelector, SelectorError> {
        Ok(CalicoSelector {
            text: text.to_string(),
            expr: parse(text)?,
        })
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.expr.matches(labels)
    }

    pub fn is_all(&self) -> bool {
        self.expr == Expr::All
    }

    /// The label keys the selector reads: things that agree on these keys (present or not,
    /// and their values) are matched alike.
    pub fn keys(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        self.expr.keys(&mut out);
        out
    }

    /// A label every match carries, for the engine's (namespace, label) index.
    pub fn required_label(&self) -> Option<(&str, &str)> {
        self.expr.required()
    }

    /// The same selection as a Kubernetes label selector, when the expression is a conjunction
    /// Kubernetes can say (`==`, `!=`, `in`, `not in`, `has()`, `!has()`, `all()`); `None` for
    /// the rest (`||`, `contains`, `global()`, ...). `key` renames a key, or drops its
    /// conjunct (`None`): Calico's own labels, which the model's objects do not carry.
    pub fn as_kubernetes(&self, key: &dyn Fn(&str) -> Option<String>) -> Option<Selector> {
        let mut out = Selector::default();
        for e in self.conjuncts() {
            let requirement = |k: &str, operator, values: Vec<String>| {
                key(k).map(|key| Requirement {
                    key,
                    operator,
                    values,
                })
            };
            let r = match e {
                Expr::All => None,
                Expr::Eq(k, v) => {
                    if let Some(k) = key(k) {
                        out.match_labels.push((k, v.clone()));
                    }
                    None
                }
                Expr::Ne(k, v) => requirement(k, Operator::NotIn, vec![v.clone()]),
                Expr::In(k, vs) => requirement(k, Operator::In, vs.iter().cloned().collect()),
                Expr::NotIn(k, vs) => requirement(k, Operator::NotIn, vs.iter().cloned().collect()),
                Expr::Has(k) => requirement(k, Operator::Exists, Vec::new()),
                Expr::Not(inner) => match inner.as_ref() {
                    Expr::Has(k) => requirement(k, Operator::DoesNotExist, Vec::new()),
                    _ => return None,
                },
                _ => return None,
            };
            out.requirements.extend(r);
        }
        Some(out)
    }

    /// The expression's conjuncts: those of a top-level `&&`, else the expression itself.
    fn conjuncts(&self) -> &[Expr] {
        match &self.expr {
            Expr::And(es) => es,
            e => std::slice::from_ref(e),
        }
    }

    /// The value a plain conjunct `key == 'value'` gives `key`.
    pub fn equals(&self, key: &str) -> Option<&str> {
        self.conjuncts().iter().find_map(|e| match e {
            Expr::Eq(k, v) if k == key => Some(v.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for CalicoSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.trim().is_empty() {
            write!(f, "all()")
        } else {
            write!(f, "{}", self.text.trim())
        }
    }
}

/// What is wrong with a selector, and where: `offset` is the byte offset in the expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset + 1, self.message)
    }
}

/// Parses a selector expression.
pub fn parse(text: &str) -> Result<Expr, SelectorError> {
    let mut p = Parser {
        text,
        at: 0,
        depth: 0,
        operations: 0,
    };
    p.skip_space();
    if p.at == text.len() {
        return Ok(Expr::All);
    }
    let expr = p.or()?;
    p.skip_space();
    if p.at < text.len() {
        return Err(p.error(format!(
            "unexpected `{}` after a complete expression; join expressions with `&&` or `||`",
            p.snippet()
        )));
    }
    Ok(expr)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
    operations: usize,
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn error(&self, message: String) -> SelectorError {
        SelectorError {
            offset: self.at,
            message,
        }
    }

    /// The next few characters, for messages.
    fn snippet(&self) -> String {
        let rest = self.rest();
        match rest.char_indices().nth(12) {
            Some((i, _)) => format!("{}…", &rest[..i]),
            None => rest.to_string(),
        }
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Consumes `token` (after spaces) if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    /// Consumes the keyword `word` if it comes next and is not the start of a longer word.
    fn eat_word(&mut self, word: &str) -> bool {
        self.skip_space();
        let rest = self.rest();
        if rest.starts_with(word)
            && !rest[word.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    /// `first second` with any spaces or none between (`not in`, `notin`, `starts with`), as
    /// Calico's tokenizer reads them (`not\s*in\b`).
    fn eat_words(&mut self, first: &str, second: &str) -> bool {
        let start = self.at;
        if self.eat(first) && self.eat_word(second) {
            return true;
        }
        self.at = start;
        false
    }

    fn deeper(&mut self) -> Result<(), SelectorError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "the selector nests deeper than {MAX_DEPTH} levels; simplify it"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, SelectorError> {
        let mut terms = vec![self.and()?];
        while self.eat("||") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, SelectorError> {
        let mut terms = vec![self.operation()?];
        while self.eat("&&") {
            terms.push(self.operation()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn operation(&mut self) -> Result<Expr, SelectorError> {
        self.operations += 1;
        if self.operations > MAX_OPERATIONS {
            return Err(self.error(format!(
                "the selector has more than {MAX_OPERATIONS} operations; split the policy"
            )));
        }
        self.skip_space();
        if self.rest().starts_with('!') && !self.rest().starts_with("!=") {
            self.at += 1;
            self.deeper()?;
            let inner = self.operation()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.rest().is_empty() {
            return Err(self.error(
                "the selector ends where an expression was expected (a label test, `has(k)`, `all()` or `(...)`)".into(),
            ));
        }
        if self.eat("(") {
            self.deeper()?;
            let inner = self.or()?;
            self.depth -= 1;
            if !self.eat(")") {
                return Err(self.error(format!(
                    "expected `)` to close the parenthesis, found {}",
                    self.found()
                )));
            }
            return Ok(inner);
        }
        for (name, expr) in [("all", Expr::All), ("global", Expr::Global)] {
            let start = self.at;
            if self.eat_word(name) && self.eat("(") {
                if !self.eat(")") {
                    return Err(self.error(format!(
                        "`{name}()` takes no argument; expected `)`, found {}",
                        self.found()
                    )));
                }
                return Ok(expr);
            }
            self.at = start;
        }
        let start = self.at;
        if self.eat_word("has") && self.eat("(") {
            self.skip_space();
            let key = self.key()?;
            if !self.eat(")") {
                return Err(self.error(format!(
                    "expected `)` after the label key in `has({key}`, found {}",
                    self.found()
                )));
            }
            return Ok(Expr::Has(key));
        }
        self.at = start;
        let key = self.key()?;
        self.skip_space();
        let operator_at = self.at;
        if self.eat("==") {
            Ok(Expr::Eq(key, self.string()?))
        } else if self.eat("!=") {
            Ok(Expr::Ne(key, self.string()?))
        } else if self.eat_words("not", "in") {
            Ok(Expr::NotIn(key, self.set()?))
        } else if self.eat_word("in") {
            Ok(Expr::In(key, self.set()?))
        } else if self.eat_word("contains") {
            Ok(Expr::Contains(key, self.string()?))
        } else if self.eat_words("starts", "with") {
            Ok(Expr::StartsWith(key, self.string()?))
        } else if self.eat_words("ends", "with") {
            Ok(Expr::EndsWith(key, self.string()?))
        } else {
            self.at = operator_at;
            let hint = if self.rest().starts_with('=') {
                " (equality is `==`, not `=`)"
            } else {
                ""
            };
            Err(self.error(format!(
                "expected an operator after the label `{key}` (`==`, `!=`, `in`, `not in`, `contains`, `starts with`, `ends with`), found {}{hint}",
                self.found()
            )))
        }
    }

    /// What comes next, for messages.
    fn found(&self) -> String {
        if self.rest().trim().is_empty() {
            "the end of the selector".into()
        } else {
            format!("`{}`", self.snippet().trim_start())
        }
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        self.skip_space();
        let rest = self.rest();
        let len = rest.find(|c| !is_key_char(c)).unwrap_or(rest.len());
        if len == 0 {
            let hint = if rest.starts_with(['\'', '"']) {
                " (label keys are written without quotes; values are quoted)"
            } else {
                ""
            };
            return Err(self.error(format!(
                "expected a label key (letters, digits, `_`, `.`, `/`, `-`), a `has(k)`, `all()` or `(`, found {}{hint}",
                self.found()
            )));
        }
        if len > MAX_KEY {
            return Err(self.error(format!(
                "the label key is {len} characters long; Calico allows at most {MAX_KEY}"
            )));
        }
        let key = rest[..len].to_string();
        self.at += len;
        Ok(key)
    }

    /// A quoted string, in either quote style.
    fn string(&mut self) -> Result<String, SelectorError> {
        self.skip_space();
        let rest = self.rest();
        let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            return Err(self.error(format!(
                "expected a quoted value ('v' or \"v\"), found {}",
                self.found()
            )));
        };
        let Some(len) = rest[1..].find(quote) else {
            return Err(self.error(format!(
                "the value starting here has no closing {quote}; close it with {quote}"
            )));
        };
        let value = rest[1..1 + len].to_string();
        self.at += len + 2;
        Ok(value)
    }

    /// `{ 'a', "b" }`, possibly empty.
    fn set(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        if !self.eat("{") {
            return Err(self.error(format!(
                "expected a set of values `{{'a', 'b'}}`, found {}",
                self.found()
            )));
        }
        let mut values = BTreeSet::new();
        if self.eat("}") {
            return Ok(values);
        }
        loop {
            values.insert(self.string()?);
            if self.eat(",") {
                continue;
            }
            if self.eat("}") {
                return Ok(values);
            }
            return Err(self.error(format!(
                "expected `,` or `}}` in the set of values, found {}",
                self.found()
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(text: &str) -> Expr {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn operators_match_as_calico_documents_them() {
        let web = labels(&[("app", "web-frontend"), ("tier", "1")]);
        let bare = labels(&[]);
        for (text, on_web, on_bare) in [
            ("", true, true),
            ("all()", true, true),
            ("global()", false, false),
            ("app == 'web-frontend'", true, false),
            ("app == \"web\"", false, false),
            ("app != 'db'", true, true),
            ("has(app)", true, false),
            ("!has(app)", false, true),
            ("app in {'a', \"web-frontend\"}", true, false),
            ("app not in {'a'}", true, true),
            ("app notin {'a'}", true, true),
            ("app in {}", false, false),
            ("app contains 'front'", true, false),
            ("app starts with 'web'", true, false),
            ("app ends with 'end'", true, false),
            ("app startswith 'web'", true, false),
            ("tier == '1' && app == 'x' || has(tier)", true, false),
            ("tier == '1' && (app == 'x' || !has(tier))", false, false),
            ("!!has(app)", true, false),
            ("!(app == 'x') && !has(zone)", true, true),
            ("  has( app )  ", true, false),
        ] {
            assert_eq!(sel(text).matches(&web), on_web, "{text} on web");
            assert_eq!(sel(text).matches(&bare), on_bare, "{text} on bare");
        }
    }

    #[test]
    fn errors_say_where_and_what() {
        for (text, offset, words) in [
            ("app = 'x'", 4, "`==`, not `=`"),
            ("app == x", 7, "quoted value"),
            ("app == 'x", 7, "no closing '"),
            ("(has(a)", 7, "expected `)`"),
            ("has(a) has(b)", 7, "join expressions"),
            ("app in {'a' 'b'}", 12, "`,` or `}`"),
            ("'app' == 'x'", 0, "without quotes"),
            ("has(a) &&", 9, "ends where an expression"),
            ("all(x)", 4, "takes no argument"),
            ("app", 3, "expected an operator"),
        ] {
            let err = parse(text).expect_err(text);
            assert_eq!(err.offset, offset, "{text}: {err}");
            assert!(err.message.contains(words), "{text}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}has(a){}", "(".repeat(5_000), ")".repeat(5_000));
        assert!(parse(&text).is_err());
        let text = format!("{}has(a)", "!".repeat(5_000));
        assert!(parse(&text).is_err());
    }

    #[test]
    fn keys_and_required_label() {
        let s = CalicoSelector::parse("app == 'web' && (has(zone) || tier != '1')").unwrap();
        assert_eq!(
            s.keys().into_iter().collect::<Vec<_>>(),
            ["app", "tier", "zone"]
        );
        assert_eq!(s.required_label(), Some(("app", "web")));
        let s = CalicoSelector::parse("app == 'web' || has(zone)").unwrap();
        assert_eq!(s.required_label(), None);
        let s = CalicoSelector::parse("!(app == 'web')").unwrap();
        assert_eq!(s.required_label(), None);
    }

    /// The obviously correct reference: an AST evaluated by the definitions in Calico's docs.
    #[derive(Clone, Debug)]
    enum Ref {
        All,
        Has(usize),
        Eq(usize, usize),
        Ne(usize, usize),
        In(usize, Vec<usize>),
        NotIn(usize, Vec<usize>),
        Contains(usize, usize),
        Starts(usize, usize),
        Ends(usize, usize),
        Not(Box<Ref>),
        And(Box<Ref>, Box<Ref>),
        Or(Box<Ref>, Box<Ref>),
    }

    const KEYS: [&str; 3] = ["app", "k8s.io/tier", "zone-a"];
    const VALUES: [&str; 4] = ["", "web", "web-1", "a b"];

    fn eval(r: &Ref, labels: &[Option<usize>; 3]) -> bool {
        let v = |k: &usize| labels[*k].map(|i| VALUES[i]);
        match r {
            Ref::All => true,
            Ref::Has(k) => v(k).is_some(),
            Ref::Eq(k, x) => v(k) == Some(VALUES[*x]),
            Ref::Ne(k, x) => v(k) != Some(VALUES[*x]),
            Ref::In(k, xs) => xs.iter().any(|x| v(k) == Some(VALUES[*x])),
            Ref::NotIn(k, xs) => !xs.iter().any(|x| v(k) == Some(VALUES[*x])),
            Ref::Contains(k, x) => v(k).is_some_and(|s| s.contains(VALUES[*x])),
            Ref::Starts(k, x) => v(k).is_some_and(|s| s.starts_with(VALUES[*x])),
            Ref::Ends(k, x) => v(k).is_some_and(|s| s.ends_with(VALUES[*x])),
            Ref::Not(a) => !eval(a, labels),
            Ref::And(a, b) => eval(a, labels) && eval(b, labels),
            Ref::Or(a, b) => eval(a, labels) || eval(b, labels),
        }
    }

    /// Prints with as few parentheses as precedence allows (so the parser's precedence is what
    /// is tested), in random quote styles and spacing.
    fn print(r: &Ref, out: &mut String, quote: &mut impl Iterator<Item = bool>, level: u8) {
        let q = |out: &mut String, s: &str, double: bool| {
            if double {
                out.push_str(&format!("\"{s}\""));
            } else {
                out.push_str(&format!("'{s}'"));
            }
        };
        match r {
            Ref::All => out.push_str("all()"),
            Ref::Has(k) => out.push_str(&format!("has({})", KEYS[*k])),
            Ref::Eq(k, x)
            | Ref::Ne(k, x)
            | Ref::Contains(k, x)
            | Ref::Starts(k, x)
            | Ref::Ends(k, x) => {
                let op = match r {
                    Ref::Eq(..) => "==",
                    Ref::Ne(..) => " != ",
                    Ref::Contains(..) => " contains ",
                    Ref::Starts(..) => " starts with ",
                    _ => " ends  with ",
                };
                out.push_str(KEYS[*k]);
                out.push_str(op);
                q(out, VALUES[*x], quote.next().unwrap_or(false));
            }
            Ref::In(k, xs) | Ref::NotIn(k, xs) => {
                out.push_str(KEYS[*k]);
                out.push_str(if matches!(r, Ref::In(..)) {
                    " in {"
                } else {
                    " not in{"
                });
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    q(out, VALUES[*x], quote.next().unwrap_or(true));
                }
                out.push('}');
            }
            Ref::Not(a) => {
                out.push('!');
                print(a, out, quote, 3);
            }
            Ref::And(a, b) | Ref::Or(a, b) => {
                let (mine, sep) = if matches!(r, Ref::And(..)) {
                    (2, " && ")
                } else {
                    (1, "||")
                };
                let paren = level > mine;
                if paren {
                    out.push('(');
                }
                print(a, out, quote, mine);
                out.push_str(sep);
                // Right operands one level up: `a || (b || c)` keeps its parentheses only
                // where dropping them would change nothing either way.
                print(b, out, quote, mine);
                if paren {
                    out.push(')');
                }
            }
        }
    }

    fn reference() -> impl Strategy<Value = Ref> {
        let key = 0..KEYS.len();
        let value = 0..VALUES.len();
        let leaf = prop_oneof![
            Just(Ref::All),
            key.clone().prop_map(Ref::Has),
            (key.clone(), value.clone()).prop_map(|(k, v)| Ref::Eq(k, v)),
            (key.clone(), value.clone()).prop_map(|(k, v)| Ref::Ne(k, v)),
            (key.clone(), prop::collection::vec(value.clone(), 0..3))
                .prop_map(|(k, v)| Ref::In(k, v)),
            (key.clone(), prop::collection::vec(value.clone(), 0..3))
                .prop_map(|(k, v)| Ref::NotIn(k, v)),
            (key.clone(), value.clone()).prop_map(|(k, v)| Ref::Contains(k, v)),
            (key.clone(), value.clone()).prop_map(|(k, v)| Ref::Starts(k, v)),
            (key, value).prop_map(|(k, v)| Ref::Ends(k, v)),
        ];
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|a| Ref::Not(Box::new(a))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Ref::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner).prop_map(|(a, b)| Ref::Or(Box::new(a), Box::new(b))),
            ]
        })
    }

    proptest! {
        /// Printed with minimal parentheses, parsed and evaluated, an expression agrees with the
        /// reference on every label set; and the canonical printing parses back to itself.
        #[test]
        fn parser_agrees_with_the_reference(
            r in reference(),
            quotes in prop::collection::vec(any::<bool>(), 16),
            sets in prop::collection::vec(prop::array::uniform3(prop::option::of(0..VALUES.len())), 8),
        ) {
            let mut text = String::new();
            print(&r, &mut text, &mut quotes.into_iter().cycle(), 0);
            let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            for set in &sets {
                let labels: Labels = set
                    .iter()
                    .enumerate()
                    .filter_map(|(k, v)| v.map(|v| (KEYS[k].to_string(), VALUES[v].to_string())))
                    .collect();
                prop_assert_eq!(parsed.matches(&labels), eval(&r, set), "{}", text);
            }
            let again = parse(&parsed.to_string()).map_err(|e| TestCaseError::fail(format!("{parsed}: {e}")))?;
            prop_assert_eq!(&again, &parsed);
        }

        /// Where a selector converts to a Kubernetes label selector, the two agree on every
        /// label set (and a conjunction of plain tests always converts).
        #[test]
        fn kubernetes_selectors_agree(
            r in reference(),
            sets in prop::collection::vec(prop::array::uniform3(prop::option::of(0..VALUES.len())), 8),
        ) {
            let mut text = String::new();
            print(&r, &mut text, &mut std::iter::repeat(true), 0);
            let parsed = CalicoSelector::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            let plain = |e: &Expr| match e {
                Expr::All | Expr::Has(_) | Expr::Eq(..) | Expr::Ne(..) | Expr::In(..) | Expr::NotIn(..) => true,
                Expr::Not(inner) => matches!(inner.as_ref(), Expr::Has(_)),
                _ => false,
            };
            let conjunction = match &parsed.expr {
                Expr::And(es) => es.iter().all(plain),
                e => plain(e),
            };
            let converted = parsed.as_kubernetes(&|k| Some(k.to_string()));
            prop_assert_eq!(converted.is_some(), conjunction, "{}", text);
            if let Some(k8s) = converted {
                for set in &sets {
                    let labels: Labels = set
                        .iter()
                        .enumerate()
                        .filter_map(|(k, v)| v.map(|v| (KEYS[k].to_string(), VALUES[v].to_string())))
                        .collect();
                    prop_assert_eq!(k8s.matches(&labels), parsed.matches(&labels), "{} as {}", text, k8s);
                }
            }
        }

        /// Any text: an expression or a located error inside the text, never a panic.
        #[test]
        fn any_text_parses_or_fails_in_place(text in "[a-z()!&|=' {},\"-]{0,40}") {
            if let Err(e) = parse(&text) {
                prop_assert!(e.offset <= text.len());
            }
        }
    }
}
