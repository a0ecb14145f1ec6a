//! Pods and the controllers above them, collapsed into one workload per owner chain.
//!
//! A cluster dump (`kubectl get all -o yaml`) shows each app several times: its Deployment, the
//! Deployment's ReplicaSets (old rollouts at 0 replicas among them) and the running pods. To
//! NetworkPolicy they are one set of pods, so they are one workload. The chains Pod ->
//! ReplicaSet -> Deployment, Pod -> Job -> CronJob and Pod -> StatefulSet, DaemonSet or
//! ReplicationController are followed whether or not the owners are in the input: the controller
//! `ownerReference` first, else the names and labels controllers give what they create
//! (`<deployment>-<pod-template-hash>`, `<cronjob>-<digits>`, `job-name`,
//! `statefulset.kubernetes.io/pod-name`, ...). The workload keeps the top owner's kind and name,
//! the pods' template and addresses (what runs, injected sidecars included), and the selector of
//! the highest controller the input has, so that generated selectors need no label a controller
//! adds: those change with every rollout.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::BTreeSet;
use std::net::IpAddr;

use super::Workload;
use crate::model::labels::Labels;

/// Labels the cluster adds to the pods it creates, not written in any template the user keeps:
/// they change with every rollout (hashes, revisions), differ from pod to pod (names, indexes)
/// or are unique to one run (a Job's uid). A selector naming one stops matching the pods of the
/// next rollout, and pods of one owner differing only in them are the same workload.
const CONTROLLER_LABELS: &[&str] = &[
    // Deployment -> ReplicaSet: the hash of the pod template.
    "pod-template-hash",
    // StatefulSet and DaemonSet revisions.
    "controller-revision-hash",
    "pod-template-generation",
    // StatefulSet pods, one value per pod.
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    // Job pods, the older names (their `batch.kubernetes.io/` twins are matched by prefix).
    "controller-uid",
    "job-name",
    // Istio's sidecar injector: the revision follows the app's version label.
    "security.istio.io/tlsMode",
    "service.istio.io/canonical-name",
    "service.istio.io/canonical-revision",
    // Cilium's endpoint label for the pod's service account (its policies select by it; the
    // pipeline adds it to workloads when the input has Cilium policies).
    "io.cilium.k8s.policy.serviceaccount",
];

/// Whether the cluster adds this label to pods itself ([`CONTROLLER_LABELS`], and every
/// `batch.kubernetes.io/` label: `job-name`, `controller-uid`, `job-completion-index`).
pub fn is_controller_label(key: &str) -> bool {
    CONTROLLER_LABELS.contains(&key) || key.starts_with("batch.kubernetes.io/")
}

/// The labels of `labels` that are not [controller labels](is_controller_label).
pub fn without_controller_labels(labels: &Labels) -> Labels {
    let mut out = labels.clone();
    out.retain(|k, _| !is_controller_label(k));
    out
}

/// A workload object as read, before the chains are collapsed.
#[derive(Debug)]
pub struct Member {
    /// The object's own workload: its kind and name, its pod template.
    pub workload: Workload,
    /// The controller `ownerReference` (kind, name) of a pod, ReplicaSet, Job or
    /// ReplicationController (a static pod's `Node` is not one).
    pub owner: Option<(String, String)>,
    /// The object's own `spec.selector.matchLabels` (a ReplicationController's
    /// `spec.selector`), without controller labels; `None` when absent or empty.
    pub selector: Option<Labels>,
    /// A ReplicaSet with `spec.replicas: 0` (an old rollout): it runs no pod, so it is not a
    /// workload, though its owner still names the Deployment of pods it leaves behind.
    pub scaled_to_zero: bool,
    /// A pod whose `status.phase` is `Succeeded` or `Failed`: it runs nothing, so it does not
    /// count as one of several pods.
    pub finished: bool,
}

/// Owners are followed at most this far: Pod -> ReplicaSet -> Deployment and Pod -> Job ->
/// CronJob are the longest chains, and a bound keeps cyclic `ownerReferences` harmless.
const MAX_HOPS: usize = 2;

