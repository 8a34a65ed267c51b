//! The two-level category tree: add top-level categories and subcategories, rename, delete.
//! The server refuses to delete a category still in use (409 `category_in_use`) and a third
//! level (422); both are shown as advice next to the row.

use relay_protocol::categories::{
    CategoryNode, CategoryTree, CreateCategoryRequest, UpdateCategoryRequest,
};
use relay_protocol::CategoryId;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::explain;
use crate::api::{self, ApiError};
use crate::components::flash::{flash, use_flashes, FlashStack, Tone};
use crate::components::notice::{EmptyState, ErrorNotice, Loading};

/// Top level by position then name, children likewise.
pub fn sorted(tree: &CategoryTree) -> Vec<CategoryNode> {
    let key = |c: &CategoryNode| (c.position, c.name.to_lowercase());
    let mut top = tree.items.clone();
    top.sort_by_key(key);
    for t in &mut top {
        t.children.sort_by_key(key);
    }
    top
}

/// The position a new category gets: after its last sibling.
pub fn next_position(siblings: &[CategoryNode]) -> i32 {
    siblings.iter().map(|c| c.position + 1).max().unwrap_or(0)
}

/// What the tree is doing right now (one inline form at a time).
#[derive(Debug, Clone, PartialEq)]
enum Editing {
    None,
    Rename(CategoryId),
    AddChild(CategoryId),
    ConfirmDelete(CategoryId),
}

