//! The vocabulary every policy family shares: connection sets (protocols and port ranges),
//! address sets, rule directions and port references. It depends on nothing else in the crate.

pub mod bitset;
pub mod conn;
pub mod ip;
pub mod ranges;

use conn::Protocol;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(name) => f.write_str(name),
        }
    }
}

/// A rule's port entry: a protocol and a port, a named port, or a range (`endPort`).
#[derive(Clone, Debug)]
pub struct PortSpec {
    pub protocol: Protocol,
    /// `None`: every port of the protocol.
    pub port: Option<PortRef>,
    pub end_port: Option<u16>,
    pub line: u32,
}