/// The top of a member's chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Top {
    /// An object of the input (its member index).
    Object(usize),
    /// An owner the input does not have: (kind, name).
    Missing(String, String),
}

/// Where a member's chain leads.
struct Chain {
    top: Top,
    /// Steps from the member to the top (0: the member is the top).
    hops: usize,
    /// The highest object of the chain that has a selector: (its distance from the top, its
    /// member index).
    selector: Option<(usize, usize)>,
}

type Index<'m> = HashMap<(&'m str, &'m str, &'m str), usize>;

/// One workload per owner chain (and per set of labels other than controller labels: pods of one
/// owner that differ in a label a policy may select stay apart), in the order of the input's
/// first object of each. ReplicaSets scaled to zero are left out.
pub fn collapse(mut members: Vec<Member>) -> Vec<Workload> {
    let chains: Vec<Chain> = {
        let mut index: Index = HashMap::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            let w = &m.workload;
            index
                .entry((w.namespace.as_str(), w.kind.as_str(), w.name.as_str()))
                .or_insert(i);
        }
        (0..members.len())
            .map(|i| chain(&members, &index, i))
            .collect()
    };
    // Objects another member's chain ends at. The rest, with no owner of their own (every
    // object of a manifest), are a workload each without a look-up.
    let tops: HashSet<usize> = chains
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c.top {
            Top::Object(o) if o != i => Some(o),
            _ => None,
        })
        .collect();

    struct Group {
        /// The top owner's kind and name.
        kind: String,
        name: String,
        /// (member, hops to the top), in input order.
        members: Vec<(usize, usize)>,
        /// As [`Chain::selector`]: the one nearest the top among the members'.
        selector: Option<(usize, usize)>,
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: HashMap<(Top, Labels), usize> = HashMap::new();
    for (i, chain) in chains.into_iter().enumerate() {
        let member = &members[i];
        if member.scaled_to_zero {
            continue;
        }
        let top_name = |top: &Top| match top {
            Top::Object(o) => {
                let w = &members[*o].workload;
                (w.kind.clone(), w.name.clone())
            }
            Top::Missing(kind, name) => (kind.clone(), name.clone()),
        };
        let mut new_group = |top: &Top| {
            let (kind, name) = top_name(top);
            groups.push(Group {
                kind,
                name,
                members: Vec::new(),
                selector: None,
            });
            groups.len() - 1
        };
        let g = if chain.hops == 0 && !tops.contains(&i) {
            new_group(&chain.top)
        } else {
            let key = (
                chain.top,
                without_controller_labels(&member.workload.labels),
            );
            match by_key.get(&key) {
                Some(&g) => g,
                None => {
                    let g = new_group(&key.0);
                    by_key.insert(key, g);
                    g
                }
            }
        };
        let group = &mut groups[g];
        group.members.push((i, chain.hops));
        if let Some((distance, o)) = chain.selector
            && group.selector.is_none_or(|(d, _)| distance < d)
        {
            group.selector = Some((distance, o));
        }
    }

    let selectors: Vec<Option<Labels>> = members.iter_mut().map(|m| m.selector.take()).collect();
    let mut members: Vec<Option<Member>> = members.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let get = |m: usize| -> &Member {
            members[m]
                .as_ref()
                .expect("a member belongs to one group only")
        };
        let is_pod = |m: usize| get(m).workload.kind == "Pod";
        // Nearest the top: the object the user knows the app by (the Deployment), for locations.
        let nearest = group
            .members
            .iter()
            .min_by_key(|(_, hops)| *hops)
            .map(|&(m, _)| m)
            .expect("a group has a member");
        // The pod template: a pod's when the input has pods (what runs: sidecars injected,
        // the image rolled out), else that of the object nearest the top.
        let template = group
            .members
            .iter()
            .map(|&(m, _)| m)
            .find(|&m| is_pod(m))
            .unwrap_or(nearest);
        let mut labels = None;
        let mut ips: Vec<IpAddr> = Vec::new();
        let mut seen: HashSet<IpAddr> = HashSet::new();
        let mut running: BTreeSet<&str> = BTreeSet::new();
        let mut replicated = false;
        if group.members.len() > 1 {
            // Labels every pod has (the ones that differ from pod to pod drop out), or without
            // pods every template: what policies select is what runs, labels added to the pods
            // (the sidecar injector's) included.
            let mut common = get(template).workload.labels.clone();
            let from_pods = is_pod(template);
            for &(m, _) in &group.members {
                if is_pod(m) == from_pods {
                    let theirs = &get(m).workload.labels;
                    common.retain(|k, v| theirs.get(k) == Some(v));
                }
            }
            labels = Some(common);
            for &(m, _) in &group.members {
                let member = get(m);
                replicated |= member.workload.replicated;
                if is_pod(m) {
                    // (A set: one owner may have thousands of pods.)
                    ips.extend(member.workload.ips.iter().filter(|ip| seen.insert(**ip)));
                    if !member.finished {
                        running.insert(&member.workload.name);
                    }
                }
            }
            replicated |= running.len() > 1;
        }
        let location = get(nearest).workload.location;
        let mut workload = members[template]
            .take()
            .expect("a member belongs to one group only")
            .workload;
        for &(m, _) in &group.members {
            members[m] = None;
        }
        if let Some(labels) = labels {
            workload.labels = labels;
            workload.ips = ips;
            workload.replicated = replicated;
        }
        out.push(Workload {
            kind: group.kind,
            name: group.name,
            location,
            owner_selector: group.selector.and_then(|(_, o)| selectors[o].clone()),
            ..workload
        });
    }
    out
}

