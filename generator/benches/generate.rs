//! Generating spec/auth.yaml, end to end and per stage (load, validate, lower, emit + format).
//!
//! Run: `cargo bench -p authgen --bench generate`.

use std::hint::black_box;

use authgen::Settings;
use criterion::{Criterion, criterion_group, criterion_main};

const SPEC: &str = include_str!("../../spec/auth.yaml");

fn stages(c: &mut Criterion) {
    let settings = Settings::default();
    let loaded = authgen::spec::load_str("spec/auth.yaml", SPEC).expect("loads");
    let (api, _) = authgen::ir::lower::lower_spec(&loaded, &settings).expect("lowers");

    let mut group = c.benchmark_group("auth.yaml");
    group.bench_function("end_to_end", |b| {
        b.iter(|| {
            let loaded = authgen::spec::load_str("spec/auth.yaml", black_box(SPEC)).expect("loads");
            authgen::generate(&loaded, &settings).expect("generates")
        })
    });
    group.bench_function("load", |b| b.iter(|| authgen::spec::load_str("spec/auth.yaml", black_box(SPEC))));
    group.bench_function("validate", |b| b.iter(|| authgen::spec::validate::validate_spec(black_box(&loaded))));
    group.bench_function("lower", |b| b.iter(|| authgen::ir::lower::lower_spec(black_box(&loaded), &settings)));
    group.bench_function("emit_and_format", |b| {
        b.iter(|| authgen::emit::emit_crate(authgen::emit::EmitCtx { api: black_box(&api), settings: &settings }))
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
