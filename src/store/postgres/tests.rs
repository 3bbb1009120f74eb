//! The PostgreSQL store's atomic writes raced directly, many at once (through
//! HTTP, requests arrive too far apart to race reliably). They run when
//! `LATCHKEY_TEST_DATABASE_URL` is a PostgreSQL server URL (as in `.ci/test`), on a
//! database of their own, and are skipped with a note otherwise.

#![cfg(test)]

use std::sync::Arc;

use sqlx::Connection as _;

use super::PostgresStore;
use crate::store::LoginFailureStore;

/// A test's failure to set up or to run, as its error (the test fails with it).
type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A fresh database on the test server, and the server URL to drop it from.
async fn fresh_store(name: &str) -> TestResult<Option<(PostgresStore, String, String)>> {
    let server = std::env::var("LATCHKEY_TEST_DATABASE_URL").unwrap_or_default();
    if !server.starts_with("postgres") {
        eprintln!("skipped: LATCHKEY_TEST_DATABASE_URL is not a PostgreSQL server URL");
        return Ok(None);
    }
    let database = format!("latchkey_unit_{name}_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&server).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin)
        .await?;
    let (base, _) = server
        .rsplit_once('/')
        .ok_or("the server URL names no database")?;
    let store = PostgresStore::open(&format!("{base}/{database}"), 20).await?;
    Ok(Some((store, server, database)))
}

async fn drop_database(store: PostgresStore, server: &str, database: &str) -> TestResult {
    store.pool.close().await;
    let mut admin = sqlx::PgConnection::connect(server).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_attempts_each_see_the_ones_before_them() -> TestResult {
    const ATTEMPTS: usize = 60;
    const ALLOWED: u32 = 3;
    let Some((store, server, database)) = fresh_store("throttle").await? else {
        return Ok(());
    };
    // Every connection open before the race: opening one takes longer than a
    // whole attempt, and would space the attempts out.
    let mut warm = Vec::new();
    for _ in 0..20 {
        warm.push(store.pool.acquire().await?);
    }
    drop(warm);
    let store = Arc::new(store);
    let barrier = Arc::new(tokio::sync::Barrier::new(ATTEMPTS));
    let attempts: Vec<_> = (0..ATTEMPTS)
        .map(|n| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                // One shared key (the account), one key each (their addresses):
                // the keys of each attempt are given in different orders.
                let mut keys = vec!["account".to_owned(), format!("address-{n}")];
                if n % 2 == 0 {
                    keys.reverse();
                }
                let block = Box::new(|_: usize, count: crate::store::FailureCount| {
                    (count.failures >= ALLOWED).then_some(60)
                });
                store.count_attempt(keys, 100, 0, block).await
            })
        })
        .collect();
    let mut let_through = 0;
    for attempt in attempts {
        if attempt.await??.is_none() {
            let_through += 1;
        }
    }
    assert_eq!(let_through, ALLOWED, "attempts let through");
    let store = Arc::into_inner(store).ok_or("the store is still shared")?;
    drop_database(store, &server, &database).await
}

/// A table or column added by a migration but unknown to the copy would be lost
/// by `latchkey db copy` (generated columns are the database's own).
#[tokio::test]
async fn the_copy_knows_every_table_and_column_of_the_schema() -> TestResult {
    use crate::store::copy::TABLES;
    let Some((store, server, database)) = fresh_store("copy_schema").await? else {
        return Ok(());
    };
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public'
           AND (is_identity = 'NO' OR identity_generation = 'BY DEFAULT')
         ORDER BY 1, 2",
    )
    .fetch_all(&store.pool)
    .await?;
    let columns: Vec<_> = columns
        .into_iter()
        .filter(|(table, _)| !table.starts_with("_sqlx"))
        .collect();
    let mut known: Vec<(String, String)> = TABLES
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .map(|c| (t.name.to_owned(), c.name.to_owned()))
        })
        .collect();
    known.sort();
    drop_database(store, &server, &database).await?;
    assert_eq!(columns, known);
    Ok(())
}

#[tokio::test]
async fn answers_one_hash_of_each_kind() -> TestResult {
    let Some((store, server, database)) = fresh_store("hash_kinds").await? else {
        return Ok(());
    };
    crate::store::rows::tests::answers_one_hash_of_each_kind(&store).await;
    drop_database(store, &server, &database).await
}
