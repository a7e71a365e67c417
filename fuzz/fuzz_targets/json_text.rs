#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opper::__fuzz::json_text(data));
