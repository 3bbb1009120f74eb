//! kill -9 of one instance while clients sign up and add items through nginx:
//! after a restart every acknowledged write is there and the database is
//! consistent. Runs on whatever database the harness gives.

use std::time::Duration;

use reqwest::StatusCode;

use crate::behind_nginx::Replicas;
use crate::write_stream::{STREAM_ENV, Stream, assert_acknowledged_writes_present};

#[test]
fn acknowledged_writes_survive_a_killed_instance() {
    let mut replicas = Replicas::start(&STREAM_ENV);
    replicas.a.keep_address();
    let stream = Stream::start(&replicas.nginx, 4);
    std::thread::sleep(Duration::from_millis(1500));
    replicas.a.crash();
    std::thread::sleep(Duration::from_millis(1000));
    replicas.a.launch();
    std::thread::sleep(Duration::from_millis(1500));
    let records = stream.finish();
    let writes = assert_acknowledged_writes_present(&replicas.a, &records);
    assert!(writes > 20, "too few writes to say anything: {writes}");
    // The restarted instance serves what was written while it was down.
    for (username, _) in records.iter().flat_map(|r| &r.acknowledged).take(3) {
        let status = replicas
            .a
            .login_status(username, "a rather long passphrase 42");
        assert_eq!(status, StatusCode::OK, "{username}");
    }
}
