//! Connection sets: for each protocol (SCTP, TCP, UDP), the set of ports 1..=65535 allowed.

use std::fmt;

use serde::Serialize;

use super::ranges::Ranges;

pub const MIN_PORT: u16 = 1;
pub const MAX_PORT: u16 = 65_535;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Protocol {
    #[serde(rename = "SCTP")]
    Sctp,
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
}

impl Protocol {
    /// In the order connection strings list them.
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    pub fn parse(text: &str) -> Option<Protocol> {
        match text {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Sctp => "SCTP",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Allowed ports per protocol.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ConnSet {
    ports: [Ranges<u16>; 3],
}

impl ConnSet {
    pub fn none() -> Self {
        ConnSet::default()
    }

    pub fn all() -> Self {
        let all = Ranges::span(MIN_PORT, MAX_PORT);
        ConnSet {
            ports: [all.clone(), all.clone(), all],
        }
    }

    pub fn ports(protocol: Protocol, ports: Ranges<u16>) -> Self {
        let mut set = ConnSet::none();
        set.ports[protocol.index()] = ports.intersect(&Ranges::span(MIN_PORT, MAX_PORT));
        set
    }

    pub fn port(protocol: Protocol, port: u16) -> Self {
        Self::ports(protocol, Ranges::single(port))
    }

    pub fn all_of(protocol: Protocol) -> Self {
        Self::ports(protocol, Ranges::span(MIN_PORT, MAX_PORT))
    }

    pub fn of(&self, protocol: Protocol) -> &Ranges<u16> {
        &self.ports[protocol.index()]
    }

    pub fn is_empty(&self) -> bool {
        self.ports.iter().all(Ranges::is_empty)
    }

    pub fn is_all(&self) -> bool {
        *self == Self::all()
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.of(protocol).contains(port)
    }

    pub fn contains_all(&self, other: &ConnSet) -> bool {
        Protocol::ALL
            .iter()
            .all(|&p| self.of(p).contains_all(other.of(p)))
    }

    pub fn union(&self, other: &ConnSet) -> ConnSet {
        ConnSet {
            ports: std::array::from_fn(|i| self.ports[i].union(&other.ports[i])),
        }
    }

    pub fn union_with(&mut self, other: &ConnSet) {
        for (mine, theirs) in self.ports.iter_mut().zip(&other.ports) {
            mine.union_with(theirs);
        }
    }

    pub fn intersect(&self, other: &ConnSet) -> ConnSet {
        ConnSet {
            ports: std::array::from_fn(|i| self.ports[i].intersect(&other.ports[i])),
        }
    }

    pub fn subtract(&self, other: &ConnSet) -> ConnSet {
        ConnSet {
            ports: std::array::from_fn(|i| self.ports[i].subtract(&other.ports[i])),
        }
    }
}

/// `All Connections`, `No Connections`, or protocols in the order SCTP, TCP, UDP each with its
/// ports and ranges: `SCTP 1-9002,9004-65535,TCP 80,443,UDP 53` (the convention of the
/// conformance data).
impl fmt::Display for ConnSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut first = true;
        for protocol in Protocol::ALL {
            let ranges = self.of(protocol);
            if ranges.is_empty() {
                continue;
            }
            for (i, &(lo, hi)) in ranges.spans().iter().enumerate() {
                if !first {
                    f.write_str(",")?;
                }
                first = false;
                if i == 0 {
                    write!(f, "{} ", protocol.as_str())?;
                }
                if lo == hi {
                    write!(f, "{lo}")?;
                } else {
                    write!(f, "{lo}-{hi}")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ConnSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_follows_the_conformance_convention() {
        assert_eq!(ConnSet::all().to_string(), "All Connections");
        assert_eq!(ConnSet::none().to_string(), "No Connections");
        let conn = ConnSet::port(Protocol::Tcp, 80)
            .union(&ConnSet::port(Protocol::Tcp, 443))
            .union(&ConnSet::port(Protocol::Udp, 53))
            .union(&ConnSet::all_of(Protocol::Sctp).subtract(&ConnSet::port(Protocol::Sctp, 9003)));
        assert_eq!(conn.to_string(), "SCTP 1-9002,9004-65535,TCP 80,443,UDP 53");
    }

    #[test]
    fn port_zero_is_not_a_port() {
        let conn = ConnSet::ports(Protocol::Tcp, Ranges::span(0, 10));
        assert_eq!(conn.to_string(), "TCP 1-10");
    }
}
