// The migrations are embedded in the binary (`db::MIGRATIONS`): a new or edited
// migration must rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
