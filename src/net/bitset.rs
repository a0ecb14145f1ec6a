//! Sets of workload indexes, and who a rule admits.

/// A set of workload indexes below a fixed size, stored as the words between its lowest and its
/// highest member: a rule that admits a few workloads costs a few words, not one bit per
/// workload (a hostile input of 200,000 rules each for another workload would need 5 GB of
/// dense bits). Always trimmed, so equal sets are equal values.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BitSet {
    /// Index of the first stored word.
    start: usize,
    words: Vec<u64>,
    len: usize,
}

impl BitSet {
    pub fn new(len: usize) -> Self {
        BitSet {
            start: 0,
            words: Vec::new(),
            len,
        }
    }

    /// The set of `members`, in any order: its words are allocated once (inserting from the
    /// highest member down would move them at each new word).
    pub fn of(len: usize, members: &[usize]) -> Self {
        let mut set = BitSet::new(len);
        if let (Some(&lo), Some(&hi)) = (members.iter().min(), members.iter().max()) {
            set.cover(lo / 64, hi / 64 + 1);
            for &m in members {
                set.insert(m);
            }
        }
        set
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The stored word at (absolute) index `w`, 0 outside.
    fn word(&self, w: usize) -> u64 {
        w.checked_sub(self.start)
            .and_then(|i| self.words.get(i))
            .copied()
            .unwrap_or(0)
    }

    fn end(&self) -> usize {
        self.start + self.words.len()
    }

    /// Drops zero words at both ends.
    fn trim(&mut self) {
        let Some(last) = self.words.iter().rposition(|w| *w != 0) else {
            self.words.clear();
            self.start = 0;
            return;
        };
        self.words.truncate(last + 1);
        let first = self.words.iter().position(|w| *w != 0).unwrap_or(0);
        if first > 0 {
            self.words.drain(..first);
            self.start += first;
        }
    }

    /// Stores words `from..to` (absolute), keeping what is stored.
    fn cover(&mut self, from: usize, to: usize) {
        if self.words.is_empty() {
            self.start = from;
            self.words.resize(to - from, 0);
            return;
        }
        if from < self.start {
            self.words
                .splice(0..0, std::iter::repeat_n(0, self.start - from));
            self.start = from;
        }
        if to > self.end() {
            self.words.resize(to - self.start, 0);
        }
    }

    pub fn remove(&mut self, i: usize) {
        let last = self.words.len().wrapping_sub(1);
        if let Some(k) = (i / 64).checked_sub(self.start)
            && let Some(w) = self.words.get_mut(k)
        {
            *w &= !(1 << (i % 64));
            // Only an end word that becomes zero leaves the set untrimmed.
            if *w == 0 && (k == 0 || k == last) {
                self.trim();
            }
        }
    }

    pub fn intersect_with(&mut self, other: &BitSet) {
        for (k, a) in self.words.iter_mut().enumerate() {
            *a &= other.word(self.start + k);
        }
        self.trim();
    }

    pub fn subtract(&mut self, other: &BitSet) {
        for (k, a) in self.words.iter_mut().enumerate() {
            *a &= !other.word(self.start + k);
        }
        self.trim();
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn insert(&mut self, i: usize) {
        let w = i / 64;
        // (Most inserts land in a stored word: no call to `cover` then.)
        if w < self.start || w >= self.end() {
            self.cover(w, w + 1);
        }
        self.words[w - self.start] |= 1 << (i % 64);
    }

    pub fn contains(&self, i: usize) -> bool {
        self.word(i / 64) & (1 << (i % 64)) != 0
    }

    pub fn union_with(&mut self, other: &BitSet) {
        if other.words.is_empty() {
            return;
        }
        self.cover(other.start, other.end());
        for (k, b) in other.words.iter().enumerate() {
            self.words[other.start + k - self.start] |= b;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether the two sets share a member (without building their intersection).
    pub fn intersects(&self, other: &BitSet) -> bool {
        self.words
            .iter()
            .enumerate()
            .any(|(k, a)| a & other.word(self.start + k) != 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(k, &w)| {
            let base = (self.start + k) * 64;
            let mut rest = w;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    base + bit
                })
            })
        })
    }
}

/// Who a rule admits, precomputed.
#[derive(Clone, Debug)]
pub struct PeerMatch {
    /// The rule has no `from`/`to`: everyone, workloads and addresses.
    pub everyone: bool,
    pub workloads: BitSet,
    pub ips: crate::net::ip::IpSet,
}

impl PeerMatch {
    pub fn admits(&self, workload: usize) -> bool {
        self.everyone || self.workloads.contains(workload)
    }
}

#[cfg(test)]
mod tests {
    use super::BitSet;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn set(items: &[usize]) -> BitSet {
        let mut s = BitSet::new(1_000);
        for &i in items {
            s.insert(i);
        }
        s
    }

    proptest! {
        /// Every operation agrees with a plain ordered set, and equal sets are equal values
        /// however they were built.
        #[test]
        fn bitset_behaves_as_a_set(
            a in prop::collection::vec(0usize..1_000, 0..40),
            b in prop::collection::vec(0usize..1_000, 0..40),
            gone in 0usize..1_000,
        ) {
            let (sa, sb): (BTreeSet<usize>, BTreeSet<usize>) =
                (a.iter().copied().collect(), b.iter().copied().collect());
            let check = |bits: &BitSet, expected: &BTreeSet<usize>| {
                prop_assert_eq!(bits.iter().collect::<Vec<_>>(), expected.iter().copied().collect::<Vec<_>>());
                prop_assert_eq!(bits.count(), expected.len());
                prop_assert_eq!(bits.is_empty(), expected.is_empty());
                for i in [0, 63, 64, 500, 999] {
                    prop_assert_eq!(bits.contains(i), expected.contains(&i));
                }
                let mut sorted: Vec<usize> = expected.iter().copied().collect();
                sorted.reverse();
                prop_assert_eq!(bits, &set(&sorted));
                prop_assert_eq!(bits, &BitSet::of(1_000, &sorted));
                Ok(())
            };
            let mut union = set(&a);
            union.union_with(&set(&b));
            check(&union, &sa.union(&sb).copied().collect())?;
            let mut both = set(&a);
            both.intersect_with(&set(&b));
            check(&both, &sa.intersection(&sb).copied().collect())?;
            let mut minus = set(&a);
            minus.subtract(&set(&b));
            check(&minus, &sa.difference(&sb).copied().collect())?;
            let mut removed = set(&a);
            removed.remove(gone);
            let mut expected = sa.clone();
            expected.remove(&gone);
            check(&removed, &expected)?;
            check(&BitSet::of(1_000, &a), &sa)?;
        }
    }
}
