//! Generating a spec end to end and per stage (load, validate, lower, emit + format): spec/auth.yaml, and
//! twilio-api-v2010.json from the conformance corpus (1.9 MB, 197 operations) for scale.
//!
//! Run: `cargo bench -p authgen --bench generate` (both), or add `-- twilio` for the large spec alone.

use std::hint::black_box;
use std::time::Duration;

use authgen::{Framework, Settings};
use criterion::{Criterion, criterion_group, criterion_main};

const AUTH: &str = include_str!("../../spec/auth.yaml");
const TWILIO: &str = include_str!("../../tests/corpus/twilio-api-v2010.json");

fn stages(c: &mut Criterion, group_name: &str, name: &str, text: &str, settings: &Settings, large: bool) {
    let loaded = authgen::spec::load_str(name, text).expect("loads");
    let (api, _) = authgen::ir::lower::lower_spec(&loaded, settings).expect("lowers");

    let mut group = c.benchmark_group(group_name);
    if large {
        // Each iteration takes a good part of a second: fewer samples keep the run to about a minute.
        group.sample_size(10).measurement_time(Duration::from_secs(8));
    }
    group.bench_function("end_to_end", |b| {
        b.iter(|| {
            let loaded = authgen::spec::load_str(name, black_box(text)).expect("loads");
            authgen::generate(&loaded, settings).expect("generates")
        })
    });
    group.bench_function("load", |b| b.iter(|| authgen::spec::load_str(name, black_box(text))));
    group.bench_function("validate", |b| b.iter(|| authgen::spec::validate::validate_spec(black_box(&loaded))));
    group.bench_function("lower", |b| b.iter(|| authgen::ir::lower::lower_spec(black_box(&loaded), settings)));
    group.bench_function("emit_and_format", |b| {
        b.iter(|| authgen::emit::emit_crate(authgen::emit::EmitCtx { api: black_box(&api), settings }))
    });
    group.finish();
}

fn auth(c: &mut Criterion) {
    stages(c, "auth.yaml", "spec/auth.yaml", AUTH, &Settings::default(), false);
}

fn twilio(c: &mut Criterion) {
    let mut settings = Settings::default();
    settings.with_frameworks([Framework::Axum, Framework::ActixWeb]).with_crate_name("twilio-api");
    stages(c, "twilio-api-v2010.json", "tests/corpus/twilio-api-v2010.json", TWILIO, &settings, true);
}

criterion_group!(benches, auth, twilio);
criterion_main!(benches);
