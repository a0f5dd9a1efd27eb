//! The kitchen display's bundle, served for `/kds`.
fn main() {
    restaurant_web::start(restaurant_web::components::kds::kds);
}
