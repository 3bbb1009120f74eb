//! Copying into and out of PostgreSQL: the reader is one `REPEATABLE READ`
//! snapshot, the writer one transaction that also moves the generated user ids
//! past the copied ones.

use async_trait::async_trait;

use sqlx::{Postgres, Transaction};

use super::PostgresStore;
use crate::store::StoreError;
use crate::store::copy::{Cell, CopyStore, Row, Table, TableReader, TableWriter, bind, decode};

fn placeholder(i: usize) -> String {
    format!("${i}")
}

struct PostgresTables {
    tx: Transaction<'static, Postgres>,
}

#[async_trait]
impl CopyStore for PostgresStore {
    async fn table_reader(&self) -> Result<Box<dyn TableReader>, StoreError> {
        Ok(Box::new(PostgresTables {
            tx: self
                .pool
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?,
        }))
    }

    async fn table_writer(&self) -> Result<Box<dyn TableWriter>, StoreError> {
        Ok(Box::new(PostgresTables {
            tx: self.pool.begin().await?,
        }))
    }
}

async fn count(tx: &mut Transaction<'static, Postgres>, table: &Table) -> Result<u64, StoreError> {
    let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", table.name))
        .fetch_one(&mut **tx)
        .await?;
    Ok(rows.unsigned_abs())
}

#[async_trait]
impl TableReader for PostgresTables {
    async fn count(&mut self, table: &'static Table) -> Result<u64, StoreError> {
        count(&mut self.tx, table).await
    }

    async fn page(
        &mut self,
        table: &'static Table,
        after: Option<&[Cell]>,
        limit: u32,
    ) -> Result<Vec<Row>, StoreError> {
        let sql = table.page_query(after.is_some(), placeholder);
        let mut query = sqlx::query(&sql);
        for (cell, column) in after.unwrap_or_default().iter().zip(table.columns) {
            query = bind(query, column.kind, cell.clone());
        }
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(|row| decode(table, row)).collect()
    }
}

#[async_trait]
impl TableWriter for PostgresTables {
    async fn count(&mut self, table: &'static Table) -> Result<u64, StoreError> {
        count(&mut self.tx, table).await
    }

    async fn insert(&mut self, table: &'static Table, rows: &[Row]) -> Result<(), StoreError> {
        let sql = table.insert_query(placeholder);
        for row in rows {
            let mut query = sqlx::query(&sql);
            for (cell, column) in row.iter().zip(table.columns) {
                query = bind(query, column.kind, cell.clone());
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        // Users were inserted with their ids: the next generated one comes after.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE(MAX(id), 0) + 1, false)
             FROM users",
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(self.tx.commit().await?)
    }
}
