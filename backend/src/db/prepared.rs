//! Statements of the message hot path, written out so diesel keeps them prepared.
//!
//! diesel prepares a statement once per connection and reuses it only when the query
//! has a static type: its UPDATE builder, `sql_query` and multi-row `VALUES` inserts are
//! parsed and planned by PostgreSQL on every call. For the statements a chat message
//! runs, planning alone was a fifth of their PostgreSQL time (pg_stat_statements, 2,000
//! messages/s: 0.92 s of planning beside 3.4 s of execution in 8 s). The types made with
//! `prepared!` have fixed SQL (arrays where a batch varies in size), so each is prepared
//! once per pooled connection and PostgreSQL settles on a generic plan (at 1M tickets
//! still the primary-key index; an ANALYZE of a grown table re-plans them).

/// Makes `$ty` (a `QueryFragment<Pg>` whose SQL never changes) a query diesel caches
/// as a prepared statement: a static query id, the row type `$sql_type`, and
/// `RunQueryDsl`.
macro_rules! prepared {
    ($ty:ident, $sql_type:ty) => {
        impl diesel::query_builder::QueryId for $ty {
            type QueryId = $ty;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl diesel::query_builder::Query for $ty {
            type SqlType = $sql_type;
        }
        impl diesel::RunQueryDsl<diesel::PgConnection> for $ty {}
    };
    ($ty:ident<$l:lifetime>, $sql_type:ty) => {
        impl<$l> diesel::query_builder::QueryId for $ty<$l> {
            type QueryId = $ty<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl<$l> diesel::query_builder::Query for $ty<$l> {
            type SqlType = $sql_type;
        }
        impl<$l> diesel::RunQueryDsl<diesel::PgConnection> for $ty<$l> {}
    };
}
pub(crate) use prepared;
