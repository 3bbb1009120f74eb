//! Moving a whole deployment from one database to another (`latchkey db copy`):
//! every table, row for row, so no user, hash, session, key or throttle count is
//! lost, and the tokens issued before the move still work after it.
//!
//! The tables are described once, here; each database reads them in one consistent
//! snapshot ([`TableReader`]) and writes them in one transaction ([`TableWriter`]),
//! so a copy is all or nothing. Rows travel in pages ordered by primary key, so
//! memory stays flat however large the deployment.

use async_trait::async_trait;

use super::{Store, StoreError};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
}

/// One column of a copied table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

/// A table as the copy sees it: its columns, and the primary key it is paged by.
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The primary key's columns, a prefix of `columns`.
    pub key_len: usize,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

/// A row: one cell per column of its table, in order.
pub(crate) type Row = Vec<Cell>;

const fn column(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

/// Every table latchkey keeps, parents before the tables that refer to them.
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            column("id", Kind::Int),
            column("username", Kind::Text),
            column("email", Kind::Text),
            column("full_name", Kind::Text),
            column("disabled", Kind::Bool),
            column("password_hash", Kind::Text),
            column("scopes", Kind::Text),
            column("created_at", Kind::Int),
            column("updated_at", Kind::Int),
            column("credentials_version", Kind::Int),
        ],
        key_len: 1,
    },
    Table {
        name: "items",
        columns: &[
            column("owner_id", Kind::Int),
            column("item_id", Kind::Text),
            column("description", Kind::Text),
            column("created_at", Kind::Int),
        ],
        key_len: 2,
    },
    Table {
        name: "sessions",
        columns: &[
            column("id", Kind::Text),
            column("user_id", Kind::Int),
            column("scopes", Kind::Text),
            column("created_at", Kind::Int),
            column("expires_at", Kind::Int),
            column("revoked_at", Kind::Int),
            column("revoked_reason", Kind::Text),
            column("refresh_family", Kind::Text),
            column("refresh_hash", Kind::Text),
            column("refresh_expires_at", Kind::Int),
            column("binding_hash", Kind::Text),
        ],
        key_len: 1,
    },
    Table {
        name: "login_failures",
        columns: &[
            column("subject_key", Kind::Text),
            column("failures", Kind::Int),
            column("last_failure_at", Kind::Int),
        ],
        key_len: 1,
    },
    Table {
        name: "signing_keys",
        columns: &[
            column("kid", Kind::Text),
            column("algorithm", Kind::Text),
            column("secret", Kind::Bytes),
            column("created_at", Kind::Int),
            column("retire_after", Kind::Int),
        ],
        key_len: 1,
    },
    Table {
        name: "device_cookies",
        columns: &[
            column("token_hash", Kind::Text),
            column("user_id", Kind::Int),
            column("created_at", Kind::Int),
            column("expires_at", Kind::Int),
        ],
        key_len: 1,
    },
];

impl Table {
    fn column_list(&self) -> String {
        let names: Vec<_> = self.columns.iter().map(|c| c.name).collect();
        names.join(", ")
    }

    fn key_list(&self) -> String {
        let names: Vec<_> = self.columns[..self.key_len]
            .iter()
            .map(|c| c.name)
            .collect();
        names.join(", ")
    }

    /// `SELECT` of one page: the rows after the key bound to the first
    /// `key_len` parameters (or from the start), in key order, `limit` at most.
    /// `placeholder(i)` spells the `i`-th parameter (from 1) in the database's SQL.
    pub(crate) fn page_query(&self, after: bool, placeholder: fn(usize) -> String) -> String {
        let mut sql = format!("SELECT {} FROM {}", self.column_list(), self.name);
        if after {
            let bounds: Vec<_> = (1..=self.key_len).map(placeholder).collect();
            sql += &format!(" WHERE ({}) > ({})", self.key_list(), bounds.join(", "));
        }
        sql += &format!(
            " ORDER BY {} LIMIT {}",
            self.key_list(),
            placeholder(self.key_len * usize::from(after) + 1)
        );
        sql
    }

    /// `INSERT` of one row, its cells bound in column order.
    pub(crate) fn insert_query(&self, placeholder: fn(usize) -> String) -> String {
        let values: Vec<_> = (1..=self.columns.len()).map(placeholder).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.name,
            self.column_list(),
            values.join(", ")
        )
    }
}

/// The cells of `row`, a row of `table` as its page query selected it.
pub(crate) fn decode<'r, R>(table: &Table, row: &'r R) -> Result<Row, StoreError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let cell = match column.kind {
                Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(Cell::Int),
                Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Cell::Bool),
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Cell::Text),
                Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Cell::Bytes),
            };
            Ok(cell.unwrap_or(Cell::Null))
        })
        .collect()
}