/// Follows member `i`'s owners to the top.
fn chain(members: &[Member], index: &Index, i: usize) -> Chain {
    let start = &members[i].workload;
    let namespace = start.namespace.as_str();
    let has_cronjob = |name: &str| index.contains_key(&(namespace, "CronJob", name));
    let mut kind = start.kind.as_str();
    let mut name = start.name.as_str();
    let mut at = Some(i);
    // The highest object with a selector so far: (its distance from the member, its index).
    let mut selector = members[i].selector.as_ref().map(|_| (0, i));
    let mut hops = 0;
    while hops < MAX_HOPS {
        let next = match at {
            Some(o) => match &members[o].owner {
                Some((k, n)) => Some((k.as_str(), n.as_str())),
                None => implied_owner(kind, name, &members[o].workload.labels, &has_cronjob),
            },
            // An owner the input lacks: only a ReplicaSet's and a Job's name tell theirs (the
            // ReplicaSet's hash is its pods' `pod-template-hash`).
            None if matches!(kind, "ReplicaSet" | "Job") => {
                implied_owner(kind, name, &start.labels, &has_cronjob)
            }
            None => None,
        };
        let Some((k, n)) = next else { break };
        (kind, name) = (k, n);
        hops += 1;
        at = index.get(&(namespace, kind, name)).copied();
        if let Some(o) = at
            && members[o].selector.is_some()
        {
            selector = Some((hops, o));
        }
    }
    let top = match at {
        Some(o) => Top::Object(o),
        None => Top::Missing(kind.to_string(), name.to_string()),
    };
    Chain {
        top,
        hops,
        selector: selector.map(|(distance, o)| (hops - distance, o)),
    }
}

