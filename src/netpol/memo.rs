//! Verdicts by class: what a side allows depends only on a few facts about its two workloads, so
//! workloads that share those facts share one computed answer.
//!
//! For one direction, a workload plays two roles. As the *subject* (the side whose policies
//! decide: the destination for ingress, the source for egress) what matters is which policies
//! isolate it and, for ingress, what the named ports of their rules mean on it. As the *peer* (the
//! other side) what matters is which rules admit it and, for egress, what the named ports of those
//! rules mean on it (egress named ports resolve against the destination). Workloads with equal
//! facts form one class; the answer for a (subject class, peer class) pair is computed once, from
//! representatives, and kept in a table. The cost then grows with policies × distinct classes,
//! not with workloads squared.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::conn::ConnSet;

/// An interned connection set: equal sets have equal ids.
pub type ConnId = u32;

/// `ConnSet::all()`: the answer of every side no policy isolates.
pub const ALL: ConnId = 0;
/// `ConnSet::none()`.
pub const NONE: ConnId = 1;
/// A table cell not computed yet.
const UNKNOWN: ConnId = ConnId::MAX;

/// The classes of one direction.
#[derive(Debug, Default)]
pub struct Roles {
    /// Per workload: its subject class.
    pub subject: Vec<u32>,
    /// Per subject class: a member, and whether any policy isolates it.
    pub subject_rep: Vec<(usize, bool)>,
    /// Per workload: its peer class.
    pub peer: Vec<u32>,
    /// Per peer class: a member.
    pub peer_rep: Vec<usize>,
}

impl Roles {
    pub fn with_capacity(workloads: usize) -> Self {
        Roles {
            subject: Vec::with_capacity(workloads),
            peer: Vec::with_capacity(workloads),
            ..Roles::default()
        }
    }
}

/// Numbers distinct keys in order of appearance, remembering one member of each.
#[derive(Default)]
pub struct Classifier {
    ids: HashMap<Vec<u32>, u32>,
}

impl Classifier {
    /// The class of `key`; a new class records `member` in `reps`.
    pub fn class<T>(&mut self, key: Vec<u32>, reps: &mut Vec<T>, member: T) -> u32 {
        let next = reps.len() as u32;
        let id = *self.ids.entry(key).or_insert(next);
        if id == next {
            reps.push(member);
        }
        id
    }
}

/// The interned connection sets and the tables of computed answers.
#[derive(Debug)]
pub struct Memo {
    sets: Vec<Rc<ConnSet>>,
    ids: HashMap<Rc<ConnSet>, ConnId>,
    /// Per direction, per subject class: per peer class, the answer (allocated when first used).
    rows: [Vec<Option<Box<[ConnId]>>>; 2],
    /// Intersections of two answers (egress ∩ ingress).
    between: HashMap<(ConnId, ConnId), ConnId>,
}

impl Memo {
    pub fn new(subject_classes: [usize; 2]) -> RefCell<Memo> {
        let mut memo = Memo {
            sets: Vec::new(),
            ids: HashMap::new(),
            rows: subject_classes.map(|n| vec![None; n]),
            between: HashMap::new(),
        };
        memo.intern(ConnSet::all());
        memo.intern(ConnSet::none());
        RefCell::new(memo)
    }

    pub fn intern(&mut self, set: ConnSet) -> ConnId {
        if let Some(&id) = self.ids.get(&set) {
            return id;
        }
        let id = self.sets.len() as ConnId;
        let set = Rc::new(set);
        self.sets.push(set.clone());
        self.ids.insert(set, id);
        id
    }

    pub fn get(&self, id: ConnId) -> Rc<ConnSet> {
        self.sets[id as usize].clone()
    }

    /// The stored answer for (subject class, peer class) in direction `dir`, if computed.
    pub fn cell(&mut self, dir: usize, subject: u32, peer: u32, peers: usize) -> &mut ConnId {
        let row = self.rows[dir][subject as usize]
            .get_or_insert_with(|| vec![UNKNOWN; peers].into_boxed_slice());
        &mut row[peer as usize]
    }

    pub fn is_known(id: ConnId) -> bool {
        id != UNKNOWN
    }

    /// `a ∩ b`, computed once per pair of ids.
    pub fn intersect(&mut self, a: ConnId, b: ConnId) -> ConnId {
        match (a, b) {
            (ALL, x) | (x, ALL) => x,
            (NONE, _) | (_, NONE) => NONE,
            _ if a == b => a,
            _ => {
                let key = (a.min(b), a.max(b));
                if let Some(&id) = self.between.get(&key) {
                    return id;
                }
                let set = self.sets[a as usize].intersect(&self.sets[b as usize]);
                let id = self.intern(set);
                self.between.insert(key, id);
                id
            }
        }
    }
}
