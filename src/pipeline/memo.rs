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
//!
//! A class's key is made of two parts, what NetworkPolicy reads and what the cluster-wide
//! policies read, and each part is classified on its own too: with cluster-wide policies the
//! classes multiply (every combination of the two parts that occurs), while the answer is a
//! cheap composition ([`Layered`]) of the answers of the parts, each computed once per pair of
//! part classes.

use foldhash::{HashMap, HashMapExt};
use std::cell::RefCell;
use std::rc::Rc;

use crate::net::conn::ConnSet;

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
    /// Per subject class: its NetworkPolicy class (`None`: no NetworkPolicy isolates it) and
    /// its cluster-wide class (`None`: no cluster-wide policy has rules for it).
    pub subject_parts: Vec<(Option<u32>, Option<u32>)>,
    /// Per peer class: its NetworkPolicy class and its cluster-wide class.
    pub peer_parts: Vec<(u32, u32)>,
    /// How many (subject, peer) classes each part has: NetworkPolicy, then cluster-wide.
    pub parts: [(usize, usize); 2],
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

/// What the cluster-wide tiers decide for one (subject, peer) pair of cluster-wide classes, as
/// interned sets: the side's answer once NetworkPolicy's is known.
#[derive(Clone, Copy, Debug)]
pub struct Layered {
    /// What the Admin tier accepts.
    pub accepted: ConnId,
    /// What the Admin tier leaves to NetworkPolicy (passed on, or matched by no rule).
    pub open: ConnId,
    /// The answer when no NetworkPolicy isolates the side (the Baseline tier decides the rest).
    pub alone: ConnId,
}

/// Answers per (subject class, peer class), rows allocated when first used.
#[derive(Debug)]
struct Table<T> {
    rows: Vec<Option<Box<[Option<T>]>>>,
    peers: usize,
}

impl<T: Copy> Table<T> {
    fn new((subjects, peers): (usize, usize)) -> Self {
        Table {
            rows: vec![None; subjects],
            peers,
        }
    }

    fn cell(&mut self, subject: u32, peer: u32) -> &mut Option<T> {
        let peers = self.peers;
        let row =
            self.rows[subject as usize].get_or_insert_with(|| vec![None; peers].into_boxed_slice());
        &mut row[peer as usize]
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
    /// Per direction, the answers of the parts: NetworkPolicy's, the cluster-wide tiers'.
    network_policy: [Table<ConnId>; 2],
    layers: [Table<Layered>; 2],
    /// Intersections of two answers (egress ∩ ingress, or NetworkPolicy ∩ what a tier left).
    between: HashMap<(ConnId, ConnId), ConnId>,
    /// Unions of two answers.
    unions: HashMap<(ConnId, ConnId), ConnId>,
}

impl Memo {
    /// Tables for the classes of both directions (`Roles` in the order ingress, egress).
    pub fn new(roles: [&Roles; 2]) -> RefCell<Memo> {
        let mut memo = Memo {
            sets: Vec::new(),
            ids: HashMap::new(),
            rows: roles.map(|r| vec![None; r.subject_rep.len()]),
            network_policy: roles.map(|r| Table::new(r.parts[0])),
            layers: roles.map(|r| Table::new(r.parts[1])),
            between: HashMap::new(),
            unions: HashMap::new(),
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

    /// NetworkPolicy's stored answer for (subject, peer) NetworkPolicy classes, if computed.
    pub fn network_policy(&mut self, dir: usize, subject: u32, peer: u32) -> &mut Option<ConnId> {
        self.network_policy[dir].cell(subject, peer)
    }

    /// The tiers' stored answer for (subject, peer) cluster-wide classes, if computed.
    pub fn layers(&mut self, dir: usize, subject: u32, peer: u32) -> &mut Option<Layered> {
        self.layers[dir].cell(subject, peer)
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

    /// `a ∪ b`, computed once per pair of ids.
    pub fn union(&mut self, a: ConnId, b: ConnId) -> ConnId {
        match (a, b) {
            (NONE, x) | (x, NONE) => x,
            (ALL, _) | (_, ALL) => ALL,
            _ if a == b => a,
            _ => {
                let key = (a.min(b), a.max(b));
                if let Some(&id) = self.unions.get(&key) {
                    return id;
                }
                let set = self.sets[a as usize].union(&self.sets[b as usize]);
                let id = self.intern(set);
                self.unions.insert(key, id);
                id
            }
        }
    }
}