/// The owner an object's name and labels imply when it has no controller `ownerReference`
/// (stripped from a dump, or an owner the input lacks): (kind, name).
fn implied_owner<'a>(
    kind: &str,
    name: &'a str,
    labels: &'a Labels,
    has_cronjob: &dyn Fn(&str) -> bool,
) -> Option<(&'a str, &'a str)> {
    let label = |key: &str| labels.get(key).map(String::as_str);
    // `<prefix>-<suffix>`: the prefix, when the suffix is not empty.
    let prefix = |name: &'a str| {
        name.rsplit_once('-')
            .filter(|(p, s)| !p.is_empty() && !s.is_empty())
    };
    match kind {
        "Pod" => {
            if let Some(job) = label("batch.kubernetes.io/job-name").or(label("job-name")) {
                return Some(("Job", job));
            }
            if label("statefulset.kubernetes.io/pod-name") == Some(name)
                && let Some((set, ordinal)) = prefix(name)
                && ordinal.bytes().all(|b| b.is_ascii_digit())
            {
                return Some(("StatefulSet", set));
            }
            // `<deployment>-<hash>-<random>`: the ReplicaSet is `<deployment>-<hash>`.
            if let Some(hash) = label("pod-template-hash")
                && let Some((replica_set, _)) = prefix(name)
                && replica_set
                    .strip_suffix(hash)
                    .is_some_and(|d| d.len() > 1 && d.ends_with('-'))
            {
                return Some(("ReplicaSet", replica_set));
            }
            if label("pod-template-generation").is_some()
                && label("controller-revision-hash").is_some()
                && let Some((daemon_set, _)) = prefix(name)
            {
                return Some(("DaemonSet", daemon_set));
            }
            None
        }
        "ReplicaSet" => {
            let hash = label("pod-template-hash")?;
            let deployment = name.strip_suffix(hash)?.strip_suffix('-')?;
            (!deployment.is_empty()).then_some(("Deployment", deployment))
        }
        "Job" => {
            let (cron_job, digits) = prefix(name)?;
            (digits.bytes().all(|b| b.is_ascii_digit()) && has_cronjob(cron_job))
                .then_some(("CronJob", cron_job))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::findings::Finding;
    use crate::input::{Source, load};
    use crate::model::{Workload, build};

    /// The workloads (and the findings of reading them) of a text of YAML documents.
    fn workloads(text: &str) -> (Vec<Workload>, Vec<Finding>) {
        let loaded = load(&[Source {
            name: "dump.yaml",
            text,
        }]);
        let (cluster, mut findings) = build(&loaded.objects);
        findings.extend(loaded.findings);
        (cluster.workloads, findings)
    }

    fn names(workloads: &[Workload]) -> Vec<String> {
        workloads.iter().map(Workload::describe).collect()
    }

    fn labels(pairs: &[(&str, &str)]) -> crate::model::labels::Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: frontend}}
    spec: {containers: [{name: web, ports: [{containerPort: 8080}]}]}
";

    fn replica_set(hash: &str, replicas: u32, owner: bool) -> String {
        let owner = if owner {
            "\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true, uid: u1}]"
        } else {
            ""
        };
        format!(
            "
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-{hash}
  namespace: shop
  labels: {{app: web, tier: frontend, pod-template-hash: {hash}}}{owner}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web, pod-template-hash: {hash}}}}}
  template:
    metadata: {{labels: {{app: web, tier: frontend, pod-template-hash: {hash}}}}}
    spec: {{containers: [{{name: web, ports: [{{containerPort: 8080}}]}}]}}
