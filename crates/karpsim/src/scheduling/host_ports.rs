//! Host-port conflicts (`pkg/scheduling/hostportusage.go`; design §3.10).

use crate::model::HostPort;

fn unspecified(ip: &str) -> bool {
    ip.is_empty() || ip == "0.0.0.0" || ip == "::"
}

/// Same protocol and port, and equal IPs or either unspecified.
pub fn conflict(a: &HostPort, b: &HostPort) -> bool {
    a.port == b.port && a.protocol == b.protocol && (a.ip == b.ip || unspecified(&a.ip) || unspecified(&b.ip))
}

/// The first of `wanted` that conflicts with one of `used`.
pub fn first_conflict<'a>(wanted: &'a [HostPort], used: &[HostPort]) -> Option<&'a HostPort> {
    wanted.iter().find(|w| used.iter().any(|u| conflict(w, u)))
}