/// `query` with `cell`, a value of a column of `kind`, bound next; a NULL is
/// typed as its column (PostgreSQL types every parameter).
pub(crate) fn bind<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    kind: Kind,
    cell: Cell,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<bool>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Vec<u8>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    match (cell, kind) {
        (Cell::Null, Kind::Int) => query.bind(None::<i64>),
        (Cell::Null, Kind::Bool) => query.bind(None::<bool>),
        (Cell::Null, Kind::Text) => query.bind(None::<String>),
        (Cell::Null, Kind::Bytes) => query.bind(None::<Vec<u8>>),
        (Cell::Int(value), _) => query.bind(Some(value)),
        (Cell::Bool(value), _) => query.bind(Some(value)),
        (Cell::Text(value), _) => query.bind(Some(value)),
        (Cell::Bytes(value), _) => query.bind(Some(value)),
    }
}

/// Reads every table of a database in one consistent snapshot.
#[async_trait]
pub(crate) trait TableReader: Send {
    /// How many rows `table` holds.
    async fn count(&mut self, table: &'static Table) -> Result<u64, StoreError>;
    /// Up to `limit` rows of `table` in key order, after the row whose key is
    /// `after` (from the start if `None`).
    async fn page(
        &mut self,
        table: &'static Table,
        after: Option<&[Cell]>,
        limit: u32,
    ) -> Result<Vec<Row>, StoreError>;
}

/// Writes tables into a database in one transaction.
#[async_trait]
pub(crate) trait TableWriter: Send {
    /// How many rows `table` holds already.
    async fn count(&mut self, table: &'static Table) -> Result<u64, StoreError>;
    /// Inserts `rows` into `table`.
    async fn insert(&mut self, table: &'static Table, rows: &[Row]) -> Result<(), StoreError>;
    /// Makes everything written visible at once (and brings generated ids past
    /// the copied ones).
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// A database that can be copied from and into.
#[async_trait]
pub(crate) trait CopyStore: Send + Sync {
    /// A reader over a snapshot of every table.
    async fn table_reader(&self) -> Result<Box<dyn TableReader>, StoreError>;
    /// A writer whose rows appear only when it commits.
    async fn table_writer(&self) -> Result<Box<dyn TableWriter>, StoreError>;
}

/// Rows per page of a copy.
const PAGE_ROWS: u32 = 1000;

/// How a copy is going: called with the table and the rows copied of it so far.
pub(crate) trait CopyProgress: Send + Sync {
    /// Copying of `table` (of `rows` rows) begins.
    fn table(&self, table: &str, rows: u64);
    /// `rows` more rows were copied.
    fn rows(&self, rows: u64);
}

/// Rows copied, per table.
pub(crate) type CopyReport = Vec<(&'static str, u64)>;

/// Copies every table of `from` into `to`, which must hold nothing yet, all or
/// nothing; returns how many rows of each table it copied.
pub(crate) async fn copy(
    from: &dyn Store,
    to: &dyn Store,
    progress: &dyn CopyProgress,
) -> Result<CopyReport, StoreError> {
    let mut reader = from.table_reader().await?;
    let mut writer = to.table_writer().await?;
    for table in TABLES {
        let held = writer.count(table).await?;
        if held > 0 {
            return Err(StoreError::NotEmpty(format!(
                "the destination holds {held} row(s) of {}",
                table.name
            )));
        }
    }
    let mut report = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let total = reader.count(table).await?;
        progress.table(table.name, total);
        let mut copied = 0;
        let mut after: Option<Row> = None;
        loop {
            let page = reader.page(table, after.as_deref(), PAGE_ROWS).await?;
            let Some(last) = page.last() else { break };
            after = Some(last[..table.key_len].to_vec());
            writer.insert(table, &page).await?;
            copied += page.len() as u64;
            progress.rows(page.len() as u64);
        }
        report.push((table.name, copied));
    }
    writer.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question_mark(_: usize) -> String {
        "?".into()
    }

    fn dollar(i: usize) -> String {
        format!("${i}")
    }

    #[test]
    fn pages_by_the_whole_key() {
        let items = TABLES.iter().find(|t| t.name == "items").unwrap();
        assert_eq!(
            items.page_query(true, dollar),
            "SELECT owner_id, item_id, description, created_at FROM items \
             WHERE (owner_id, item_id) > ($1, $2) ORDER BY owner_id, item_id LIMIT $3"
        );
        assert_eq!(
            items.page_query(false, question_mark),
            "SELECT owner_id, item_id, description, created_at FROM items \
             ORDER BY owner_id, item_id LIMIT ?"
        );
        assert_eq!(
            items.insert_query(dollar),
            "INSERT INTO items (owner_id, item_id, description, created_at) VALUES ($1, $2, $3, $4)"
        );
    }

    #[test]
    fn parents_come_before_the_tables_that_refer_to_them() {
        let position = |name| TABLES.iter().position(|t| t.name == name).unwrap();
        for child in ["items", "sessions", "device_cookies"] {
            assert!(position("users") < position(child), "{child}");
        }
    }
}