"
        )
    }

    fn pod(name: &str, labels: &str, owner: Option<(&str, &str)>, ip: &str) -> String {
        let owner = owner.map_or(String::new(), |(kind, name)| {
            format!(
                "\n  ownerReferences: [{{apiVersion: apps/v1, kind: {kind}, name: {name}, controller: true, blockOwnerDeletion: true, uid: u2}}]"
            )
        });
        format!(
            "
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: shop
  labels: {{{labels}}}{owner}
  managedFields:
  - apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1: {{f:metadata: {{f:labels: {{.: {{}}, f:app: {{}}}}}}}}
    manager: kube-controller-manager
    operation: Update
spec:
  containers: [{{name: web, ports: [{{containerPort: 8080}}]}}]
status:
  phase: Running
  podIP: {ip}
  podIPs: [{{ip: {ip}}}]
"
        )
    }

    fn documents(parts: &[&str]) -> String {
        parts.join("---\n")
    }

    #[test]
    fn a_pod_its_replica_set_and_its_deployment_are_one_workload() {
        let rs = replica_set("7c9d8b6f5d", 2, true);
        let labels_text = "app: web, tier: frontend, pod-template-hash: 7c9d8b6f5d";
        let owner = Some(("ReplicaSet", "web-7c9d8b6f5d"));
        let a = pod("web-7c9d8b6f5d-4xk2p", labels_text, owner, "10.244.1.17");
        let b = pod("web-7c9d8b6f5d-p8v3m", labels_text, owner, "10.244.2.9");
        // In the order `kubectl get all` prints them: pods first, owners last.
        let text = documents(&[&a, &b, DEPLOYMENT, &rs]);
        let (w, findings) = workloads(&text);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(names(&w), ["Deployment `shop/web`"]);
        let web = &w[0];
        assert!(web.replicated);
        assert_eq!(
            web.ips,
            [
                "10.244.1.17".parse().unwrap(),
                "10.244.2.9".parse::<std::net::IpAddr>().unwrap()
            ]
        );
        // The pods' labels, as policies see them; a generated selector leaves out the hash.
        assert_eq!(
            web.labels,
            labels(&[
                ("app", "web"),
                ("pod-template-hash", "7c9d8b6f5d"),
                ("tier", "frontend")
            ])
        );
        assert_eq!(web.owner_selector, Some(labels(&[("app", "web")])));
        assert_eq!(web.selector_labels(), labels(&[("app", "web")]));
        // Messages point at the Deployment, the object the user knows the app by.
        let deployment = text.find("apiVersion: apps/v1\nkind: Deployment").unwrap();
        assert_eq!(
            web.location.line as usize,
            text[..deployment].lines().count() + 1
        );
    }

    #[test]
    fn pods_without_their_owners_are_one_workload_named_after_the_deployment() {
        let labels_text = "app: web, tier: frontend, pod-template-hash: 7c9d8b6f5d";
        let owner = Some(("ReplicaSet", "web-7c9d8b6f5d"));
        let (w, findings) = workloads(&documents(&[
            &pod("web-7c9d8b6f5d-4xk2p", labels_text, owner, "10.0.0.1"),
            &pod("web-7c9d8b6f5d-p8v3m", labels_text, owner, "10.0.0.2"),
        ]));
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(names(&w), ["Deployment `shop/web`"]);
        assert!(w[0].replicated);
        assert_eq!(w[0].owner_selector, None);
        // No controller has a selector in the input: the pods' labels without the hash.
        assert_eq!(
            w[0].selector_labels(),
            labels(&[("app", "web"), ("tier", "frontend")])
        );
        assert_eq!(w[0].ips.len(), 2);
    }

    #[test]
    fn a_replica_set_with_its_pods_but_not_its_deployment_merges_under_the_deployment() {
        let labels_text = "app: web, tier: frontend, pod-template-hash: 7c9d8b6f5d";
        let owner = Some(("ReplicaSet", "web-7c9d8b6f5d"));
        let (w, _) = workloads(&documents(&[
            &replica_set("7c9d8b6f5d", 1, true),
            &pod("web-7c9d8b6f5d-4xk2p", labels_text, owner, "10.0.0.1"),
        ]));
        assert_eq!(names(&w), ["Deployment `shop/web`"]);
        // One pod, one replica: not its own peer.
        assert!(!w[0].replicated);
        // The ReplicaSet's selector, without its hash.
        assert_eq!(w[0].owner_selector, Some(labels(&[("app", "web")])));
    }

    #[test]
    fn replica_sets_scaled_to_zero_are_not_workloads() {
        let old = replica_set("84b7d6c5f9", 0, true);
        let current = replica_set("7c9d8b6f5d", 2, true);
        let (w, _) = workloads(&documents(&[DEPLOYMENT, &old, &current]));
        assert_eq!(names(&w), ["Deployment `shop/web`"]);
        // Alone, an old rollout is nothing at all.
        let (w, findings) = workloads(&old);
        assert!(w.is_empty(), "{:?}", names(&w));
        assert!(findings.is_empty(), "{findings:?}");
        // Pods it leaves behind still belong to the Deployment.
        let leftover = pod(
            "web-84b7d6c5f9-zz9qk",
            "app: web, tier: frontend, pod-template-hash: 84b7d6c5f9",
            Some(("ReplicaSet", "web-84b7d6c5f9")),
            "10.0.0.3",
        );
        let (w, _) = workloads(&documents(&[DEPLOYMENT, &old, &current, &leftover]));
        assert_eq!(names(&w), ["Deployment `shop/web`"]);
    }

    #[test]
    fn a_replica_set_without_owner_reference_belongs_to_the_deployment_its_name_says() {
        let (w, _) = workloads(&documents(&[
            DEPLOYMENT,
            &replica_set("7c9d8b6f5d", 2, false),
        ]));
        assert_eq!(names(&w), ["Deployment `shop/web`"]);
        // A ReplicaSet whose name does not end in its hash is its own.
        let (w, _) = workloads(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: cache, namespace: shop}\nspec:\n  replicas: 2\n  template: {metadata: {labels: {app: cache, pod-template-hash: abc}}}\n",
        );
        assert_eq!(names(&w), ["ReplicaSet `shop/cache`"]);
    }

    const CRON_JOB: &str = "
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  schedule: '0 * * * *'
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec: {restartPolicy: OnFailure, containers: [{name: report}]}
";

    fn job(name: &str, owned: bool) -> String {
        let owner = if owned {
            "\n  ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: report, controller: true, uid: c1}]"
        } else {
            ""
        };
        format!(
            "
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: shop
  labels: {{batch.kubernetes.io/job-name: {name}, job-name: {name}}}{owner}
spec:
  selector: {{matchLabels: {{batch.kubernetes.io/controller-uid: 1f2e}}}}
  template:
    metadata:
      labels: {{app: report, batch.kubernetes.io/controller-uid: 1f2e, batch.kubernetes.io/job-name: {name}, controller-uid: 1f2e, job-name: {name}}}
    spec: {{restartPolicy: OnFailure, containers: [{{name: report}}]}}
"
        )
    }

    fn job_pod(job: &str, suffix: &str, owned: bool) -> String {
        pod(
            &format!("{job}-{suffix}"),
            &format!(
                "app: report, batch.kubernetes.io/controller-uid: 1f2e, batch.kubernetes.io/job-name: {job}, controller-uid: 1f2e, job-name: {job}"
            ),
            owned.then_some(("Job", job)),
            "10.0.0.9",
        )
    }

    #[test]
    fn jobs_and_their_pods_belong_to_their_cron_job() {
        // By ownerReferences.
        let (w, _) = workloads(&documents(&[
            CRON_JOB,
            &job("report-28971120", true),
            &job_pod("report-28971120", "x2v9p", true),
        ]));
        assert_eq!(names(&w), ["CronJob `shop/report`"]);
        // The CronJob's template has no selector, the Job's is its uid only: the pods' labels
        // without the Job's make the generated selector.
        assert_eq!(w[0].owner_selector, None);
        assert_eq!(w[0].selector_labels(), labels(&[("app", "report")]));
        // By the Job's name, `<cronjob>-<digits>`, when the CronJob is in the input.
        let (w, _) = workloads(&documents(&[
            &job_pod("report-28971120", "x2v9p", true),
            CRON_JOB,
            &job("report-28971120", false),
        ]));
        assert_eq!(names(&w), ["CronJob `shop/report`"]);
        let (w, _) = workloads(&documents(&[
            CRON_JOB,
            &job_pod("report-28971120", "x2v9p", true),
        ]));
        assert_eq!(names(&w), ["CronJob `shop/report`"]);
        // Without the CronJob, a Job's name is only a name.
        let (w, _) = workloads(&job_pod("report-28971120", "x2v9p", true));
        assert_eq!(names(&w), ["Job `shop/report-28971120`"]);
        assert_eq!(w[0].selector_labels(), labels(&[("app", "report")]));
    }

    fn stateful_pod(ordinal: u32, owned: bool) -> String {
        pod(
            &format!("cache-{ordinal}"),
            &format!(
                "app: cache, apps.kubernetes.io/pod-index: '{ordinal}', controller-revision-hash: cache-6d8f9c7b5, statefulset.kubernetes.io/pod-name: cache-{ordinal}"
            ),
            owned.then_some(("StatefulSet", "cache")),
            &format!("10.0.1.{ordinal}"),
        )
    }

    #[test]
    fn stateful_set_pods_are_one_workload_with_a_selector_free_of_their_own_names() {
        let (w, findings) = workloads(&documents(&[
            &stateful_pod(0, true),
            &stateful_pod(1, true),
        ]));
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(names(&w), ["StatefulSet `shop/cache`"]);
        assert!(w[0].replicated);
        // The labels that differ from pod to pod drop out; the revision both share stays for
        // the evaluator, but not in a generated selector.
        assert_eq!(
            w[0].labels,
            labels(&[
                ("app", "cache"),
                ("controller-revision-hash", "cache-6d8f9c7b5")
            ])
        );
        assert_eq!(w[0].selector_labels(), labels(&[("app", "cache")]));
        // With the StatefulSet in the input, its own selector.
        let set = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: cache, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app.kubernetes.io/name: cache}}\n  template:\n    metadata: {labels: {app: cache, app.kubernetes.io/name: cache}}\n";
        let with_name = |ordinal: u32| {
            stateful_pod(ordinal, true)
                .replace("app: cache,", "app: cache, app.kubernetes.io/name: cache,")
        };
        let (w, _) = workloads(&documents(&[&with_name(0), &with_name(1), set]));
        assert_eq!(names(&w), ["StatefulSet `shop/cache`"]);
        assert_eq!(
            w[0].selector_labels(),
            labels(&[("app.kubernetes.io/name", "cache")])
        );
    }

    #[test]
    fn pods_without_owner_references_are_placed_by_their_names_and_labels() {
        let (w, _) = workloads(&documents(&[
            // A Deployment's: `<deployment>-<hash>-<random>` with its `pod-template-hash`.
            &pod(
                "web-7c9d8b6f5d-4xk2p",
                "app: web, pod-template-hash: 7c9d8b6f5d",
                None,
                "10.0.0.1",
            ),
            &pod(
                "web-7c9d8b6f5d-p8v3m",
                "app: web, pod-template-hash: 7c9d8b6f5d",
                None,
                "10.0.0.2",
            ),
            // A StatefulSet's: its name is its `statefulset.kubernetes.io/pod-name`.
            &stateful_pod(0, false),
            &stateful_pod(1, false),
            // A Job's: `job-name`.
            &job_pod("migrate", "k2l9d", false),
            // A DaemonSet's: a template generation and a revision.
            &pod(
                "agent-x8k2p",
                "app: agent, controller-revision-hash: 5d4c, pod-template-generation: '1'",
                None,
                "10.0.0.5",
            ),
            &pod(
                "agent-q7w3e",
                "app: agent, controller-revision-hash: 5d4c, pod-template-generation: '1'",
                None,
                "10.0.0.6",
            ),
            // A pod of its own, even with a hash-like name.
            &pod("tools-7c9d8b6f5d-abc12", "app: tools", None, "10.0.0.7"),
        ]));
        assert_eq!(
            names(&w),
            [
                "Deployment `shop/web`",
                "StatefulSet `shop/cache`",
                "Job `shop/migrate`",
                "DaemonSet `shop/agent`",
                "Pod `shop/tools-7c9d8b6f5d-abc12`",
            ]
        );
        assert!(w[0].replicated && w[1].replicated && w[3].replicated);
        assert!(!w[2].replicated && !w[4].replicated);
    }

    #[test]
    fn pods_with_an_injected_sidecar_are_one_workload_with_their_deployment() {
        // Istio's injector adds labels and a container to the pods, not to the template.
        let injected = "app: web, tier: frontend, pod-template-hash: 7c9d8b6f5d, security.istio.io/tlsMode: istio, service.istio.io/canonical-name: web, service.istio.io/canonical-revision: latest";
        let pod = pod(
            "web-7c9d8b6f5d-4xk2p",
            injected,
            Some(("ReplicaSet", "web-7c9d8b6f5d")),
            "10.0.0.1",
        )
        .replace(
            "containers: [{name: web,",
            "containers: [{name: istio-proxy}, {name: web,",
        );
        let (w, _) = workloads(&documents(&[DEPLOYMENT, &pod]));
        assert_eq!(names(&w), ["Deployment `shop/web`"]);
        // What runs: the sidecar and the labels policies may select.
        assert!(w[0].containers.iter().any(|c| c.name == "istio-proxy"));
        assert_eq!(
            w[0].labels
                .get("security.istio.io/tlsMode")
                .map(String::as_str),
            Some("istio")
        );
        assert_eq!(w[0].selector_labels(), labels(&[("app", "web")]));
    }

    #[test]
    fn pods_of_one_owner_with_different_labels_stay_apart() {
        // Policies may select one and not the other (netpol-analyzer's data has such pods).
        let (w, _) = workloads(&documents(&[
            &pod(
                "web-7c9d8b6f5d-4xk2p",
                "app: web, pod-template-hash: 7c9d8b6f5d, track: stable",
                Some(("ReplicaSet", "web-7c9d8b6f5d")),
                "10.0.0.1",
            ),
            &pod(
                "web-7c9d8b6f5d-p8v3m",
                "app: web, pod-template-hash: 7c9d8b6f5d, track: canary",
                Some(("ReplicaSet", "web-7c9d8b6f5d")),
                "10.0.0.2",
            ),
        ]));
        assert_eq!(
            names(&w),
            ["Deployment `shop/web`", "Deployment `shop/web`"]
        );
        assert!(w.iter().all(|w| !w.replicated));
    }

    #[test]
    fn finished_pods_do_not_make_a_workload_several_pods() {
        let done = job_pod("report-1", "a1b2c", true).replace("phase: Running", "phase: Succeeded");
        let running = job_pod("report-1", "d3e4f", true);
        let (w, _) = workloads(&documents(&[&done, &running]));
        assert_eq!(names(&w), ["Job `shop/report-1`"]);
        assert!(!w[0].replicated);
    }

    #[test]
    fn status_and_managed_fields_never_make_findings() {
        let odd = "
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  managedFields: 7
  resourceVersion: 12
  creationTimestamp: null
spec: {containers: [{name: web}]}
status:
  podIP: 10
  podIPs: not-a-list
  phase: [Running]
  conditions: {a: b}
";
        let (w, findings) = workloads(odd);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(names(&w), ["Pod `shop/web`"]);
        assert!(w[0].ips.is_empty());
        let (w, findings) =
            workloads(&odd.replace("status:\n  podIP: 10", "status: 5\nx:\n  podIP: 10"));
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn cyclic_owner_references_end() {
        let cyclic = |name: &str, owner: &str| {
            format!(
                "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {name}\n  namespace: shop\n  ownerReferences: [{{kind: ReplicaSet, name: {owner}, controller: true}}]\nspec:\n  replicas: 1\n  template: {{metadata: {{labels: {{app: x}}}}}}\n"
            )
        };
        let (w, _) = workloads(&documents(&[
            &cyclic("a", "b"),
            &cyclic("b", "a"),
            &cyclic("c", "c"),
        ]));
        assert!(!w.is_empty() && w.len() <= 3, "{:?}", names(&w));
    }

    #[test]
    fn an_invalid_controller_selector_is_reported_and_the_workload_kept() {
        let (w, findings) =
            workloads(&DEPLOYMENT.replace("matchLabels: {app: web}", "matchLabels: [app]"));
        assert_eq!(names(&w), ["Deployment `shop/web`"]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0].message.contains("spec.selector.matchLabels"),
            "{}",
            findings[0].message
        );
        assert_eq!(
            w[0].selector_labels(),
            labels(&[("app", "web"), ("tier", "frontend")])
        );
    }

    #[test]
    fn controller_labels() {
        for key in [
            "pod-template-hash",
            "controller-revision-hash",
            "statefulset.kubernetes.io/pod-name",
            "apps.kubernetes.io/pod-index",
            "batch.kubernetes.io/job-completion-index",
            "job-name",
        ] {
            assert!(super::is_controller_label(key), "{key}");
        }
        for key in [
            "app",
            "istio.io/use-waypoint",
            "app.kubernetes.io/name",
            "version",
        ] {
            assert!(!super::is_controller_label(key), "{key}");
        }
    }
}
