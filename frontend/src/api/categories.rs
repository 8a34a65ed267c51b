//! `/api/categories`: the two-level category tree, flattened for a `<select>`.

use relay_protocol::categories::CategoryTree;
use relay_protocol::CategoryId;

use super::{get, ApiError};

pub async fn tree() -> Result<CategoryTree, ApiError> {
    get("/api/categories").await
}

/// One `<optgroup>` per top-level category. A top-level category without children is
/// itself selectable, in a group of its own name.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryGroup {
    pub label: String,
    pub options: Vec<(CategoryId, String)>,
}

pub fn select_groups(tree: &CategoryTree) -> Vec<CategoryGroup> {
    let mut top: Vec<_> = tree.items.iter().collect();
    top.sort_by_key(|c| (c.position, c.name.to_lowercase()));
    top.into_iter()
        .map(|parent| {
            let mut children: Vec<_> = parent.children.iter().collect();
            children.sort_by_key(|c| (c.position, c.name.to_lowercase()));
            let options = if children.is_empty() {
                vec![(parent.id, parent.name.clone())]
            } else {
                children
                    .into_iter()
                    .map(|c| (c.id, c.name.clone()))
                    .collect()
            };
            CategoryGroup {
                label: parent.name.clone(),
                options,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_protocol::categories::CategoryNode;

    fn node(id: i64, name: &str, position: i32, children: Vec<CategoryNode>) -> CategoryNode {
        CategoryNode {
            id: CategoryId(id),
            name: name.into(),
            description: String::new(),
            parent_id: None,
            position,
            children,
        }
    }

    #[test]
    fn groups_follow_position_then_name() {
        let tree = CategoryTree {
            items: vec![
                node(
                    1,
                    "Software",
                    2,
                    vec![node(11, "Email", 1, vec![]), node(12, "CRM", 0, vec![])],
                ),
                node(2, "Hardware", 1, vec![node(21, "Printers", 0, vec![])]),
                node(3, "Other", 3, vec![]),
            ],
        };
        let groups = select_groups(&tree);
        let labels: Vec<_> = groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["Hardware", "Software", "Other"]);
        assert_eq!(
            groups[1].options,
            vec![
                (CategoryId(12), "CRM".to_owned()),
                (CategoryId(11), "Email".to_owned())
            ]
        );
        // A leaf top-level category stays selectable.
        assert_eq!(groups[2].options, vec![(CategoryId(3), "Other".to_owned())]);
    }
}
