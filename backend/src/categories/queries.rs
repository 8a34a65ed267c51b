//! Category rows and queries. The two-level rule is also enforced by a trigger.

use crate::db::schema::{categories, tickets};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use relay_protocol::categories::CategoryNode;
use relay_protocol::{CategoryId, ErrorCode};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = categories)]
pub struct Category {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = categories)]
pub struct CategoryChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub parent_id: Option<Option<i64>>,
    pub position: Option<i32>,
}

impl Category {
    fn node(&self) -> CategoryNode {
        CategoryNode {
            id: CategoryId(self.id),
            name: self.name.clone(),
            description: self.description.clone(),
            parent_id: self.parent_id.map(CategoryId),
            position: self.position,
            children: Vec::new(),
        }
    }
}

pub fn find(conn: &mut PgConnection, id: i64) -> AppResult<Category> {
    categories::table
        .find(id)
        .select(Category::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("category"))
}

pub fn tree(conn: &mut PgConnection) -> AppResult<Vec<CategoryNode>> {
    let rows: Vec<Category> = categories::table
        .select(Category::as_select())
        .order((categories::position.asc(), categories::name.asc()))
        .load(conn)?;
    let mut roots: Vec<CategoryNode> = rows
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(Category::node)
        .collect();
    for root in &mut roots {
        root.children = rows
            .iter()
            .filter(|c| c.parent_id == Some(root.id.0))
            .map(Category::node)
            .collect();
    }
    Ok(roots)
}

fn map_write_error(e: diesel::result::Error) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::conflict(
            ErrorCode::Conflict,
            "a category with this name already exists here",
        ),
        Error::DatabaseError(DatabaseErrorKind::CheckViolation, info)
            if info.constraint_name() == Some("categories_two_levels")
                || info.message().contains("two levels") =>
        {
            AppError::invalid(
                "parent_id",
                "categories are two levels deep: pick a top-level parent",
            )
        }
        Error::DatabaseError(DatabaseErrorKind::CheckViolation, _) => {
            AppError::invalid("name", "must be 1 to 80 characters")
        }
        Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            AppError::invalid("parent_id", "no such category")
        }
        _ => e.into(),
    }
}

pub fn insert(
    conn: &mut PgConnection,
    name: &str,
    description: &str,
    parent_id: Option<i64>,
    position: i32,
) -> AppResult<CategoryNode> {
    let row: Category = diesel::insert_into(categories::table)
        .values((
            categories::name.eq(name),
            categories::description.eq(description),
            categories::parent_id.eq(parent_id),
            categories::position.eq(position),
        ))
        .returning(Category::as_returning())
        .get_result(conn)
        .map_err(map_write_error)?;
    Ok(row.node())
}

pub fn update(
    conn: &mut PgConnection,
    id: i64,
    changes: CategoryChanges,
) -> AppResult<CategoryNode> {
    let current = find(conn, id)?;
    if changes.name.is_none()
        && changes.description.is_none()
        && changes.parent_id.is_none()
        && changes.position.is_none()
    {
        return Ok(current.node());
    }
    let row: Category = diesel::update(categories::table.find(id))
        .set(&changes)
        .returning(Category::as_returning())
        .get_result(conn)
        .map_err(map_write_error)?;
    Ok(row.node())
}

/// Deletes an unused category; one with tickets or subcategories is refused (409).
pub fn delete(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    conn.transaction(|conn| {
        find(conn, id)?;
        let children: i64 = categories::table
            .filter(categories::parent_id.eq(id))
            .count()
            .get_result(conn)?;
        let used: i64 = tickets::table
            .filter(tickets::category_id.eq(id))
            .count()
            .get_result(conn)?;
        if children > 0 || used > 0 {
            return Err(AppError::conflict(
                ErrorCode::CategoryInUse,
                format!("the category has {children} subcategories and {used} tickets"),
            ));
        }
        diesel::delete(categories::table.find(id)).execute(conn)?;
        Ok(())
    })
}
