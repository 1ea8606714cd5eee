//! `--open-enums`: every enum gets an `Other` variant, so values added to the spec later parse instead of
//! failing, and are written back unchanged.

use open_api::ops::record;
use open_api::types::{Code, Event, Level};

struct Echo;

impl open_api::OpenEnumsApi for Echo {
    async fn record(&self, request: record::Request) -> record::Response {
        let mut event = request.body;
        if let Some(level) = request.level {
            event.level = level;
        }
        record::Response::Ok(event)
    }
}

#[test]
fn unknown_values_are_kept() {
    let e: Event = serde_json::from_str(r#"{"level":"debug","code":300}"#).unwrap();
    assert_eq!(e, Event { level: Level::Other("debug".into()), code: Code::Other(300) });
    assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"level":"debug","code":300}"#);
    let e: Event = serde_json::from_str(r#"{"level":"warn","code":200}"#).unwrap();
    assert_eq!(e, Event { level: Level::Warn, code: Code::V200 });
    assert_eq!("trace".parse::<Level>().unwrap(), Level::Other("trace".into()));
    assert_eq!(Level::Other("trace".into()).to_string(), "trace");
}

#[tokio::test]
async fn unknown_values_cross_the_wire_in_bodies_and_parameters() {
    let client = open_api::client::Client::in_process(open_api::server::axum::router(Echo));
    let mut req = record::Request::new(Event { level: Level::Info, code: Code::Other(418) });
    req.level = Some(Level::Other("fatal".into()));
    let resp = client.record(req).await.unwrap();
    assert_eq!(resp, record::Response::Ok(Event { level: Level::Other("fatal".into()), code: Code::Other(418) }));
}
