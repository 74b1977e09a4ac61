mod common;

use common::TestServer;

#[test]
fn healthz_answers_ok() {
    let s = TestServer::start();
    let r = s.call("GET", "/healthz", &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ok"], true);
}
