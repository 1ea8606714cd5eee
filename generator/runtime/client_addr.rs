//! The client's real address behind reverse proxies: [`TrustedProxies`] and the forwarding headers it
//! honours, read by [`super::RequestContext::client_ip`].

use std::net::IpAddr;

/// A block of addresses, `10.0.0.0/8` or `2001:db8::/32` (a bare address is a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the block (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr =
            address.parse().map_err(|_| format!("`{text}` is not an address or a block (`10.0.0.0/8`)"))?;
        let network = network.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("`{text}`: the prefix length must be 0 to {max}")),
            },
        };
        Ok(Self { network, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Which header the trusted proxies write the client's address into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most cloud load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239's `Forwarded: for=client, for=proxy1` (its `for=` parameters).
    Forwarded,
}

/// The reverse proxies whose forwarding header is believed, and which header that is. Empty (the default),
/// no header is believed: the client is the socket's peer.
///
/// From a trusted peer the header's addresses are walked from the right (the hop nearest to this server),
/// skipping trusted proxies; the first address that is not a trusted proxy is the client. What a client
/// writes into the header itself is left of what its proxies append, so it is never reached unless a
/// trusted proxy vouches for it. Only the one configured header counts: a proxy passes on the other one as
/// the client sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    blocks: Vec<Cidr>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Trusts the given blocks.
    pub fn new(blocks: impl IntoIterator<Item = Cidr>) -> Self {
        Self { blocks: blocks.into_iter().collect(), header: ForwardedHeader::default() }
    }

    /// Parses a comma-separated list of blocks: `10.0.0.0/8,192.168.1.7,::1`; an empty text trusts none.
    pub fn parse(text: &str) -> Result<Self, String> {
        let blocks = text.split(',').filter(|b| !b.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
        Ok(Self { blocks, header: ForwardedHeader::default() })
    }

    /// The header the proxies write.
    pub fn with_header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// The trusted blocks.
    pub fn blocks(&self) -> &[Cidr] {
        &self.blocks
    }

    /// The header the proxies write.
    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|b| b.contains(ip))
    }

    /// The client's address for a request from `peer` whose forwarding header values (every instance of the
    /// configured header, in arrival order) are `values`.
    pub fn client_ip<'a>(&self, peer: IpAddr, values: impl IntoIterator<Item = &'a str>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = values.into_iter().flat_map(|v| v.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let hop = match self.header {
                ForwardedHeader::XForwardedFor => Some(hop.trim()),
                ForwardedHeader::Forwarded => forwarded_for(hop),
            };
            // A hop that is not an address (`unknown`, an obfuscated name): the last trusted proxy is as far
            // as anything can be told.
            let Some(ip) = hop.and_then(parse_hop) else { return client };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// The `for=` parameter of one element of a `Forwarded` header.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
    })
}

/// An address as a forwarding header writes it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    hop.parse::<std::net::SocketAddrV4>().ok().map(|s| IpAddr::V4(*s.ip()))
}
