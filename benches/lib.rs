//! Criterion benches over crypto-core's backends live in `benches/`; this library is empty on
//! purpose (a package needs one target besides its benches).
