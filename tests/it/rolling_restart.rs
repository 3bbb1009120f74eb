//! Restarting one instance at a time (SIGTERM, then start) behind nginx while
//! clients sign up, log in, write and read in a loop: no request fails, and
//! every acknowledged write is there. latchkey's graceful shutdown makes this
//! hold: it refuses new connections at once (nginx retries those elsewhere, a
//! POST too), answers what is in flight with `Connection: close`, and closes an
//! idle kept-alive connection only after nginx has let it go.

use std::time::Duration;

use crate::behind_nginx::Replicas;
use crate::write_stream::{STREAM_ENV, Stream, assert_acknowledged_writes_present};

#[test]
fn a_rolling_restart_loses_no_request_and_no_write() {
    let mut replicas = Replicas::start(&STREAM_ENV);
    replicas.a.keep_address();
    replicas.b.keep_address();
    let stream = Stream::start(&replicas.nginx, 4);
    std::thread::sleep(Duration::from_millis(1500));
    for instance in [&mut replicas.a, &mut replicas.b] {
        instance.stop();
        std::thread::sleep(Duration::from_millis(1000));
        instance.launch();
        // Past nginx's fail_timeout (2 s): the instance is back in the rotation.
        std::thread::sleep(Duration::from_millis(2500));
    }
    let records = stream.finish();
    let failed: Vec<_> = records
        .iter()
        .flat_map(|r| &r.outcomes)
        .filter(|outcome| !matches!(outcome.result, Ok(status) if (200..300).contains(&status)))
        .map(|outcome| format!("{} {}: {:?}", outcome.method, outcome.path, outcome.result))
        .collect();
    let total: usize = records.iter().map(|r| r.outcomes.len()).sum();
    assert!(
        failed.is_empty(),
        "{} of {total} requests failed: {failed:?}",
        failed.len()
    );
    let writes = assert_acknowledged_writes_present(&replicas.a, &records);
    assert!(writes > 20, "too few writes to say anything: {writes}");
    let log = replicas.nginx.access_log();
    for instance in [&replicas.a, &replicas.b] {
        let upstream = format!("upstream={}", instance.addr());
        assert!(log.contains(&upstream), "no request reached {upstream}");
    }
}
