//! IP address sets (IPv4 and IPv6) for `ipBlock` peers: `cidr` minus each `except`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ranges::Ranges;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct IpSet {
    pub v4: Ranges<u32>,
    pub v6: Ranges<u128>,
}

/// A parsed CIDR: its address range and whether host bits were set (`10.0.0.1/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` or `x::y/n`, with the message Kubernetes-style validation would give.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not a CIDR: write an address and a prefix length, e.g. `10.0.0.0/8` or `fd00::/8`"))?;
        let addr: IpAddr = addr.parse().map_err(|_| {
            format!("`{text}` is not a CIDR: `{addr}` is not an IPv4 or IPv6 address")
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= max).ok_or_else(|| {
            format!("`{text}` is not a CIDR: the prefix length must be 0 to {max}")
        })?;
        Ok(Cidr { addr, prefix })
    }

    pub fn set(&self) -> IpSet {
        match self.addr {
            IpAddr::V4(a) => {
                let host_bits = 32 - u32::from(self.prefix);
                let mask = if host_bits == 32 {
                    0
                } else {
                    u32::MAX << host_bits
                };
                let lo = u32::from(a) & mask;
                IpSet {
                    v4: Ranges::span(lo, lo | !mask),
                    v6: Ranges::empty(),
                }
            }
            IpAddr::V6(a) => {
                let host_bits = 128 - u32::from(self.prefix);
                let mask = if host_bits == 128 {
                    0
                } else {
                    u128::MAX << host_bits
                };
                let lo = u128::from(a) & mask;
                IpSet {
                    v4: Ranges::empty(),
                    v6: Ranges::span(lo, lo | !mask),
                }
            }
        }
    }
}

