//! Example inputs the page offers: the seed's examples, verbatim from `tests/seed/`.

/// The seed's first example: a policy that admits only 9090/TCP to `my-app`, which blocks HBONE
/// (15008) once `my-app` is in the ambient mesh.
pub const SEED_HBONE: &str = include_str!("../../tests/seed/hbone-blocked.yaml");
