//! The chooser's bundle, served for `/` and every path that is no other page's.
fn main() {
    restaurant_web::start(restaurant_web::components::chooser::Home);
}
