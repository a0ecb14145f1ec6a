//! Sets of integers as sorted, disjoint, non-adjacent inclusive ranges: the one algebra behind
//! port sets (u16) and IP address sets (u32 for IPv4, u128 for IPv6).

use std::fmt;

/// An integer type usable as a range bound.
pub trait Bound: Copy + Ord + fmt::Display {
    const MIN: Self;
    const MAX: Self;
    fn next(self) -> Option<Self>;
    fn prev(self) -> Option<Self>;
}

macro_rules! bound {
    ($($t:ty),*) => {$(
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn next(self) -> Option<Self> { self.checked_add(1) }
            fn prev(self) -> Option<Self> { self.checked_sub(1) }
        }
    )*};
}
bound!(u16, u32, u128);

#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Ranges<T> {
    spans: Vec<(T, T)>,
}

impl<T: Bound> Ranges<T> {
    pub fn empty() -> Self {
        Ranges { spans: Vec::new() }
    }

    /// `lo..=hi`; empty when `lo > hi`.
    pub fn span(lo: T, hi: T) -> Self {
        if lo > hi {
            Self::empty()
        } else {
            Ranges {
                spans: vec![(lo, hi)],
            }
        }
    }

    pub fn single(x: T) -> Self {
        Self::span(x, x)
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn spans(&self) -> &[(T, T)] {
        &self.spans
    }

    pub fn contains(&self, x: T) -> bool {
        // Spans are sorted: find the last span starting at or before x.
        let i = self.spans.partition_point(|&(lo, _)| lo <= x);
        i > 0 && self.spans[i - 1].1 >= x
    }

    /// Every span of `other` lies inside `self`.
    pub fn contains_all(&self, other: &Self) -> bool {
        other.subtract(self).is_empty()
    }

    /// Both lists of spans merged in order of their starts, as one pass (no sort).
    pub fn union(&self, other: &Self) -> Self {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        let (a, b) = (&self.spans, &other.spans);
        let mut spans = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let next = if j == b.len() || (i < a.len() && a[i].0 <= b[j].0) {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            push_span(&mut spans, next);
        }
        Ranges { spans }
    }

    /// (Without a new list when `self` holds `other` already, as when the same ports are added
    /// again.)
    pub fn union_with(&mut self, other: &Self) {
        if !other.spans.iter().all(|&(lo, hi)| self.covers(lo, hi)) {
            *self = self.union(other);
        }
    }

    /// Whether one span of `self` holds `lo..=hi` (spans never touch, so one must).
    fn covers(&self, lo: T, hi: T) -> bool {
        let i = self.spans.partition_point(|&(start, _)| start <= lo);
        i > 0 && self.spans[i - 1].1 >= hi
    }

    pub fn intersect(&self, other: &Self) -> Self {
        let (mut i, mut j) = (0, 0);
        // Each step keeps at most one span and moves past one: one allocation.
        let mut out = Vec::with_capacity(self.spans.len() + other.spans.len());
        while i < self.spans.len() && j < other.spans.len() {
            let (a_lo, a_hi) = self.spans[i];
            let (b_lo, b_hi) = other.spans[j];
            let lo = a_lo.max(b_lo);
            let hi = a_hi.min(b_hi);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a_hi < b_hi {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ranges { spans: out }
    }

    /// Everything in `lo..=hi` that is not in `self`.
    pub fn complement_within(&self, lo: T, hi: T) -> Self {
        let mut out = Vec::with_capacity(self.spans.len() + 1);
        let mut cursor = Some(lo);
        for &(s_lo, s_hi) in &self.spans {
            let Some(c) = cursor else { break };
            if s_hi < c {
                continue;
            }
            if s_lo > hi {
                break;
            }
            if s_lo > c {
                out.push((c, s_lo.prev().expect("s_lo > c >= MIN").min(hi)));
            }
            cursor = s_hi.next();
        }
        if let Some(c) = cursor
            && c <= hi
        {
            out.push((c, hi));
        }
        Ranges { spans: out }
    }

    /// One pass over both lists (no complement built first): each span of `self` less the
    /// spans of `other` that overlap it.
    pub fn subtract(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let mut j = 0;
        for &(lo, hi) in &self.spans {
            // (A span of `other` that ends before this one ends before the next ones too.)
            while j < other.spans.len() && other.spans[j].1 < lo {
                j += 1;
            }
            let mut from = Some(lo);
            for &(b_lo, b_hi) in other.spans[j..].iter().take_while(|&&(b_lo, _)| b_lo <= hi) {
                let Some(f) = from else { break };
                if let Some(end) = b_lo.prev().filter(|&end| end >= f) {
                    out.push((f, end));
                }
                from = b_hi.next();
            }
            if let Some(f) = from.filter(|&f| f <= hi) {
                out.push((f, hi));
            }
        }
        Ranges { spans: out }
    }
}

/// Adds a span that starts at or after the start of every span in `spans`, joining it to the
/// last one when they overlap or touch.
fn push_span<T: Bound>(spans: &mut Vec<(T, T)>, (lo, hi): (T, T)) {
    if let Some(last) = spans.last_mut()
        && last.1.next().is_none_or(|n| lo <= n)
    {
        last.1 = last.1.max(hi);
        return;
    }
    spans.push((lo, hi));
}

impl<T: Bound> fmt::Debug for Ranges<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.spans.iter().map(|(lo, hi)| format!("{lo}-{hi}")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Reference implementation: the explicit set of values (u16 keeps it small enough).
    fn values(r: &Ranges<u16>) -> BTreeSet<u16> {
        r.spans().iter().flat_map(|&(lo, hi)| lo..=hi).collect()
    }

    fn build(spans: &[(u16, u16)]) -> Ranges<u16> {
        spans.iter().fold(Ranges::empty(), |acc, &(a, b)| {
            acc.union(&Ranges::span(a.min(b), a.max(b)))
        })
    }

    fn canonical(r: &Ranges<u16>) -> bool {
        r.spans().iter().all(|(lo, hi)| lo <= hi)
            && r.spans()
                .windows(2)
                .all(|w| w[0].1 as u32 + 1 < w[1].0 as u32)
    }

    fn spans() -> impl Strategy<Value = Vec<(u16, u16)>> {
        // Values near the ends of the domain exercise the overflow edges.
        let bound = prop_oneof![0u16..300, 65_200u16..=65_535, Just(0u16), Just(u16::MAX)];
        prop::collection::vec((bound.clone(), bound), 0..6)
    }

    proptest! {
        #[test]
        fn set_algebra_matches_explicit_sets(a in spans(), b in spans()) {
            let (ra, rb) = (build(&a), build(&b));
            let (va, vb) = (values(&ra), values(&rb));
            let union = ra.union(&rb);
            let inter = ra.intersect(&rb);
            let diff = ra.subtract(&rb);
            prop_assert!(canonical(&union) && canonical(&inter) && canonical(&diff));
            prop_assert_eq!(values(&union), va.union(&vb).copied().collect::<BTreeSet<_>>());
            prop_assert_eq!(values(&inter), va.intersection(&vb).copied().collect::<BTreeSet<_>>());
            prop_assert_eq!(values(&diff), va.difference(&vb).copied().collect::<BTreeSet<_>>());
            for x in [0u16, 1, 150, 299, 65_534, 65_535] {
                prop_assert_eq!(ra.contains(x), va.contains(&x));
            }
            prop_assert_eq!(ra.contains_all(&rb), vb.is_subset(&va));
        }

        #[test]
        fn complement_within_bounds(a in spans(), lo in 0u16..400, len in 0u16..400) {
            let ra = build(&a);
            let hi = lo.saturating_add(len);
            let comp = ra.complement_within(lo, hi);
            prop_assert!(canonical(&comp));
            let expect: BTreeSet<u16> = (lo..=hi).filter(|x| !ra.contains(*x)).collect();
            prop_assert_eq!(values(&comp), expect);
        }
    }

    #[test]
    fn adjacent_spans_merge() {
        let r = Ranges::span(1u16, 5).union(&Ranges::span(6, 9));
        assert_eq!(r.spans(), &[(1, 9)]);
        let r = Ranges::span(0u32, u32::MAX).union(&Ranges::single(7));
        assert_eq!(r.spans(), &[(0, u32::MAX)]);
    }
}