impl IpSet {
    pub fn address(addr: IpAddr) -> IpSet {
        match addr {
            IpAddr::V4(a) => IpSet {
                v4: Ranges::single(u32::from(a)),
                v6: Ranges::empty(),
            },
            IpAddr::V6(a) => IpSet {
                v4: Ranges::empty(),
                v6: Ranges::single(u128::from(a)),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.v4.contains(u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }

    pub fn contains_all(&self, other: &IpSet) -> bool {
        self.v4.contains_all(&other.v4) && self.v6.contains_all(&other.v6)
    }

    pub fn union(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: self.v4.union(&other.v4),
            v6: self.v6.union(&other.v6),
        }
    }

    pub fn subtract(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: self.v4.subtract(&other.v4),
            v6: self.v6.subtract(&other.v6),
        }
    }

    pub fn intersect(&self, other: &IpSet) -> IpSet {
        IpSet {
            v4: self.v4.intersect(&other.v4),
            v6: self.v6.intersect(&other.v6),
        }
    }
}

/// `10.0.0.0-10.255.255.255`, the way the conformance data names IP ranges.
pub fn v4_range(lo: u32, hi: u32) -> String {
    format!("{}-{}", Ipv4Addr::from(lo), Ipv4Addr::from(hi))
}

pub fn v6_range(lo: u128, hi: u128) -> String {
    format!("{}-{}", Ipv6Addr::from(lo), Ipv6Addr::from(hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cidr_minus_except() {
        let all = Cidr::parse("0.0.0.0/0").unwrap().set();
        let except = Cidr::parse("169.254.0.0/16").unwrap().set();
        let set = all.subtract(&except);
        assert!(!set.contains("169.254.7.127".parse().unwrap()));
        assert!(set.contains("10.1.2.3".parse().unwrap()));
        assert_eq!(set.v4.spans().len(), 2);
        let v6 = Cidr::parse("fd16:9254:7127:1337::/64").unwrap().set();
        assert!(v6.contains("fd16:9254:7127:1337:ffff:ffff:ffff:ffff".parse().unwrap()));
        assert!(!v6.contains("169.254.7.127".parse().unwrap()));
    }

    #[test]
    fn host_bits_are_masked() {
        let set = Cidr::parse("10.1.2.3/8").unwrap().set();
        assert_eq!(set.v4.spans(), &[(0x0a00_0000, 0x0aff_ffff)]);
        assert_eq!(
            Cidr::parse("1.2.3.4/32").unwrap().set().v4.spans(),
            &[(0x0102_0304, 0x0102_0304)]
        );
    }

    #[test]
    fn bad_cidrs_say_what_is_wrong() {
        assert!(
            Cidr::parse("10.0.0.0")
                .unwrap_err()
                .contains("prefix length")
        );
        assert!(
            Cidr::parse("10.0.0.300/8")
                .unwrap_err()
                .contains("not an IPv4 or IPv6")
        );
        assert!(Cidr::parse("10.0.0.0/33").unwrap_err().contains("0 to 32"));
        assert!(Cidr::parse("::/129").unwrap_err().contains("0 to 128"));
    }

    /// Reference: an address is in `cidr - except` when its top `prefix` bits equal the CIDR's
    /// and it is in no except.
    fn in_cidr_v4(addr: u32, net: u32, prefix: u8) -> bool {
        prefix == 0 || (addr ^ net) >> (32 - u32::from(prefix)) == 0
    }

    fn in_cidr_v6(addr: u128, net: u128, prefix: u8) -> bool {
        prefix == 0 || (addr ^ net) >> (128 - u32::from(prefix)) == 0
    }

    proptest! {
        #[test]
        fn v4_cidr_minus_excepts(net: u32, prefix in 0u8..=32,
                                 excepts in prop::collection::vec((any::<u32>(), 0u8..=32), 0..4),
                                 probes in prop::collection::vec(any::<u32>(), 8)) {
            let text = |n: u32, p: u8| format!("{}/{p}", Ipv4Addr::from(n));
            let mut set = Cidr::parse(&text(net, prefix)).unwrap().set();
            for &(e, p) in &excepts {
                set = set.subtract(&Cidr::parse(&text(e, p)).unwrap().set());
            }
            // Probe random addresses and the edges of every block.
            let mut addrs = probes;
            for &(e, p) in excepts.iter().chain([(net, prefix)].iter()) {
                let r = Cidr::parse(&text(e, p)).unwrap().set();
                let (lo, hi) = r.v4.spans()[0];
                addrs.extend([lo, hi, lo.wrapping_sub(1), hi.wrapping_add(1)]);
            }
            for a in addrs {
                let expected = in_cidr_v4(a, net, prefix) && !excepts.iter().any(|&(e, p)| in_cidr_v4(a, e, p));
                prop_assert_eq!(set.contains(IpAddr::V4(Ipv4Addr::from(a))), expected, "{}", Ipv4Addr::from(a));
            }
        }

        #[test]
        fn v6_cidr_minus_excepts(net: u128, prefix in 0u8..=128,
                                 excepts in prop::collection::vec((any::<u128>(), 0u8..=128), 0..4),
                                 probes in prop::collection::vec(any::<u128>(), 8)) {
            let text = |n: u128, p: u8| format!("{}/{p}", Ipv6Addr::from(n));
            let mut set = Cidr::parse(&text(net, prefix)).unwrap().set();
            for &(e, p) in &excepts {
                set = set.subtract(&Cidr::parse(&text(e, p)).unwrap().set());
            }
            let mut addrs = probes;
            for &(e, p) in excepts.iter().chain([(net, prefix)].iter()) {
                let (lo, hi) = Cidr::parse(&text(e, p)).unwrap().set().v6.spans()[0];
                addrs.extend([lo, hi, lo.wrapping_sub(1), hi.wrapping_add(1)]);
            }
            for a in addrs {
                let expected = in_cidr_v6(a, net, prefix) && !excepts.iter().any(|&(e, p)| in_cidr_v6(a, e, p));
                prop_assert_eq!(set.contains(IpAddr::V6(Ipv6Addr::from(a))), expected);
            }
        }
    }
}
