//! Readiness for systemd (`Type=notify`, sd_notify(3)): when `NOTIFY_SOCKET` is set, the proxy
//! sends `READY=1` once every listener is bound and its workers run, `RELOADING=1` (with
//! `MONOTONIC_USEC`, as systemd 253's `Type=notify-reload` wants it) when a reload starts and
//! `READY=1` when it ends, whatever its result, and `STOPPING=1` when the drain starts. Without
//! `NOTIFY_SOCKET` every call does nothing. The protocol is a datagram of `KEY=VALUE` lines on
//! a Unix socket, a path or (leading `@`) an abstract name.

/// Sends `message` to the service manager, if there is one. A failure is logged once per call,
/// never fatal: the proxy serves whether or not its manager listens.
pub fn notify(message: &str) {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(e) = send(&target, message) {
        super::log::warn(&format!("sd_notify to {}: {e}", target.to_string_lossy()));
    }
}

fn send(target: &std::ffi::OsStr, message: &str) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let bytes = target.as_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name)?
        }
        None if bytes.starts_with(b"/") => SocketAddr::from_pathname(target)?,
        None => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "NOTIFY_SOCKET is neither a path nor an abstract name",
            ));
        }
    };
    let socket = UnixDatagram::unbound()?;
    socket.send_to_addr(message.as_bytes(), &addr)?;
    Ok(())
}

/// `RELOADING=1` with CLOCK_MONOTONIC in microseconds (systemd 253's `Type=notify-reload`
/// requires `MONOTONIC_USEC`; older managers ignore it).
pub fn reloading() {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let usec = (now.tv_sec as u64)
        .saturating_mul(1_000_000)
        .saturating_add(now.tv_nsec as u64 / 1000);
    notify(&format!("RELOADING=1\nMONOTONIC_USEC={usec}\n"));
}
