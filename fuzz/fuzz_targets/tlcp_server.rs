#![no_main]
//! See `fuzz_logic::tlcp_server` (fuzz-logic/src/lib.rs): the body lives there so its corpus replays as a test.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_logic::tlcp_server(data));
