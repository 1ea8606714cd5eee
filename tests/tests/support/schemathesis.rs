//! The schemathesis command and its report, for the contract tests of both test crates (`server/tests` includes
//! this file by path).

#![allow(dead_code, reason = "each test binary uses a different part of the support module")]
#![allow(unreachable_pub, reason = "test support module shared by several test crates")]

use std::process::Command;

/// The `st` command (`AUTHGEN_SCHEMATHESIS` or `st`), or `None` (after saying why) when schemathesis is not
/// installed outside CI; under CI (`CI` set) a missing schemathesis fails the test.
pub fn command() -> Option<String> {
    let st = std::env::var("AUTHGEN_SCHEMATHESIS").unwrap_or_else(|_| "st".to_owned());
    match Command::new(&st).arg("--version").output() {
        Ok(out) if out.status.success() => Some(st),
        _ if std::env::var_os("CI").is_some() => {
            panic!("schemathesis (`{st}`) is required under CI: pip install schemathesis")
        }
        _ => {
            eprintln!(
                "SKIPPED: schemathesis (`{st}`) is not installed; `pip install schemathesis` to run the contract test"
            );
            None
        }
    }
}

/// The number of generated cases a run's summary reports (`N generated, ...`); panics without one.
pub fn cases(report: &str) -> u64 {
    report
        .lines()
        .find_map(|l| l.trim().split_once(" generated").and_then(|(n, _)| n.parse().ok()))
        .unwrap_or_else(|| panic!("no case count in the report:\n{report}"))
}
