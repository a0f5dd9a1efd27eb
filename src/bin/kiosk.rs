//! The kiosk's bundle, served for `/kiosk`.
fn main() {
    restaurant_web::start(restaurant_web::components::kiosk::KioskPage);
}
