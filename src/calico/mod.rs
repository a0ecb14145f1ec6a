//! Calico's own policies (`projectcalico.org/v3`, `crd.projectcalico.org/v1`).

pub mod selector;
