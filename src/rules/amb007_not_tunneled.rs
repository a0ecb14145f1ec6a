#![doc = include_str!("docs/AMB007.md")]

use super::Output;
use crate::ambient::Context;
use crate::findings::Code;
use crate::net::Direction;
use crate::net::conn::Protocol;
use crate::pipeline::RuleRef;

pub fn check(cx: &Context, out: &mut Output) {
    let mesh = super::members(cx, |m| m.receives_hbone());
    for (p, policy) in cx.cluster.policies.network.iter().enumerate() {
        let mut selected = cx.engine.selected(p).clone();
        selected.intersect_with(&mesh);
        if selected.is_empty() {
            continue;
        }
        for direction in [Direction::Ingress, Direction::Egress] {
            for (i, rule) in policy.rules(direction).iter().enumerate() {
                let Some(ports) = &rule.ports else { continue };
                if ports.iter().any(|s| s.protocol == Protocol::Tcp) {
                    continue;
                }
                let mut protocols: Vec<&str> = ports.iter().map(|s| s.protocol.as_str()).collect();
                crate::sort::sort(&mut protocols);
                protocols.dedup();
                let rule = RuleRef::network(p, direction, i);
                out.findings.push(cx.cluster.rule_finding(
                    Code::Amb007,
                    format!(
                        "{} admits only {}: ambient tunnels TCP only, so this traffic keeps its original port and the rule needs no change",
                        cx.cluster.rule_name(&rule),
                        protocols.join(" and ")
                    ),
                    &rule,
                ));
            }
        }
    }
}
