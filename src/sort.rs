//! Sorting that costs the page little code. std's sorts (driftsort, ipnsort) are fast, but each
//! element type and comparator instantiates about 3 KB of wasm, and the page held 32 of them
//! (98 KB raw, BENCHMARKS.md "Size"). In wasm32 one stable merge sort of positions, compiled
//! once, does the comparing, and a call instantiates only its comparator and the final
//! permutation. Natively std's sorts are kept: the CLI sorts the L cluster's findings and
//! fixes, and code size does not matter there.
//!
//! Every function is stable (equal elements keep their order), in both builds.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// Sorts `v` by `compare`, stably.
pub fn sort_by<T>(v: &mut [T], compare: impl FnMut(&T, &T) -> Ordering) {
    #[cfg(not(target_arch = "wasm32"))]
    v.sort_by(compare);
    #[cfg(target_arch = "wasm32")]
    {
        let mut compare = compare;
        let items: &[T] = v;
        let order = order(items.len(), &mut |a, b| {
            compare(&items[a], &items[b]) == Ordering::Greater
        });
        permute(v, order);
    }
}

/// Sorts `v` by the key `key` gives, stably.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` in its own order, stably.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// A set of `items`, built by inserting each. `collect` (and `From<[T; N]>`) sorts its input with
/// std's sort first: in wasm a sort instantiated per element type, about 3.5 KB each. Equal
/// elements are equal in every way here, so which one is kept does not matter.
pub fn set<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeSet<T> {
    let mut set = BTreeSet::new();
    set.extend(items);
    set
}

/// A map of `items`, built by inserting each, the last value of a key winning as with `collect`,
/// which sorts its input with std's sort first: in wasm a sort instantiated per entry type and
/// per iterator type (the comparator is a closure of `from_iter`), about 3.5 KB each.
pub fn map<K: Ord, V>(items: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, V> {
    let mut map = BTreeMap::new();
    map.extend(items);
    map
}

/// The positions of `n` elements in sorted order: a bottom-up merge sort that takes from the
/// right run only when its head is strictly smaller (`greater(left, right)`), so it is stable.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn order(n: usize, greater: &mut dyn FnMut(usize, usize) -> bool) -> Vec<usize> {
    let mut from: Vec<usize> = (0..n).collect();
    let mut to = vec![0; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            for slot in &mut to[start..end] {
                let right = j < end && (i == mid || greater(from[i], from[j]));
                *slot = if right { from[j] } else { from[i] };
                if right {
                    j += 1;
                } else {
                    i += 1;
                }
            }
            start = end;
        }
        std::mem::swap(&mut from, &mut to);
        width *= 2;
    }
    from
}

/// Puts `v[order[i]]` at `i` for every `i`, following each cycle of the permutation with swaps.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn permute<T>(v: &mut [T], mut order: Vec<usize>) {
    for start in 0..v.len() {
        let mut at = start;
        while order[at] != start {
            let next = order[at];
            v.swap(at, next);
            order[at] = at;
            at = next;
        }
        order[at] = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The wasm32 path, run natively: positions, then the permutation.
    fn merge_sorted(mut v: Vec<(u8, usize)>) -> Vec<(u8, usize)> {
        let o = {
            let items = &v;
            order(items.len(), &mut |a, b| items[a].0 > items[b].0)
        };
        permute(&mut v, o);
        v
    }

    proptest! {
        /// Equal keys keep their input order (the second field numbers them), as std's stable
        /// sort does, for any length, including the ones that are not powers of two.
        #[test]
        fn the_merge_sort_is_std_stable_sort(keys in prop::collection::vec(0u8..8, 0..200)) {
            let v: Vec<(u8, usize)> = keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect();
            let mut expected = v.clone();
            expected.sort_by_key(|e| e.0);
            prop_assert_eq!(merge_sorted(v), expected);
        }

        /// `set` and `map` build what `collect` does, duplicates included (a map keeps a key's
        /// last value).
        #[test]
        fn set_and_map_are_collect(entries in prop::collection::vec((0u8..16, 0u8..4), 0..40)) {
            prop_assert_eq!(set(entries.iter().map(|e| e.0)), entries.iter().map(|e| e.0).collect::<BTreeSet<_>>());
            prop_assert_eq!(map(entries.iter().copied()), entries.iter().copied().collect::<BTreeMap<_, _>>());
        }
    }
}
