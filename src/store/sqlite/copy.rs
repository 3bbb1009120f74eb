//! Copying into and out of SQLite: a read transaction is one snapshot (WAL mode
//! lets the server write meanwhile), and the writer holds the write lock until it
//! commits.

use async_trait::async_trait;

use sqlx::{Sqlite, Transaction};

use super::{SqliteStore, write_transaction};
use crate::store::StoreError;
use crate::store::copy::{Cell, CopyStore, Row, Table, TableReader, TableWriter, bind, decode};

fn placeholder(_: usize) -> String {
    "?".to_owned()
}

struct SqliteTables {
    tx: Transaction<'static, Sqlite>,
}

#[async_trait]
impl CopyStore for SqliteStore {
    async fn table_reader(&self) -> Result<Box<dyn TableReader>, StoreError> {
        Ok(Box::new(SqliteTables {
            tx: self.pool.begin().await?,
        }))
    }

    async fn table_writer(&self) -> Result<Box<dyn TableWriter>, StoreError> {
        Ok(Box::new(SqliteTables {
            tx: write_transaction(&self.pool).await?,
        }))
    }
}

async fn count(tx: &mut Transaction<'static, Sqlite>, table: &Table) -> Result<u64, StoreError> {
    let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", table.name))
        .fetch_one(&mut **tx)
        .await?;
    Ok(rows.unsigned_abs())
}

#[async_trait]
impl TableReader for SqliteTables {
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
        let rows = query.bind(limit).fetch_all(&mut *self.tx).await?;
        rows.iter().map(|row| decode(table, row)).collect()
    }
}

#[async_trait]
impl TableWriter for SqliteTables {
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

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::copy::TABLES;

    /// A table or column added by a migration but unknown to the copy would be
    /// lost by `latchkey db copy`.
    #[tokio::test]
    async fn the_copy_knows_every_table_and_column_of_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_file(&dir.path().join("latchkey.db"))
            .await
            .unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let mut known: Vec<_> = TABLES.iter().map(|t| t.name.to_owned()).collect();
        known.sort();
        assert_eq!(tables, known);
        for table in TABLES {
            let mut columns: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT name FROM pragma_table_info('{}')",
                table.name
            ))
            .fetch_all(&store.pool)
            .await
            .unwrap();
            columns.sort();
            let mut known: Vec<_> = table.columns.iter().map(|c| c.name.to_owned()).collect();
            known.sort();
            assert_eq!(columns, known, "{}", table.name);
            let key: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT name FROM pragma_table_info('{}') WHERE pk > 0 ORDER BY pk",
                table.name
            ))
            .fetch_all(&store.pool)
            .await
            .unwrap();
            let known_key: Vec<_> = table.columns[..table.key_len]
                .iter()
                .map(|c| c.name.to_owned())
                .collect();
            assert_eq!(key, known_key, "{}", table.name);
        }
    }
}