#[function_component(CategoriesTab)]
pub fn categories_tab() -> Html {
    let tree = use_state(|| None::<Vec<CategoryNode>>);
    let error = use_state(|| None::<ApiError>);
    let reload = use_state(|| 0u32);
    let editing = use_state(|| Editing::None);
    let busy = use_state(|| false);
    let new_name = use_state(String::new);
    let new_description = use_state(String::new);
    let new_error = use_state(|| None::<ApiError>);
    let flashes = use_flashes();

    {
        let (tree, error) = (tree.clone(), error.clone());
        use_effect_with(*reload, move |_| {
            spawn_local(async move {
                match api::categories::tree().await {
                    Ok(t) => {
                        error.set(None);
                        tree.set(Some(sorted(&t)));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    // Runs one change, then reloads the tree (positions and children come from the server).
    let run = {
        let (reload, busy, editing, flashes) = (
            reload.clone(),
            busy.clone(),
            editing.clone(),
            flashes.dispatcher(),
        );
        Callback::from(move |(job, done): (Job, String)| {
            busy.set(true);
            let (reload, busy, editing, flashes) = (
                reload.clone(),
                busy.clone(),
                editing.clone(),
                flashes.clone(),
            );
            spawn_local(async move {
                match job.await {
                    Ok(()) => {
                        flash(&flashes, Tone::Success, done);
                        editing.set(Editing::None);
                        reload.set(*reload + 1);
                    }
                    Err(e) => flash(&flashes, Tone::Error, explain(&e)),
                }
                busy.set(false);
            });
        })
    };

    let on_add_top = {
        let (new_name, new_description, new_error, busy, reload, flashes, tree) = (
            new_name.clone(),
            new_description.clone(),
            new_error.clone(),
            busy.clone(),
            reload.clone(),
            flashes.dispatcher(),
            tree.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let name = new_name.trim().to_owned();
            let body = CreateCategoryRequest {
                name: name.clone(),
                description: new_description.trim().to_owned(),
                parent_id: None,
                position: Some(next_position(tree.as_deref().unwrap_or(&[]))),
            };
            busy.set(true);
            let (new_name, new_description, new_error, busy, reload, flashes) = (
                new_name.clone(),
                new_description.clone(),
                new_error.clone(),
                busy.clone(),
                reload.clone(),
                flashes.clone(),
            );
            spawn_local(async move {
                match api::category_edits::create(&body).await {
                    Ok(_) => {
                        new_error.set(None);
                        new_name.set(String::new());
                        new_description.set(String::new());
                        flash(&flashes, Tone::Success, format!("Added “{name}”."));
                        reload.set(*reload + 1);
                    }
                    Err(e) => new_error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };

    let body = match ((*tree).clone(), (*error).clone()) {
        (_, Some(e)) => {
            let reload = reload.clone();
            html! { <ErrorNotice error={e} on_retry={Callback::from(move |_| reload.set(*reload + 1))} /> }
        }
        (None, None) => html! { <Loading label="Loading categories…" /> },
        (Some(items), None) if items.is_empty() => html! {
            <EmptyState title="No categories yet">
                <p class="muted">{ "Add the first one below: customers pick it when they open a ticket." }</p>
            </EmptyState>
        },
        (Some(items), None) => html! {
            <ul class="cat-tree card card-flush" id="category-tree">
                { for items.iter().map(|top| html! {
                    <li class="cat-node" key={top.id.0}>
                        <CategoryRow node={top.clone()} editing={(*editing).clone()} busy={*busy}
                            set_editing={{ let e = editing.clone(); Callback::from(move |v| e.set(v)) }}
                            run={run.clone()} siblings={top.children.clone()} />
                        if !top.children.is_empty() {
                            <ul class="cat-children">
                                { for top.children.iter().map(|child| html! {
                                    <li class="cat-node cat-child" key={child.id.0}>
                                        <CategoryRow node={child.clone()} editing={(*editing).clone()} busy={*busy}
                                            set_editing={{ let e = editing.clone(); Callback::from(move |v| e.set(v)) }}
                                            run={run.clone()} siblings={Vec::new()} />
                                    </li>
                                }) }
                            </ul>
                        }
                    </li>
                }) }
            </ul>
        },
    };

    let field_error = |name: &str| {
        (*new_error).as_ref().and_then(|e| {
            e.field(name)
                .map(super::users::sentence)
                .or_else(|| (name == "name" && e.fields.is_empty()).then(|| explain(e)))
        })
    };
    html! {
        <div class="stack">
            { body }
            <form class="card form-card" onsubmit={on_add_top} aria-labelledby="cat-new-title">
                <h2 class="card-title" id="cat-new-title">{ "Add a top-level category" }</h2>
                <div class="field-row">
                    <crate::components::form::TextField id="cat-new-name" label="Name"
                        value={(*new_name).clone()} required=true error={field_error("name")}
                        on_change={{ let h = new_name.clone(); Callback::from(move |v| h.set(v)) }} />
                    <crate::components::form::TextField id="cat-new-description" label="Description (optional)"
                        value={(*new_description).clone()} error={field_error("description")}
                        on_change={{ let h = new_description.clone(); Callback::from(move |v| h.set(v)) }} />
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary" disabled={*busy || new_name.trim().is_empty()}>
                        { "Add category" }
                    </button>
                </div>
            </form>
            <FlashStack flashes={flashes.clone()} />
        </div>
    }
}

type Job = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>;

#[derive(Properties, PartialEq)]
struct CategoryRowProps {
    node: CategoryNode,
    editing: Editing,
    busy: bool,
    set_editing: Callback<Editing>,
    run: Callback<(Job, String)>,
    /// The node's children (top level) for the position of a new subcategory.
    siblings: Vec<CategoryNode>,
}

#[function_component(CategoryRow)]
fn category_row(props: &CategoryRowProps) -> Html {
    let node = &props.node;
    let id = node.id;
    let top = node.parent_id.is_none();
    let name = use_state(|| node.name.clone());
    let description = use_state(|| node.description.clone());
    let child_name = use_state(String::new);
    {
        // Each rename starts from the saved name, not from an abandoned edit.
        let (name, description, node) = (name.clone(), description.clone(), node.clone());
        use_effect_with(props.editing.clone(), move |editing| {
            if *editing == Editing::Rename(node.id) {
                name.set(node.name.clone());
                description.set(node.description.clone());
            }
        });
    }

    let set = |e: Editing| {
        let cb = props.set_editing.clone();
        Callback::from(move |_: MouseEvent| cb.emit(e.clone()))
    };
    let on_rename = {
        let (name, description, run, node) = (
            name.clone(),
            description.clone(),
            props.run.clone(),
            node.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let new_name = name.trim().to_owned();
            let body = UpdateCategoryRequest {
                name: (new_name != node.name).then(|| new_name.clone()),
                description: (description.trim() != node.description)
                    .then(|| description.trim().to_owned()),
                ..Default::default()
            };
            let job: Job =
                Box::pin(async move { api::category_edits::update(id, &body).await.map(drop) });
            run.emit((job, format!("Saved “{new_name}”.")));
        })
    };
    let on_add_child = {
        let (child_name, run, siblings) = (
            child_name.clone(),
            props.run.clone(),
            props.siblings.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let n = child_name.trim().to_owned();
            let body = CreateCategoryRequest {
                name: n.clone(),
                description: String::new(),
                parent_id: Some(id),
                position: Some(next_position(&siblings)),
            };
            child_name.set(String::new());
            let job: Job =
                Box::pin(async move { api::category_edits::create(&body).await.map(drop) });
            run.emit((job, format!("Added “{n}”.")));
        })
    };
    let on_delete = {
        let (run, n) = (props.run.clone(), node.name.clone());
        Callback::from(move |_: MouseEvent| {
            let job: Job = Box::pin(async move { api::category_edits::delete(id).await });
            run.emit((job, format!("Deleted “{n}”.")));
        })
    };
    let on_key = {
        let cb = props.set_editing.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                cb.emit(Editing::None);
            }
        })
    };

    let row = match &props.editing {
        Editing::Rename(x) if *x == id => html! {
            <form class="cat-row cat-row-editing" onsubmit={on_rename} onkeydown={on_key.clone()}>
                <label class="visually-hidden" for={format!("cat-{id}-name")}>{ "Name" }</label>
                <input id={format!("cat-{id}-name")} type="text" value={(*name).clone()} required=true
                    oninput={{ let h = name.clone(); move |e: InputEvent| if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() { h.set(i.value()) } }} />
                <label class="visually-hidden" for={format!("cat-{id}-description")}>{ "Description" }</label>
                <input id={format!("cat-{id}-description")} type="text" placeholder="Description"
                    value={(*description).clone()}
                    oninput={{ let h = description.clone(); move |e: InputEvent| if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() { h.set(i.value()) } }} />
                <span class="row-actions">
                    <button type="submit" class="btn btn-small btn-primary" disabled={props.busy}>{ "Save" }</button>
                    <button type="button" class="btn btn-small btn-ghost" onclick={set(Editing::None)}>{ "Cancel" }</button>
                </span>
            </form>
        },
        editing => {
            let confirming = *editing == Editing::ConfirmDelete(id);
            html! {
                <div class="cat-row" data-category-id={id.to_string()}>
                    <span class="cat-text">
                        <span class="cat-name">{ node.name.clone() }</span>
                        if !node.description.is_empty() {
                            <span class="muted cat-description">{ node.description.clone() }</span>
                        }
                    </span>
                    if top && !node.children.is_empty() {
                        <span class="badge cat-count">{ format!("{} sub", node.children.len()) }</span>
                    }
                    <span class="row-actions">
                        if confirming {
                            <button type="button" class="btn btn-small btn-danger" disabled={props.busy}
                                onclick={on_delete}>{ format!("Delete “{}”", node.name) }</button>
                            <button type="button" class="btn btn-small btn-ghost" onclick={set(Editing::None)}>{ "Cancel" }</button>
                        } else {
                            if top {
                                <button type="button" class="btn btn-small btn-ghost"
                                    onclick={set(Editing::AddChild(id))}>{ "Add subcategory" }</button>
                            }
                            <button type="button" class="btn btn-small btn-ghost"
                                onclick={set(Editing::Rename(id))}>{ "Rename" }</button>
                            <button type="button" class="btn btn-small btn-ghost danger-text"
                                onclick={set(Editing::ConfirmDelete(id))}>{ "Delete" }</button>
                        }
                    </span>
                </div>
            }
        }
    };
    let add_child = (props.editing == Editing::AddChild(id)).then(|| html! {
        <form class="cat-row cat-row-editing cat-add-child" onsubmit={on_add_child} onkeydown={on_key.clone()}>
            <label class="visually-hidden" for={format!("cat-{id}-child")}>{ format!("New subcategory of {}", node.name) }</label>
            <input id={format!("cat-{id}-child")} type="text" placeholder={format!("New subcategory of {}", node.name)}
                value={(*child_name).clone()} required=true
                oninput={{ let h = child_name.clone(); move |e: InputEvent| if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() { h.set(i.value()) } }} />
            <span class="row-actions">
                <button type="submit" class="btn btn-small btn-primary" disabled={props.busy}>{ "Add" }</button>
                <button type="button" class="btn btn-small btn-ghost" onclick={set(Editing::None)}>{ "Cancel" }</button>
            </span>
        </form>
    });
    html! {
        <>
            { row }
            { for add_child }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn tree_sorts_by_position_then_name_on_both_levels() {
        let tree = CategoryTree {
            items: vec![
                node(
                    1,
                    "software",
                    1,
                    vec![node(3, "b", 0, vec![]), node(2, "A", 0, vec![])],
                ),
                node(4, "Hardware", 0, vec![]),
            ],
        };
        let s = sorted(&tree);
        assert_eq!(s[0].name, "Hardware");
        let kids: Vec<&str> = s[1].children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(kids, ["A", "b"]);
    }

    #[test]
    fn new_categories_go_last() {
        assert_eq!(next_position(&[]), 0);
        assert_eq!(
            next_position(&[node(1, "a", 4, vec![]), node(2, "b", 1, vec![])]),
            5
        );
    }
}
