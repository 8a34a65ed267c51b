//! Labelled form controls with their error message wired up for assistive tech
//! (`aria-invalid`, `aria-describedby`), so every form in the app behaves the same.

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::api::ApiError;

/// The `on_change` of a text field that keeps its value in `state`.
pub fn bind(state: &UseStateHandle<String>) -> Callback<String> {
    let state = state.clone();
    Callback::from(move |v: String| state.set(v))
}

/// What the server said about field `name` in the last error, if anything.
pub fn field_message(error: &Option<ApiError>, name: &str) -> Option<String> {
    error
        .as_ref()
        .and_then(|e| e.field(name))
        .map(str::to_owned)
}

#[derive(Properties, PartialEq)]
pub struct TextFieldProps {
    /// Also the element id; keep unique per page.
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub on_change: Callback<String>,
    #[prop_or(AttrValue::Static("text"))]
    pub input_type: AttrValue,
    #[prop_or_default]
    pub autocomplete: Option<AttrValue>,
    #[prop_or_default]
    pub required: bool,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    #[prop_or_default]
    pub error: Option<String>,
    #[prop_or_default]
    pub minlength: Option<AttrValue>,
    #[prop_or_default]
    pub maxlength: Option<AttrValue>,
    #[prop_or_default]
    pub inputmode: Option<AttrValue>,
}

#[function_component(TextField)]
pub fn text_field(props: &TextFieldProps) -> Html {
    let oninput = {
        let cb = props.on_change.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                cb.emit(input.value());
            }
        })
    };
    let hint_id = format!("{}-hint", props.id);
    let error_id = format!("{}-error", props.id);
    let described_by = described_by(
        props.hint.as_ref().map(|_| hint_id.as_str()),
        props.error.as_ref().map(|_| error_id.as_str()),
    );
    html! {
        <div class={classes!("field", props.error.is_some().then_some("field-invalid"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <input
                id={props.id.clone()}
                name={props.id.clone()}
                type={props.input_type.clone()}
                value={props.value.clone()}
                {oninput}
                required={props.required}
                autocomplete={props.autocomplete.clone()}
                minlength={props.minlength.clone()}
                maxlength={props.maxlength.clone()}
                inputmode={props.inputmode.clone()}
                aria-invalid={props.error.is_some().then_some("true")}
                aria-describedby={described_by}
            />
            if let Some(hint) = &props.hint {
                <p class="field-hint" id={hint_id}>{ hint.clone() }</p>
            }
            if let Some(error) = &props.error {
                <p class="field-error" id={error_id}>{ error.clone() }</p>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct TextAreaFieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub on_change: Callback<String>,
    #[prop_or(6)]
    pub rows: u32,
    #[prop_or_default]
    pub error: Option<String>,
}

#[function_component(TextAreaField)]
pub fn text_area_field(props: &TextAreaFieldProps) -> Html {
    let oninput = {
        let cb = props.on_change.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() {
                cb.emit(area.value());
            }
        })
    };
    let error_id = format!("{}-error", props.id);
    html! {
        <div class={classes!("field", props.error.is_some().then_some("field-invalid"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <textarea
                id={props.id.clone()}
                name={props.id.clone()}
                rows={props.rows.to_string()}
                value={props.value.clone()}
                {oninput}
                aria-invalid={props.error.is_some().then_some("true")}
                aria-describedby={props.error.as_ref().map(|_| error_id.clone())}
            />
            if let Some(error) = &props.error {
                <p class="field-error" id={error_id}>{ error.clone() }</p>
            }
        </div>
    }
}

/// The `value` of the `<select>` that fired `e`.
pub fn select_value(e: &Event) -> Option<String> {
    e.target_dyn_into::<HtmlSelectElement>().map(|s| s.value())
}

fn described_by(hint: Option<&str>, error: Option<&str>) -> Option<String> {
    let ids: Vec<&str> = hint.into_iter().chain(error).collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

#[cfg(test)]
mod tests {
    use super::described_by;

    #[test]
    fn describedby_lists_what_is_shown() {
        assert_eq!(described_by(None, None), None);
        assert_eq!(described_by(Some("h"), None).as_deref(), Some("h"));
        assert_eq!(described_by(Some("h"), Some("e")).as_deref(), Some("h e"));
    }
}
