//! Kubernetes NetworkPolicy semantics (networking.k8s.io/v1): selectors, peers, ports, verdicts.
//!
//! Implements the rules of DOMAIN.md section 1 exactly, with the Kubernetes documentation as the
//! authority: policyTypes defaults, additive policies, AND/OR of peers, missing vs empty
//! selectors, named ports resolved per destination, endPort ranges, ipBlock with except.

pub mod conn;
pub mod connectivity;
pub mod eval;
pub mod ip;
pub mod memo;
pub mod policy;
pub mod ranges;
pub mod selector;
