#[test]
fn scratch() {
    let cases = [
        ("nan", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: string\n      maxLength: .nan\n"),
        ("inf", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: string\n      maxLength: .inf\n"),
        ("dup", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: string\n      type: string\n"),
        ("jsondup", "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": {}, \"components\": {\"schemas\": {\"A\": {\"type\": \"string\", \"type\": \"string\"}}}}"),
    ];
    for (n, t) in cases {
        let r = std::panic::catch_unwind(|| authgen::spec::load_str(n, t).map(|_| ()).map_err(|d| d.render_plain()));
        eprintln!("{n}: {r:?}");
    }
}
