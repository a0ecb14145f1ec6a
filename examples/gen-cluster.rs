//! Prints a generated cluster as YAML: `cargo run --release --example gen-cluster -- M 1 > m.yaml`
//! (size S, M, L or XL, or `NAMESPACES WORKLOADS POLICIES`; then the seed, default 1; then
//! optionally the number of cluster-wide policies to add, as `benches/core.rs` does for L).
//!
//! `--authz[=N]` (anywhere) puts everything in the ambient mesh (every namespace enrolled, no
//! waypoint, service accounts per tier) and adds N Istio AuthorizationPolicies (default: one per
//! two NetworkPolicies, at least one per namespace); `benches/compare-nca.sh --authz` compares
//! ztunnel's verdicts with network-config-analyzer's. Without it the output is unchanged.
//!
//! `--calico[=N]` (anywhere) adds N Calico NetworkPolicies and GlobalNetworkPolicies of the
//! default tier (default: one per NetworkPolicy), for `--cni calico --pod-cidr 10.244.0.0/16`;
//! `benches/compare-nca-calico.sh` compares our Calico verdicts with network-config-analyzer's.

#[path = "../tests/support/cluster.rs"]
mod cluster;

fn main() {
    let mut authz = None;
    let mut calico = None;
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| {
            let Some(n) = a.strip_prefix("--calico") else {
                return true;
            };
            calico = Some(match n {
                "" => None,
                n => Some(
                    n.strip_prefix('=')
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| usage()),
                ),
            });
            false
        })
        .filter(|a| match a.strip_prefix("--authz") {
            Some("") => {
                authz = Some(None);
                false
            }
            Some(n) => {
                let n = n.strip_prefix('=').and_then(|n| n.parse().ok());
                authz = Some(Some(n.unwrap_or_else(|| usage())));
                false
            }
            None => true,
        })
        .collect();
    let (size, rest) = match args.first().map(String::as_str) {
        Some("S") => (cluster::S, &args[1..]),
        Some("M") | None => (cluster::M, args.get(1..).unwrap_or_default()),
        Some("L") => (cluster::L, &args[1..]),
        Some("XL") => (cluster::XL, &args[1..]),
        Some(_) if args.len() >= 3 => {
            let n = |i: usize| args[i].parse().unwrap_or_else(|_| usage());
            (
                cluster::Size {
                    namespaces: n(0),
                    workloads: n(1),
                    policies: n(2),
                },
                &args[3..],
            )
        }
        Some(_) => usage(),
    };
    let seed = rest
        .first()
        .map_or(1, |s| s.parse().unwrap_or_else(|_| usage()));
    let tiers = rest
        .get(1)
        .map_or(0, |s| s.parse().unwrap_or_else(|_| usage()));
    match authz {
        None => print!("{}", cluster::generate(size, seed)),
        Some(_) => print!("{}", cluster::generate_mesh(size, seed)),
    }
    print!(
        "{}",
        cluster::cluster_policies(tiers, size.namespaces, seed)
    );
    if let Some(n) = authz {
        let n = n.unwrap_or((size.policies / 2).max(size.namespaces));
        print!("{}", cluster::authorization_policies(n, size, seed));
    }
    if let Some(n) = calico {
        let n = n.unwrap_or(size.policies);
        print!("{}", cluster::calico_nca_policies(n, size, seed));
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: gen-cluster [S|M|L|XL | NAMESPACES WORKLOADS POLICIES] [SEED [CLUSTER-POLICIES]] [--authz[=N]] [--calico[=N]]"
    );
    std::process::exit(2)
}
