//! Any text, as YAML or JSON, through load -> validate -> lower -> emit: errors are fine, panics are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(spec) = authgen::spec::load_str("fuzz.yaml", text) {
        let _ = authgen::generate(&spec, &authgen::Settings::default());
    }
});
